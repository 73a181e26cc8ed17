/** Powertools logger and metrics (EMF), one instance each per process, shared by the handlers. */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { unreadableDataMetric } from '../../schemas/resources';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'sdp' });

const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'sdp';

export const metrics = new Metrics({
  namespace,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'sdp',
});

/** Metrics are off locally (POWERTOOLS_METRICS_DISABLED): then a hot path skips building them at all. */
const metricsDisabled = (process.env.POWERTOOLS_METRICS_DISABLED ?? '').toLowerCase() === 'true';

/** Emits one count with its own dimensions as a single EMF record (nothing when metrics are off). */
export function emitCount(name: string, value: number, dimensions: Record<string, string>): void {
  if (metricsDisabled) return;
  const metric = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) metric.addDimension(key, dimension);
  metric.addMetric(name, MetricUnit.Count, value);
}

/** Publishes at once, under the shared service `lake` (not the handler's own): see unreadableDataMetric. */
const unreadableData = new Metrics({ namespace, serviceName: unreadableDataMetric.service, singleMetric: true });

/**
 * Counts data a handler found unreadable on the metric shared by the lake writer and compaction
 * (unreadableDataMetric), beside the handler's own metric; nothing when there is none, so an idle
 * or healthy lake sends nothing (custom metrics are billed only in hours they are sent).
 */
export function emitUnreadableData(count: number): void {
  if (metricsDisabled || count <= 0) return;
  unreadableData.addMetric(unreadableDataMetric.name, MetricUnit.Count, count);
}
