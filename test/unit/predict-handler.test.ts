/** POST /predictions' answers when SageMaker runtime fails: a refused request is a 502 (retrying cannot help), an unavailable endpoint a 503 with retry-after. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { handler } from '../../lambdas/predict/handler';

const request = (body: unknown) =>
  ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), isBase64Encoded: false }) as unknown as APIGatewayProxyEvent;
const valid = { campaignItemId: '42', domain: 'a.example', creativeId: 'cr1', creativeCategory: 'cat1', winPrice: 120 };

function failWith(name: string, message: string) {
  return jest.spyOn(SageMakerRuntimeClient.prototype, 'send').mockImplementation(async () => {
    throw Object.assign(new Error(message), { name });
  });
}

afterEach(() => jest.restoreAllMocks());

describe('predict handler: endpoint failures', () => {
  it('answers a ModelError (the container refused the request) 502 without retry-after', async () => {
    failWith('ModelError', 'Received client error (400) from primary with message "Number of columns does not match number of features in booster"');
    const res = await handler(request(valid));
    expect(res.statusCode).toBe(502);
    expect(JSON.parse(res.body).error).toMatch(/could not score the request: .*Number of columns/);
    expect(res.headers?.['retry-after']).toBeUndefined();
  });

  it('answers an unavailable endpoint 503 with retry-after', async () => {
    failWith('ServiceUnavailable', 'busy');
    const res = await handler(request(valid));
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['retry-after']).toBe('5');
  });

  it('scores a valid request', async () => {
    jest.spyOn(SageMakerRuntimeClient.prototype, 'send').mockImplementation(async () => ({ Body: new Uint8Array(Buffer.from('0.25\n')) }));
    const res = await handler(request(valid));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ predictions: [{ score: 0.25, predicted_label: 0 }] });
  });
});
