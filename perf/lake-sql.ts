/**
 * Bench `lake`, part "SQL latency": a campaign-by-hour query over `parquet_bcns` on DuckDB (the
 * local engine of `sdp query`), on a lake of `sqlEvents` events as the lake writer leaves it (one
 * file per batch of `batchEvents` and hour partition) and again after compaction
 * (lambdas/compaction/compact.ts through the S3 API of s3rver), in one run. Goal: p50 < 1 s on the
 * compacted lake. Also files per partition before and after. Only `bcns` is written: the query
 * reads nothing else, and the other tables would only multiply the set-up time.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { emulatorS3Client, startEmulator } from '../local/emulators';
import { LakeSql, localLakeRoot } from '../local/lake-sql';
import { compactLake } from '../lambdas/compaction/compact';
import { toParquet } from '../lambdas/lake-writer/parquet';
import { parquetKey, partitionOf, type LakeRow } from '../schemas/lake';
import { lakeBucket } from '../schemas/resources';
import { progress, type Figure } from './support/report';
import { median } from './support/stats';

export interface LakeSqlOptions {
  sqlEvents: number;
  sqlHours: number;
  batchEvents: number;
  sqlRuns: number;
}

export const CAMPAIGN_BY_HOUR = `SELECT campaign_item_id, date_trunc('hour', event_time) AS hour,
  count(*) FILTER (WHERE type = 'bid') AS bids,
  count(*) FILTER (WHERE type = 'impression') AS impressions,
  count(*) FILTER (WHERE type = 'click') AS clicks
FROM parquet_bcns GROUP BY campaign_item_id, date_trunc('hour', event_time)`;

const CAMPAIGNS = 100;
const TYPES = ['bid', 'bid', 'bid', 'impression', 'impression', 'bid', 'bid', 'click', 'impression', 'bid'] as const;

/** Event i of a synthetic day: realistic columns, event times spread evenly over the hours. */
function row(i: number, start: number, spanMs: number, events: number): LakeRow {
  const type = TYPES[i % TYPES.length];
  const t = start + Math.floor((i / events) * spanMs);
  const bid = type === 'bid';
  return {
    type,
    tx_id: `tx-${i}`,
    app_uid: bid ? `u${(i * 2654435761) % 1_000_000}` : null,
    campaign_item_id: bid ? (i * 7919) % CAMPAIGNS : null,
    domain: bid ? `site${i % 50}.example` : null,
    creative_id: bid ? `cr${i % 20}` : null,
    creative_category: bid ? `cat${i % 8}` : null,
    win_price: type === 'click' ? null : 10 + (i % 190),
    event_time: t,
    received_at: t + 40,
  };
}

async function timedQuery(lake: LakeSql, runs: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await lake.query(CAMPAIGN_BY_HOUR);
    ms.push(performance.now() - start);
  }
  return ms;
}

async function measure(root: string, runs: number, label: string) {
  const openStart = performance.now();
  const lake = await LakeSql.open(root);
  const openMs = performance.now() - openStart;
  try {
    const files = Number((await lake.query(`SELECT count(DISTINCT filename) AS n FROM read_parquet('${join(root, 'parquet/bcns/*/*/*._S3rver_object')}', filename = true)`)).rows[0].n);
    const partitions = Number((await lake.query('SELECT count(DISTINCT dt || hour) AS n FROM parquet_bcns')).rows[0].n);
    const rows = Number((await lake.query('SELECT count(*) AS n FROM parquet_bcns')).rows[0].n);
    progress(`${label}: ${files} files in ${partitions} partitions, ${rows} rows; timing ${runs} queries`);
    return { ms: await timedQuery(lake, runs), openMs, files, partitions, rows };
  } finally {
    lake.close();
  }
}

export async function sqlLatency(options: LakeSqlOptions, dir: string): Promise<{ figures: Figure[]; notes: string[]; details: Record<string, unknown> }> {
  const emulator = await startEmulator('s3', dir);
  try {
    const s3 = emulatorS3Client(emulator.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: lakeBucket.name }));
    const spanMs = options.sqlHours * 3_600_000;
    const start = Date.UTC(2026, 0, 5);
    progress(`writing ${options.sqlEvents.toLocaleString('en-US')} events as the lake writer would, ${options.batchEvents} per batch`);
    const writeStart = performance.now();
    for (let first = 0; first < options.sqlEvents; first += options.batchEvents) {
      const byPartition = new Map<string, LakeRow[]>();
      for (let i = first; i < Math.min(first + options.batchEvents, options.sqlEvents); i++) {
        const r = row(i, start, spanMs, options.sqlEvents);
        const p = partitionOf(r.event_time as number);
        const key = parquetKey('bcns', p, `shardId-000000000000-${String(first).padStart(12, '0')}`);
        (byPartition.get(key) ?? byPartition.set(key, []).get(key)!).push(r);
      }
      await Promise.all([...byPartition].map(([key, rows]) => s3.send(new PutObjectCommand({ Bucket: lakeBucket.name, Key: key, Body: toParquet('bcns', rows) }))));
      if ((first / options.batchEvents) % 200 === 0) progress(`  ${first.toLocaleString('en-US')} events written`);
    }
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const root = localLakeRoot(dir);
    const before = await measure(root, options.sqlRuns, 'as written');

    progress('compacting');
    const compaction = await compactLake({ s3, bucket: lakeBucket.name, now: start + spanMs + 10 * 86_400_000, allowedLatenessSeconds: 3600, tables: ['bcns'] });
    const after = await measure(root, options.sqlRuns, 'compacted');

    const figures: Figure[] = [
      { key: 'sql_p50_compacted_ms', label: 'campaign-by-hour SQL p50, compacted', value: median(after.ms), unit: 'ms', goal: { op: '<', target: 1000, text: '< 1,000 ms' }, note: `${after.rows.toLocaleString('en-US')} events, DuckDB, median of ${options.sqlRuns}` },
      { key: 'sql_p50_uncompacted_ms', label: 'campaign-by-hour SQL p50, as written', value: median(before.ms), unit: 'ms', note: `ratio compacted/as written ${(median(after.ms) / median(before.ms)).toFixed(2)}` },
      { key: 'files_per_partition_before', label: 'files per partition, as written', value: before.files / before.partitions, unit: 'files', note: `${before.files} files in ${before.partitions} hour partitions` },
      { key: 'files_per_partition_after', label: 'files per partition, compacted', value: after.files / after.partitions, unit: 'files', note: `${compaction.bytesBefore.toLocaleString('en-US')} → ${compaction.bytesAfter.toLocaleString('en-US')} bytes` },
      { key: 'compaction_s', label: 'compaction time', value: compaction.durationMs / 1000, unit: 's', note: `${compaction.partitions} partitions` },
    ];
    const notes = [
      `lake: ${options.sqlEvents.toLocaleString('en-US')} bcns events over ${options.sqlHours} h, written in ${writeSeconds.toFixed(1)} s; opening the views took ${before.openMs.toFixed(0)} ms as written, ${after.openMs.toFixed(0)} ms compacted`,
      `query: ${CAMPAIGN_BY_HOUR.replace(/\s+/g, ' ')}`,
      `runs (ms): as written ${before.ms.map((m) => m.toFixed(0)).join(', ')}; compacted ${after.ms.map((m) => m.toFixed(0)).join(', ')}`,
    ];
    return { figures, notes, details: { before, after, compaction: { ...compaction, details: undefined } } };
  } finally {
    await emulator.stop();
  }
}
