/**
 * The bid-win model is part of the ad-tech pipeline's declaration (`model: 'bid-win'`): a stack of
 * telemetry alone has no retraining state machine, no SageMaker resources, no /predictions or
 * /models/current, no UrlForPredictions output, no retraining alarm and no saved query over ad-tech
 * tables, and its GET / says nothing of a model; a stack with adtech has all of them, as before.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import type { SdpStack } from '../../lib/sdp-stack';
import { stackPipeline } from '../../lib/stack-pipeline';
import { apiIndex } from '../../schemas/api-index';
import { synthesize } from './synth';

const paths = (stack: SdpStack) => stack.ingestionApi.restApi.methods.filter((m) => m.httpMethod !== 'OPTIONS').map((m) => `${m.httpMethod} ${m.resource.path}`);
const typesOf = (template: Template) => Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
const namedQueries = (template: Template) => Object.values(template.findResources('AWS::Athena::NamedQuery')).map((r) => r.Properties.Name as string).sort();

describe('-c sdp:pipelines=telemetry', () => {
  let stack: SdpStack;
  let template: Template;
  beforeAll(() => {
    ({ stack, template } = synthesize({ bundling: false, context: { 'sdp:pipelines': 'telemetry' } }));
  });

  it('has no retraining, no SageMaker and no model routes', () => {
    expect(stack.retraining).toBeUndefined();
    expect(stack.predictionsApi).toBeUndefined();
    const types = typesOf(template);
    expect(types).not.toContain('AWS::StepFunctions::StateMachine');
    expect(types.filter((t) => t.startsWith('AWS::SageMaker::'))).toEqual([]);
    expect(paths(stack)).not.toContain('POST /predictions');
    expect(paths(stack)).not.toContain('GET /models/current');
    template.resourcePropertiesCountIs('AWS::ApiGateway::Resource', { PathPart: 'predictions' }, 0);
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('UrlForPredictions');
    expect(stack.observability.retrainingFailedAlarm).toBeUndefined();
  });

  it('saves no query over ad-tech tables, and its GET / names no model', () => {
    expect(namedQueries(template)).toEqual([]);
    const index = apiIndex({ home: 'aws', consoleUrl: 'https://console.example/' }, stackPipeline(stack).pipeline);
    expect(index.description).not.toMatch(/model/);
    expect(index.routes.map((r) => r.path)).not.toContain('/predictions');
  });
});

describe('-c sdp:pipelines=adtech,telemetry', () => {
  it('has the model whole, as adtech alone does', () => {
    const { stack, template } = synthesize({ bundling: false, context: { 'sdp:pipelines': 'adtech,telemetry' } });
    expect(stack.retraining).toBeDefined();
    expect(typesOf(template)).toContain('AWS::StepFunctions::StateMachine');
    expect(paths(stack)).toEqual(expect.arrayContaining(['POST /predictions', 'GET /models/current']));
    expect(Object.keys(template.toJSON().Outputs)).toContain('UrlForPredictions');
    expect(stack.observability.retrainingFailedAlarm).toBeDefined();
    expect(namedQueries(template)).toEqual(['campaign-performance-by-hour', 'ctr-by-domain', 'late-events', 'win-rate-by-price-bucket']);
  });
});
