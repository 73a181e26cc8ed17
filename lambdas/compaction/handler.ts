/**
 * Compaction (Lambda on an EventBridge schedule; locally the scheduler and `sdp compact` call
 * compactLake directly): compacts the lake bucket's closed partitions and rebuilds their
 * auctions (compact.ts), logs the report and returns it. A run cut short is finished by the next.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lakeBucket, readSetting, resourceName } from '../../schemas/resources';
import { logger, metrics } from '../commons/observability';
import { s3 } from '../commons/s3';
import { compactLake, type CompactionReport } from './compact';

export async function handler(_event?: Partial<ScheduledEvent>): Promise<CompactionReport> {
  const report = await compactLake({
    s3: s3(),
    bucket: resourceName(lakeBucket),
    now: Date.now(),
    allowedLatenessSeconds: readSetting('allowedLatenessSeconds'),
    onProgress: (p) => logger.debug(p.message, { phase: p.phase }),
  });
  const { details, ...summary } = report;
  logger.info('compaction done', { ...summary, partitionsCompacted: details.map((d) => `${d.format}/${d.table}/dt=${d.partition.dt}/hour=${d.partition.hour}`) });
  if (report.unreadable.length > 0) logger.error('unreadable lake files left in place', { unreadable: report.unreadable });
  metrics.addMetric('CompactionPartitions', MetricUnit.Count, report.partitions);
  metrics.addMetric('CompactionFilesBefore', MetricUnit.Count, report.filesBefore);
  metrics.addMetric('CompactionFilesAfter', MetricUnit.Count, report.filesAfter);
  metrics.addMetric('CompactionBytesBefore', MetricUnit.Bytes, report.bytesBefore);
  metrics.addMetric('CompactionBytesAfter', MetricUnit.Bytes, report.bytesAfter);
  metrics.addMetric('CompactionUnreadableFiles', MetricUnit.Count, report.unreadable.length);
  metrics.addMetric('CompactionRecovered', MetricUnit.Count, report.recovered);
  metrics.addMetric('CompactionSuperseded', MetricUnit.Count, report.superseded.length + report.kept.length);
  metrics.publishStoredMetrics();
  return report;
}
