/**
 * The deployed model's serving figures (schemas/serving.ts): the local window the model server
 * keeps (counts by outcome, p50/p99 within the histogram's 2 %, only the last minutes), and the
 * same figures read from CloudWatch in AWS (the queries GetMetricData gets, and its answer read
 * back: ModelLatency's microseconds as ms, no data as no calls).
 */
import { localServingFigures, ServingWindow, bucketOf, bucketValue, histogramPercentile } from '../../local/serving-window';
import { alignedWindow, readCloudWatchServingFigures, servingFiguresFromMetricData, servingMetricQueries, type GetMetricDataInput } from '../../lambdas/models/cloudwatch-figures';
import { SERVING_WINDOW_SECONDS, servingFiguresSchema } from '../../schemas/serving';

const T0 = Date.parse('2026-12-05T08:00:00.000Z');

describe('latency histogram', () => {
  it('keeps every latency within 2 % below its bucket value', () => {
    for (const ms of [0.0005, 0.001, 0.0123, 0.3, 1, 7.77, 49.9, 1234, 60_000]) {
      const v = bucketValue(bucketOf(ms));
      expect(v).toBeGreaterThanOrEqual(Math.max(ms, 0.001) * (1 - 1e-9));
      expect(v).toBeLessThanOrEqual(Math.max(ms, 0.001) * 1.02 + 1e-12);
    }
  });

  it('gives nearest-rank percentiles, null when empty', () => {
    const h = new Map<number, number>();
    expect(histogramPercentile(h, 50)).toBeNull();
    for (let ms = 1; ms <= 100; ms++) h.set(bucketOf(ms), (h.get(bucketOf(ms)) ?? 0) + 1);
    expect(histogramPercentile(h, 50)! / 50).toBeGreaterThanOrEqual(1);
    expect(histogramPercentile(h, 50)! / 50).toBeLessThanOrEqual(1.02);
    expect(histogramPercentile(h, 99)! / 99).toBeGreaterThanOrEqual(1);
    expect(histogramPercentile(h, 99)! / 99).toBeLessThanOrEqual(1.02);
  });
});

describe('local serving window', () => {
  it('counts calls by outcome and their latency percentiles', () => {
    const w = new ServingWindow();
    for (let i = 0; i < 1000; i++) w.record(0.2 + (i % 100) / 100, 'ok', T0 + i);
    w.record(3, 'badInput', T0 + 2000);
    w.record(5, 'modelFailure', T0 + 2000);
    const f = w.figures(SERVING_WINDOW_SECONDS, T0 + 2500);
    expect(f).toMatchObject({ calls: 1002, badInput: 1, modelFailures: 1 });
    expect(f.latencyMs.p50! / 0.7).toBeGreaterThan(0.98);
    expect(f.latencyMs.p50! / 0.71).toBeLessThan(1.03);
    expect(f.latencyMs.p99! / 1.19).toBeGreaterThan(0.98);
    expect(f.latencyMs.p99! / 1.19).toBeLessThan(1.03);
  });

  it('covers only the last seconds asked for, and forgets what is older than it keeps', () => {
    const w = new ServingWindow(300);
    w.record(1, 'ok', T0);
    w.record(1, 'ok', T0 + 250_000);
    w.record(1, 'ok', T0 + 299_999);
    expect(w.figures(300, T0 + 299_999).calls).toBe(3);
    expect(w.figures(60, T0 + 299_999).calls).toBe(2);
    expect(w.figures(300, T0 + 300_000).calls).toBe(2);
    // A second 300 s later reuses the first one's slot.
    w.record(9, 'ok', T0 + 300_500);
    expect(w.figures(300, T0 + 300_500)).toMatchObject({ calls: 3 });
    expect(w.figures(1, T0 + 300_500)).toMatchObject({ calls: 1, latencyMs: { p50: expect.closeTo(9, 0) } });
    expect(() => w.figures(301)).toThrow(/keeps 300 s/);
  });

  it('answers no calls with zero counts and null latencies, in the shared shape', () => {
    const figures = localServingFigures(new ServingWindow(), new ServingWindow(), T0);
    expect(servingFiguresSchema.parse(figures)).toEqual({
      source: 'local',
      window: { seconds: 300, from: '2026-12-05T07:55:00.000Z', to: '2026-12-05T08:00:00.000Z' },
      requests: 0,
      requestsPerSecond: 0,
      errors: { badInput: 0, modelFailures: 0 },
      modelLatencyMs: { p50: null, p99: null },
      predict: { calls: 0, latencyMs: { p50: null, p99: null } },
    });
  });

  it('reports requests per second over the whole window', () => {
    const model = new ServingWindow();
    const predict = new ServingWindow();
    for (let i = 0; i < 600; i++) {
      model.record(0.5, 'ok', T0 - i * 100);
      predict.record(2, 'ok', T0 - i * 100);
    }
    predict.record(0.1, 'ok', T0); // refused before the model: the predict function's call only
    const f = localServingFigures(model, predict, T0);
    expect(f).toMatchObject({ requests: 600, requestsPerSecond: 2, predict: { calls: 601 } });
  });
});

