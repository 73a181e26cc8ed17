/**
 * Where GET /models/current's serving figures come from: CloudWatch in AWS (asked at most once per
 * minute by a warm function, as the window ends at the last whole minute), the model server
 * locally; without the predict function's name in AWS it says so rather than guessing.
 */
import { getMetricData } from '../../lambdas/commons/cloudwatch';
import { readServingFigures } from '../../lambdas/models/current-model';

jest.mock('../../lambdas/commons/cloudwatch', () => ({
  getMetricData: jest.fn(async () => ({ MetricDataResults: [{ Id: 'requests', Values: [30] }] })),
}));

const env = { MODEL_ENDPOINT_NAME: 'sdp-bid-win', PREDICT_FUNCTION_NAME: 'SdpStack-Predict' };

afterEach(() => jest.useRealTimers());

describe('serving figures source', () => {
  it('reads CloudWatch once per minute, for the endpoint and function named in the environment', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-12-05T08:00:05Z') });
    const first = await readServingFigures(env);
    jest.setSystemTime(Date.parse('2026-12-05T08:00:50Z'));
    const second = await readServingFigures(env);
    expect(second).toBe(first);
    expect(first).toMatchObject({ source: 'cloudwatch', requests: 30, window: { to: '2026-12-05T08:00:00.000Z' } });
    expect(getMetricData).toHaveBeenCalledTimes(1);
    const input = (getMetricData as jest.Mock).mock.calls[0][0];
    expect(input.MetricDataQueries[0].MetricStat.Metric.Dimensions).toEqual([
      { Name: 'EndpointName', Value: 'sdp-bid-win' },
      { Name: 'VariantName', Value: 'AllTraffic' },
    ]);
    jest.setSystemTime(Date.parse('2026-12-05T08:01:01Z'));
    expect((await readServingFigures(env)).window.to).toBe('2026-12-05T08:01:00.000Z');
    expect(getMetricData).toHaveBeenCalledTimes(2);
  });

  it('refuses to guess the predict function in AWS', async () => {
    await expect(readServingFigures({ MODEL_ENDPOINT_NAME: 'sdp-bid-win' })).rejects.toThrow(/PREDICT_FUNCTION_NAME is not set/);
  });

  it('reads the local model server when the platform names it, and checks the shape', async () => {
    const spy = jest.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(JSON.stringify({ source: 'local', requests: -1 }), { status: 200 }));
    try {
      await expect(readServingFigures({ SDP_LOCAL_SERVING_FIGURES_URL: 'http://127.0.0.1:1/_local/serving-figures' })).rejects.toThrow();
      expect(spy).toHaveBeenCalledWith('http://127.0.0.1:1/_local/serving-figures');
    } finally {
      spy.mockRestore();
    }
  });
});
