/**
 * The deployed model's serving figures in AWS, read from CloudWatch with one GetMetricData call:
 * the serverless endpoint's own metrics (namespace AWS/SageMaker, dimensions EndpointName and
 * VariantName) and the predict function's Lambda metrics (AWS/Lambda, FunctionName). The queries
 * and the reading of their answer are pure; the call itself is passed in.
 *
 * What SageMaker publishes for a serverless endpoint (Developer Guide, "Alarms and logs for
 * tracking metrics from serverless endpoints"): "The metrics below are an exhaustive list of
 * metrics for serverless endpoints. [...] Serverless endpoints can also use the
 * Invocations4XXErrors, Invocations5XXErrors, Invocations, ModelLatency, ModelSetupTime and
 * MemoryUtilization metrics." (the metric names are Invocation4XXErrors and Invocation5XXErrors).
 * Their meaning (same guide, endpoint invocation metrics): Invocation4XXErrors "The number of
 * requests where the model returned a 4xx HTTP response code. For each 4xx response, 1 is sent;
 * otherwise, 0 is sent."; ModelLatency "The interval of time taken by a model to respond as viewed
 * from SageMaker AI. This interval includes the local communication times taken to send the
 * request and to fetch the response from the container of a model and the time taken to complete
 * the inference in the container. Units: Microseconds". OverheadLatency (SageMaker's own share,
 * cold starts included) is left out: the figures are the model's.
 *
 * Percentiles: "CloudWatch needs raw data points to calculate percentile statistics"
 * (GetMetricStatistics); SageMaker and Lambda publish one value per call, so p50/p99 are available.
 * The window is aligned to whole minutes (CloudWatch's metrics here have 1-minute resolution, and
 * "For better performance, specify StartTime and EndTime values that align with the value of the
 * metric's Period"): the last 5 whole minutes, one period of 300 s, so each query answers one value.
 */
import { modelEndpoint } from '../../schemas/resources';
import { SERVING_WINDOW_SECONDS, servingWindow, type LatencyFigures, type ServingFigures } from '../../schemas/serving';

/** The subset of CloudWatch's GetMetricData request and answer these figures use (SDK v3 shapes). */
export interface MetricDataQuery {
  Id: string;
  MetricStat: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
  ReturnData: boolean;
}
export interface GetMetricDataInput {
  MetricDataQueries: MetricDataQuery[];
  StartTime: Date;
  EndTime: Date;
}
export interface GetMetricDataOutput {
  MetricDataResults?: { Id?: string; Values?: number[]; StatusCode?: string }[];
}
export type GetMetricData = (input: GetMetricDataInput) => Promise<GetMetricDataOutput>;

export interface ServingMetricNames {
  endpointName: string;
  variantName?: string;
  predictFunctionName: string;
}

/** Query id → what it asks. */
const QUERIES = {
  requests: { namespace: 'AWS/SageMaker', metric: 'Invocations', stat: 'Sum' },
  badInput: { namespace: 'AWS/SageMaker', metric: 'Invocation4XXErrors', stat: 'Sum' },
  modelFailures: { namespace: 'AWS/SageMaker', metric: 'Invocation5XXErrors', stat: 'Sum' },
  modelP50: { namespace: 'AWS/SageMaker', metric: 'ModelLatency', stat: 'p50' },
  modelP99: { namespace: 'AWS/SageMaker', metric: 'ModelLatency', stat: 'p99' },
  predictCalls: { namespace: 'AWS/Lambda', metric: 'Invocations', stat: 'Sum' },
  predictP50: { namespace: 'AWS/Lambda', metric: 'Duration', stat: 'p50' },
  predictP99: { namespace: 'AWS/Lambda', metric: 'Duration', stat: 'p99' },
} as const;
type QueryId = keyof typeof QUERIES;

const MINUTE_MS = 60_000;

/** The window the figures cover at `now`: the last SERVING_WINDOW_SECONDS up to the last whole minute. */
export function alignedWindow(now: number): { from: number; to: number } {
  const to = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  return { from: to - SERVING_WINDOW_SECONDS * 1000, to };
}

export function servingMetricQueries(names: ServingMetricNames, now: number): GetMetricDataInput {
  const { from, to } = alignedWindow(now);
  const dimensions = (namespace: string) =>
    namespace === 'AWS/Lambda'
      ? [{ Name: 'FunctionName', Value: names.predictFunctionName }]
      : [
          { Name: 'EndpointName', Value: names.endpointName },
          { Name: 'VariantName', Value: names.variantName ?? modelEndpoint.variantName },
        ];
  return {
    StartTime: new Date(from),
    EndTime: new Date(to),
    MetricDataQueries: Object.entries(QUERIES).map(([id, q]) => ({
      Id: id,
      MetricStat: { Metric: { Namespace: q.namespace, MetricName: q.metric, Dimensions: dimensions(q.namespace) }, Period: SERVING_WINDOW_SECONDS, Stat: q.stat },
      ReturnData: true,
    })),
  };
}

/** The figures from GetMetricData's answer: no value is no call (counts 0, latencies null). */
export function servingFiguresFromMetricData(output: GetMetricDataOutput, now: number): ServingFigures {
  const values = new Map<string, number[]>();
  for (const r of output.MetricDataResults ?? []) if (r.Id) values.set(r.Id, r.Values ?? []);
  const count = (id: QueryId) => Math.round((values.get(id) ?? []).reduce((a, b) => a + b, 0));
  const first = (id: QueryId, scale: number) => {
    const v = values.get(id)?.[0];
    return v === undefined || !Number.isFinite(v) ? null : Math.round((v / scale) * 1000) / 1000;
  };
  // ModelLatency is in microseconds, Lambda's Duration in milliseconds.
  const modelLatencyMs: LatencyFigures = { p50: first('modelP50', 1000), p99: first('modelP99', 1000) };
  const { to } = alignedWindow(now);
  const requests = count('requests');
  return {
    source: 'cloudwatch',
    window: servingWindow(to),
    requests,
    requestsPerSecond: Math.round((requests / SERVING_WINDOW_SECONDS) * 1000) / 1000,
    errors: { badInput: count('badInput'), modelFailures: count('modelFailures') },
    modelLatencyMs,
    predict: { calls: count('predictCalls'), latencyMs: { p50: first('predictP50', 1), p99: first('predictP99', 1) } },
  };
}

export async function readCloudWatchServingFigures(getMetricData: GetMetricData, names: ServingMetricNames, now = Date.now()): Promise<ServingFigures> {
  return servingFiguresFromMetricData(await getMetricData(servingMetricQueries(names, now)), now);
}
