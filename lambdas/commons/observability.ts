/** Powertools logger and metrics (EMF), one instance each per process, shared by the handlers. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'sdp' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'sdp',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'sdp',
});
