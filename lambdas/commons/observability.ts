/** Powertools logger and metrics (EMF), one instance each per process, shared by the handlers. */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'sdp' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'sdp',
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