describe('serving figures from CloudWatch', () => {
  const names = { endpointName: 'sdp-bid-win', predictFunctionName: 'SdpStack-PredictFn' };
  const now = Date.parse('2026-12-05T08:07:42.123Z');

  it('asks for the endpoint and the predict function metrics over the last 5 whole minutes', () => {
    const input = servingMetricQueries(names, now);
    expect(input.StartTime.toISOString()).toBe('2026-12-05T08:02:00.000Z');
    expect(input.EndTime.toISOString()).toBe('2026-12-05T08:07:00.000Z');
    const asked = input.MetricDataQueries.map((q) => [q.Id, q.MetricStat.Metric.Namespace, q.MetricStat.Metric.MetricName, q.MetricStat.Stat, q.MetricStat.Period]);
    expect(asked).toEqual([
      ['requests', 'AWS/SageMaker', 'Invocations', 'Sum', 300],
      ['badInput', 'AWS/SageMaker', 'Invocation4XXErrors', 'Sum', 300],
      ['modelFailures', 'AWS/SageMaker', 'Invocation5XXErrors', 'Sum', 300],
      ['modelP50', 'AWS/SageMaker', 'ModelLatency', 'p50', 300],
      ['modelP99', 'AWS/SageMaker', 'ModelLatency', 'p99', 300],
      ['predictCalls', 'AWS/Lambda', 'Invocations', 'Sum', 300],
      ['predictP50', 'AWS/Lambda', 'Duration', 'p50', 300],
      ['predictP99', 'AWS/Lambda', 'Duration', 'p99', 300],
    ]);
    const sageMaker = input.MetricDataQueries.find((q) => q.Id === 'modelP99')!.MetricStat.Metric.Dimensions;
    expect(sageMaker).toEqual([
      { Name: 'EndpointName', Value: 'sdp-bid-win' },
      { Name: 'VariantName', Value: 'AllTraffic' },
    ]);
    expect(input.MetricDataQueries.find((q) => q.Id === 'predictP99')!.MetricStat.Metric.Dimensions).toEqual([{ Name: 'FunctionName', Value: 'SdpStack-PredictFn' }]);
    expect(alignedWindow(now).to - alignedWindow(now).from).toBe(SERVING_WINDOW_SECONDS * 1000);
  });

  it('reads the answer back: sums as counts, ModelLatency microseconds as ms, Duration ms as ms', async () => {
    let asked: GetMetricDataInput | undefined;
    const figures = await readCloudWatchServingFigures(
      async (input) => {
        asked = input;
        return {
          MetricDataResults: [
            { Id: 'requests', Values: [1500], StatusCode: 'Complete' },
            { Id: 'badInput', Values: [3] },
            { Id: 'modelFailures', Values: [] },
            { Id: 'modelP50', Values: [4250] },
            { Id: 'modelP99', Values: [31_000.5] },
            { Id: 'predictCalls', Values: [1510] },
            { Id: 'predictP50', Values: [12.5] },
            { Id: 'predictP99', Values: [80] },
          ],
        };
      },
      names,
      now,
    );
    expect(asked?.MetricDataQueries).toHaveLength(8);
    expect(servingFiguresSchema.parse(figures)).toEqual({
      source: 'cloudwatch',
      window: { seconds: 300, from: '2026-12-05T08:02:00.000Z', to: '2026-12-05T08:07:00.000Z' },
      requests: 1500,
      requestsPerSecond: 5,
      errors: { badInput: 3, modelFailures: 0 },
      modelLatencyMs: { p50: 4.25, p99: 31.001 },
      predict: { calls: 1510, latencyMs: { p50: 12.5, p99: 80 } },
    });
  });

  it('answers no data (no call in the window) as zero counts and null latencies', () => {
    const figures = servingFiguresFromMetricData({ MetricDataResults: [] }, now);
    expect(figures).toMatchObject({ requests: 0, errors: { badInput: 0, modelFailures: 0 }, modelLatencyMs: { p50: null, p99: null }, predict: { calls: 0, latencyMs: { p50: null, p99: null } } });
  });
});
