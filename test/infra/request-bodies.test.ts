/**
 * How request bodies reach the Lambdas in AWS (lib/ingestion-api.ts): API Gateway decompresses
 * gzip/deflate bodies of any size (minimumCompressionSize 0), hands every body over as its bytes
 * (binaryMediaTypes "every type", so the handlers decode the text strictly), answers other codings 415 naming
 * the accepted ones, and no request validator or model stands before the handlers.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ACCEPTED_CONTENT_CODINGS } from '../../lambdas/commons/body';
import { synthesize, type Json } from './synth';

let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  ({ template } = synthesize({ bundling: false }));
  resources = template.toJSON().Resources;
});

const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

it('is one REST API that decompresses request bodies of any size and treats every media type as binary', () => {
  const apis = ofType('AWS::ApiGateway::RestApi');
  expect(apis).toHaveLength(1);
  // "If the payload size is smaller than this value, compression or decompression are not applied
  // on the payload. Setting it to zero allows compression for any payload size."
  expect(apis[0].Properties).toMatchObject({ MinimumCompressionSize: 0, BinaryMediaTypes: ['*/*'] });
});

it('answers API Gateway 415s (unsupported coding, body not in its coding) naming the accepted codings', () => {
  template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
    ResponseType: 'UNSUPPORTED_MEDIA_TYPE',
    StatusCode: '415',
    ResponseParameters: { 'gatewayresponse.header.Accept-Encoding': `'${ACCEPTED_CONTENT_CODINGS.join(', ')}'` },
  });
  const [response] = ofType('AWS::ApiGateway::GatewayResponse').filter((r) => r.Properties.ResponseType === 'UNSUPPORTED_MEDIA_TYPE');
  expect(JSON.parse(response.Properties.ResponseTemplates['application/json']).error).toMatch(/accepted content codings: gzip, deflate, identity/);
});

it('has no request validator or model that would judge a body before the handlers decode it', () => {
  expect(ofType('AWS::ApiGateway::RequestValidator')).toEqual([]);
  expect(ofType('AWS::ApiGateway::Model')).toEqual([]);
  for (const method of ofType('AWS::ApiGateway::Method')) {
    expect(method.Properties.RequestValidatorId).toBeUndefined();
    expect(method.Properties.RequestModels).toBeUndefined();
  }
});

it('uses Lambda proxy integrations for the body-taking methods, so the handlers get the bytes and the headers', () => {
  const posts = ofType('AWS::ApiGateway::Method').filter((m) => m.Properties.HttpMethod === 'POST');
  expect(posts.length).toBeGreaterThanOrEqual(4); // /bid /impression /click /predictions
  for (const post of posts) expect(post.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY' });
});
