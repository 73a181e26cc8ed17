/**
 * Compaction (Lambda on an EventBridge schedule; locally the scheduler and `sdp compact` call
 * compactLake directly, one run at a time by local/jobs.ts): takes the compaction lease, so that
 * runs never overlap (two runs listing different inputs of one partition would both commit), then
 * compacts the lake bucket's closed partitions and rebuilds the pipeline's built tables (compact.ts), logs the
 * report and returns it. A run cut short is finished by the next.
 */
import { randomUUID } from 'node:crypto';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lakeBucket, readSetting, resourceName, tables } from '../../schemas/resources';
import { dynamo } from '../commons/clients';
import { takeJobLease } from '../commons/job-lease';
import { emitUnreadableData, logger, metrics } from '../commons/observability';
import { s3 } from '../commons/s3';
import { compactLake, didWork, type CompactionReport } from './compact';

/** Past the function's timeout: a run killed at its timeout holds the lease no longer than this after. */
const LEASE_MARGIN_MS = 60_000;

export type CompactionOutcome = CompactionReport | { skipped: string };

export async function handler(_event?: Partial<ScheduledEvent>, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<CompactionOutcome> {
  const now = Date.now();
  const lease = await takeJobLease(dynamo(), resourceName(tables.jobLeases), {
    job: 'compaction',
    holder: context?.awsRequestId ?? randomUUID(),
    nowMs: now,
    untilMs: now + (context?.getRemainingTimeInMillis() ?? 15 * 60_000) + LEASE_MARGIN_MS,
  });
  if (!lease) {
    logger.warn('another compaction run holds the lease: this run skips');
    return { skipped: 'another compaction run is in progress' };
  }
  try {
    return await compact();
  } finally {
    await lease.release();
  }
}

async function compact(): Promise<CompactionReport> {
  const report = await compactLake({
    s3: s3(),
    bucket: resourceName(lakeBucket),
    now: Date.now(),
    allowedLatenessSeconds: readSetting('allowedLatenessSeconds'),
    onProgress: (p) => logger.debug(p.message, { phase: p.phase }),
  });
  const { details, ...summary } = report;
  logger.info('compaction done', { ...summary, partitionsCompacted: details.map((d) => `${d.format}/${d.table}/dt=${d.partition.dt}/hour=${d.partition.hour}`) });
  if (report.unreadable.length > 0) {
    logger.error('unreadable lake files left in place', { unreadable: report.unreadable });
    emitUnreadableData(report.unreadable.length);
  }
  // Nothing to say, nothing sent: an idle lake's runs leave the metrics unbilled (didWork); the
  // UnreadableData alarm treats missing data as not breaching.
  if (!didWork(report)) return report;
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
