/**
 * GET / in AWS: a mock integration on the REST API's root answering the index of
 * schemas/api-index.ts, which lists exactly the API's methods (and the console's URL), with no
 * Lambda behind it and no API key.
 */
import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { SdpStack } from '../../lib/sdp-stack';
import { indexTemplate } from '../../lib/api-index';
import { apiIndex } from '../../schemas/api-index';
import { synthesize, type Json } from './synth';

let stack: SdpStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  ({ stack, template } = synthesize({ bundling: false }));
  resources = template.toJSON().Resources;
});

const rootGet = () => stack.ingestionApi.restApi.methods.find((m) => m.httpMethod === 'GET' && m.resource.path === '/');

describe('GET / on the REST API', () => {
  it('is a keyless mock integration answering 200 with the index as JSON', () => {
    const method = rootGet();
    expect(method).toBeDefined();
    const props = resources[stack.getLogicalId(method!.node.defaultChild as CfnElement)].Properties;
    expect(props).toMatchObject({ HttpMethod: 'GET', AuthorizationType: 'NONE', Integration: { Type: 'MOCK', ContentHandling: 'CONVERT_TO_TEXT', RequestTemplates: { 'application/json': '{"statusCode": 200}' } } });
    expect(props.ApiKeyRequired).not.toBe(true);
    const [response] = props.Integration.IntegrationResponses;
    expect(response).toMatchObject({ StatusCode: '200', ResponseParameters: { 'method.response.header.Content-Type': "'application/json'" } });
    // The template joins the console's URL (the CloudFront domain) into the static JSON.
    const body = response.ResponseTemplates['application/json'];
    expect(JSON.stringify(body)).toContain('DomainName');
  });

  it('lists exactly the methods of the API, with the API key each needs', () => {
    const deployed = stack.ingestionApi.restApi.methods
      .filter((m) => m.httpMethod !== 'OPTIONS')
      .map((m) => `${m.httpMethod} ${m.resource.path} key=${resources[stack.getLogicalId(m.node.defaultChild as CfnElement)].Properties.ApiKeyRequired === true}`)
      .sort();
    const listed = apiIndex({ home: 'aws', consoleUrl: 'https://console.example/' }).routes.map((r) => `${r.method} ${r.path} key=${r.apiKey}`).sort();
    expect(listed).toEqual(deployed);
  });

  it('holds no Velocity syntax ($ or #) that API Gateway would evaluate', () => {
    const text = indexTemplate('https://console.example/');
    expect(text).not.toMatch(/[$#]/);
    expect(JSON.parse(text)).toMatchObject({ name: 'sdp', console: 'https://console.example/' });
  });
});
