/** API keys in AWS: the ingestion methods require one, a usage plan on the API's stage meters it (throttle, quota), and its ID is a stack output. */
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { IConstruct } from 'constructs';
import { EVENT_TYPES } from '../../pipelines/adtech/events';
import { IngestionApi } from '../../lib/ingestion-api';
import type { SdpStack } from '../../lib/sdp-stack';
import { synthesize, type Json } from './synth';

let stack: SdpStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  ({ stack, template } = synthesize({ bundling: false }));
  resources = template.toJSON().Resources;
});

const id = (c: IConstruct): string => stack.getLogicalId(c.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('methods', () => {
  it.each(EVENT_TYPES)('POST /%s requires an API key', (type) => {
    const method = stack.ingestionApi.restApi.methods.find((m) => m.httpMethod === 'POST' && m.resource.path === `/${type}`);
    expect(method).toBeDefined();
    expect(resources[id(method!)].Properties).toMatchObject({ HttpMethod: 'POST', ApiKeyRequired: true });
  });

  it('the ingestion and prediction POSTs are the only methods that require one (reports and the model view stay keyless)', () => {
    const keyed = stack.ingestionApi.restApi.methods
      .filter((m) => resources[id(m)].Properties.ApiKeyRequired === true)
      .map((m) => `${m.httpMethod} ${m.resource.path}`)
      .sort();
    // Predictions are a paid product API (each one a SageMaker invocation): keyed, throttled, metered.
    expect(keyed).toEqual([...EVENT_TYPES.map((t) => `POST /${t}`), 'POST /predictions'].sort());
    expect(ofType('AWS::ApiGateway::Method').length).toBeGreaterThan(keyed.length);
  });
});

describe('usage plan', () => {
  it('is one plan, throttling each key at 1000 requests/s with bursts of 2000 and a quota of 100M requests a month', () => {
    const plans = ofType('AWS::ApiGateway::UsagePlan');
    expect(plans).toHaveLength(1);
    expect(plans[0][1].Properties).toMatchObject({
      Throttle: { RateLimit: 1000, BurstLimit: 2000 },
      Quota: { Limit: 100_000_000, Period: 'MONTH' },
    });
  });

  it("is attached to the API's deployment stage", () => {
    const api = stack.ingestionApi.restApi;
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      ApiStages: [{ ApiId: { Ref: id(api) }, Stage: { Ref: id(api.deploymentStage) } }],
    });
  });

  it('holds the stack\'s key', () => {
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: { Ref: id(stack.ingestionApi.apiKey) },
      KeyType: 'API_KEY',
      UsagePlanId: { Ref: id(stack.ingestionApi.usagePlan) },
    });
  });
});

describe('API key', () => {
  it('is one enabled key named sdp-ingestion whose value API Gateway generates (never in the template)', () => {
    const keys = ofType('AWS::ApiGateway::ApiKey');
    expect(keys).toHaveLength(1);
    expect(keys[0][1].Properties).toMatchObject({ Name: 'sdp-ingestion', Enabled: true });
    expect(keys[0][1].Properties.Value).toBeUndefined();
  });

  it('has its ID in the output IngestionApiKeyId, with how to fetch the value', () => {
    const output = template.findOutputs('IngestionApiKeyId').IngestionApiKeyId;
    expect(output.Value).toEqual({ Ref: id(stack.ingestionApi.apiKey) });
    expect(output.Description).toContain('aws apigateway get-api-key --api-key <id> --include-value');
  });
});

it('takes the key name, per-key throttling and quota as props', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const s = new Stack(app, 'Custom');
  new IngestionApi(s, 'Ingestion', {
    eventsStream: new kinesis.Stream(s, 'Events'),
    apiKeyName: 'partner-a',
    apiKeyRateLimit: 50,
    apiKeyBurstLimit: 100,
    apiKeyMonthlyQuota: 1_000_000,
  });
  const t = Template.fromStack(s);
  t.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
    Throttle: { RateLimit: 50, BurstLimit: 100 },
    Quota: { Limit: 1_000_000, Period: 'MONTH' },
  });
  t.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: 'partner-a' });
});
