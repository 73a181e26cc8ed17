/**
 * The local model server's serving figures mean what the endpoint's CloudWatch metrics mean: every
 * invocation of the deployed model counts (a request the model cannot score as bad input, 4xx),
 * calls to an endpoint that does not exist do not, and the predict function's calls are counted
 * apart. Served over HTTP at /_local/serving-figures in the shared shape.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { featurize, libsvmLine } from '../../lambdas/ml/features';
import { serializeModel, trainLogistic } from '../../lambdas/ml/logistic';
import { ModelServer, SERVING_FIGURES_PATH } from '../../local/model-server';
import { modelRegistry } from '../../schemas/resources';
import { servingFiguresSchema } from '../../schemas/serving';

const x = (price: number) => featurize({ campaign_item_id: 1, domain: 'a', creative_id: 'c', creative_category: 'k', bid_price: price });
const prices = Array.from({ length: 20 }, (_, i) => 10 * i);
const model = trainLogistic(prices.map(x), prices.map((p) => (p > 100 ? 1 : 0)), { seed: 1 });
const registry: Record<string, string> = {
  [modelRegistry.current]: JSON.stringify({ version: model.version, createdAt: model.createdAt, deployedAt: model.createdAt, metrics: {}, decision: { deploy: true, reason: 'test', floor: 0 } }),
  [`${modelRegistry.prefix}${model.version}/model.json`]: serializeModel(model),
};
/** An S3 client that answers GetObject from the registry above. */
const s3 = {
  send: async (command: { input: { Key: string } }) => {
    const text = registry[command.input.Key];
    if (text === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: { transformToString: async () => text } };
  },
} as unknown as S3Client;

describe('local model server: serving figures', () => {
  const server = new ModelServer(s3, 'lake', 'sdp-bid-win');
  let url: string;
  beforeAll(async () => {
    url = await server.listen();
  });
  afterAll(() => server.close());

  const invoke = (endpoint: string, body: string) => fetch(`${url}/endpoints/${endpoint}/invocations`, { method: 'POST', body });

  it('counts invocations of the deployed model by outcome, not calls to a missing endpoint', async () => {
    const line = libsvmLine(null, x(120));
    expect((await invoke('sdp-bid-win', `${line}\n${line}`)).status).toBe(200);
    expect((await invoke('sdp-bid-win', line)).status).toBe(200);
    expect((await invoke('sdp-bid-win', '0 not-a-feature')).status).toBe(400);
    expect((await invoke('another-endpoint', line)).status).toBe(400);
    server.recordPredictCall(2.5);
    const res = await fetch(`${url}${SERVING_FIGURES_PATH}`);
    const figures = servingFiguresSchema.parse(await res.json());
    expect(figures).toMatchObject({ source: 'local', window: { seconds: 300 }, requests: 3, errors: { badInput: 1, modelFailures: 0 }, predict: { calls: 1 } });
    expect(figures.modelLatencyMs.p50).toBeGreaterThan(0);
    expect(figures.predict.latencyMs.p50! / 2.5).toBeGreaterThanOrEqual(1);
    expect(figures.predict.latencyMs.p50! / 2.5).toBeLessThanOrEqual(1.02);
  });

  it('answers a shorter window when asked, and refuses one it does not keep', async () => {
    expect(servingFiguresSchema.parse(await (await fetch(`${url}${SERVING_FIGURES_PATH}?seconds=60`)).json()).window.seconds).toBe(60);
    const refused = await fetch(`${url}${SERVING_FIGURES_PATH}?seconds=301`);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toMatch(/seconds must be a whole number from 1 to 300/);
  });
});
