/**
 * The API derived from the stack's pipelines: with `-c sdp:pipelines=adtech,telemetry` the REST API
 * has telemetry's POST /reading (API key, the one ingest function behind it, which validates the
 * body by the stream's schema: no API Gateway model judges it first, request-bodies.test.ts) and its
 * report routes /reports/devices/{device_id}/{metric}[/period] on the one reports function, beside
 * adtech's; GET / lists exactly those; a bad value fails synth naming the option; and every
 * function's bundle injects the entry that registers the pipelines.
 */
import { readFileSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { SdpStack } from '../../lib/sdp-stack';
import { stackPipeline } from '../../lib/stack-pipeline';
import { apiIndex } from '../../schemas/api-index';
import { synthesize, type Json } from './synth';

let stack: SdpStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  ({ stack, template } = synthesize({ bundling: false, context: { 'sdp:pipelines': 'adtech,telemetry' } }));
  resources = template.toJSON().Resources;
});

const methods = () => stack.ingestionApi.restApi.methods.filter((m) => m.httpMethod !== 'OPTIONS');
const props = (m: { node: { defaultChild?: unknown } }) => resources[stack.getLogicalId(m.node.defaultChild as CfnElement)].Properties;
const integrationOf = (m: { node: { defaultChild?: unknown } }) => JSON.stringify(props(m).Integration.Uri);
const fnRef = (fn: { lambdaFunction: { node: { defaultChild?: unknown } } }) => stack.getLogicalId(fn.lambdaFunction.node.defaultChild as CfnElement);

describe('-c sdp:pipelines=adtech,telemetry', () => {
  it('has POST /reading, keyed, on the one ingest function, beside /bid, /impression and /click', () => {
    const posts = methods().filter((m) => m.httpMethod === 'POST' && m.resource.path !== '/predictions');
    expect(posts.map((m) => m.resource.path).sort()).toEqual(['/bid', '/click', '/impression', '/reading']);
    for (const post of posts) {
      expect(props(post)).toMatchObject({ ApiKeyRequired: true, Integration: { Type: 'AWS_PROXY' } });
      expect(integrationOf(post)).toContain(fnRef(stack.ingestionApi.ingestFunction));
    }
  });

  it('has GET /reports/devices/{device_id}/{metric} and its /period on the one reports function, keyless', () => {
    const reports = methods().filter((m) => m.resource.path.startsWith('/reports/'));
    expect(reports.map((m) => m.resource.path).sort()).toEqual([
      '/reports/campaigns/{campaign_item_id}',
      '/reports/campaigns/{campaign_item_id}/period',
      '/reports/devices/{device_id}/{metric}',
      '/reports/devices/{device_id}/{metric}/period',
    ]);
    for (const get of reports) {
      expect(props(get).ApiKeyRequired).not.toBe(true);
      expect(integrationOf(get)).toContain(fnRef(stack.reportsApi.reportsFunction));
    }
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{metric}' });
  });

  it('lists exactly its methods in GET /', () => {
    const deployed = methods().map((m) => `${m.httpMethod} ${m.resource.path}`).sort();
    const listed = apiIndex({ home: 'aws', consoleUrl: 'https://console.example/' }, stackPipeline(stack).pipeline).routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(listed).toEqual(deployed);
  });

  it('bundles every function with the entry registering both pipelines', () => {
    const { injectFile, files } = stackPipeline(stack);
    expect(files.map((f) => f.split('/').pop())).toEqual(['adtech.ts', 'telemetry.ts']);
    const source = readFileSync(injectFile, 'utf8');
    expect(source).toMatch(/import p0 from '.*pipelines\/adtech';/);
    expect(source).toMatch(/import p1 from '.*pipelines\/telemetry';/);
    expect(source).toContain('usePipeline(combinePipelines([p0, p1]));');
  });
});

it.each([
  ['nonesuch', /sdp:pipelines: no pipeline nonesuch/],
  [',', /sdp:pipelines must be pipeline names or files/],
  ['adtech,adtech', /sdp:pipelines: .*two streams are named bid/s],
])('-c sdp:pipelines=%s fails synth naming the option', (value, message) => {
  expect(() => synthesize({ bundling: false, context: { 'sdp:pipelines': value } })).toThrow(message);
});
