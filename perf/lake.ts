/**
 * Bench `lake`: the data lake's figures.
 *
 * Part "parquet write": the lake writer's Parquet encoder (lambdas/lake-writer/parquet.ts: its
 * own column encoders and snappy, framed by hyparquet-writer) against DuckDB on the same
 * generated `bcns` rows in the same run. The rows (from pipelines/adtech/workload.ts, resends included, event
 * times spread over an hour) are in memory as lake rows before either is timed, and both write
 * one snappy Parquet file of them:
 * - ours: toParquet, row group by row group (as the lake writer and compaction feed it);
 * - DuckDB end to end: the rows appended to a table through the appender API (data chunks of
 *   2048 rows, timestamps as epoch-ms BIGINT), then `COPY (SELECT … epoch_ms(…)) TO … (FORMAT
 *   parquet, COMPRESSION snappy)`: what the lake writer would pay to let DuckDB write its files;
 * - DuckDB COPY alone, from that table (the rows already inside DuckDB), for information.
 * Each is run `repeats` times, interleaved; the median counts. Goal: ours ≥ 0.8 × DuckDB end to
 * end. Also: the time of one Lambda-sized batch, file sizes, and gzip NDJSON (the raw files).
 *
 * Each part returns its figures and notes; runLake concatenates them, so further parts (SQL
 * latency over the lake, files per partition before and after compaction) plug in beside it.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, DuckDBInstance, VARCHAR, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { generateWorkload } from '../pipelines/adtech/workload';
import { toRow } from '../lambdas/lake-writer/rows';
import { toNdjsonGzip, toParquet, DEFAULT_ROW_GROUP_SIZE } from '../lambdas/lake-writer/parquet';
import { duckdbJsonSelect, lakeTable, type LakeRow, type LakeType } from '../schemas/lake';
import type { StreamEvent } from '../pipelines/adtech/events';
import { progress, type BenchResult, type Figure } from './support/report';
import { sqlLatency } from './lake-sql';
import { median } from './support/stats';

export const lakeDefaults = {
  /** bcns rows written by each writer. */
  rows: 1_000_000,
  /** Runs of each writer (interleaved); the median counts. */
  repeats: 3,
  /** Rows per row group of our writer. */
  rowGroupSize: DEFAULT_ROW_GROUP_SIZE,
  /** Rows of a Lambda-sized batch (the event source mapping's batch size). */
  batchRows: 10_000,
  /** Events of the SQL-latency lake. */
  sqlEvents: 10_000_000,
  /** Hours of event time they span (one partition each). */
  sqlHours: 24,
  /** Events per lake-writer batch (one file per batch and partition before compaction). */
  batchEvents: 5_000,
  /** Timed runs of the query on each lake; the median counts. */
  sqlRuns: 7,
};
export type LakeOptions = typeof lakeDefaults;

interface Part {
  figures: Figure[];
  notes: string[];
  details: Record<string, unknown>;
}

/** `rows` bcns rows from the workload generator, as the lake writer would see them. */
function bcnsRows(rows: number): LakeRow[] {
  const now = Date.UTC(2026, 10, 21, 11);
  // ~1.6 events per auction plus 5% resends: 0.6 auctions per row leaves a margin.
  const workload = generateWorkload({ auctions: Math.ceil(rows * 0.6), campaigns: 100, timeSpreadMs: 3_600_000, now, seed: 7 });
  if (workload.events.length < rows) throw new Error(`workload made ${workload.events.length} events, fewer than ${rows}`);
  const out = new Array<LakeRow>(rows);
  for (let i = 0; i < rows; i++) {
    const { type, body } = workload.events[i];
    const eventTime = body.timestamp as number;
    const { timestamp: _client, ...fields } = body;
    out[i] = toRow('bcns', { ...fields, type, event_time: eventTime, received_at: eventTime + (i % 250) } as StreamEvent);
  }
  return out;
}

/** The DuckDB type a lake column is appended as: timestamps as epoch-ms BIGINT, converted by the COPY. */
const STAGE_TYPES: Record<LakeType, DuckDBType> = { string: VARCHAR, int64: BIGINT, timestamp: BIGINT, double: DOUBLE, boolean: BOOLEAN };

async function duckdbLoad(connection: DuckDBConnection, rows: readonly LakeRow[]): Promise<void> {
  const columns = lakeTable('bcns').columns;
  const types = columns.map((c) => STAGE_TYPES[c.type]);
  await connection.run(`CREATE OR REPLACE TABLE stage (${columns.map((c, i) => `"${c.name}" ${types[i].toString()}`).join(', ')})`);
  const appender = await connection.createAppender('stage');
  const CHUNK = 2048;
  for (let start = 0; start < rows.length; start += CHUNK) {
    const slice = rows.slice(start, start + CHUNK);
    const chunk = DuckDBDataChunk.create(types, slice.length);
    chunk.setColumns(
      columns.map((c, j) =>
        slice.map((r) => {
          const v = r[c.name];
          return v === null ? null : types[j] === BIGINT ? BigInt(v as number) : (v as string | boolean | number);
        }),
      ),
    );
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();
}

async function duckdbCopy(connection: DuckDBConnection, file: string): Promise<void> {
  await connection.run(`COPY (SELECT ${duckdbJsonSelect('bcns')} FROM stage) TO '${file}' (FORMAT parquet, COMPRESSION snappy)`);
}

function timed<T>(fn: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = fn();
  return { ms: performance.now() - start, value };
}

async function timedAsync(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Part 1: Parquet write rate of our writer against DuckDB on the same rows. */
async function parquetWrite(options: LakeOptions, dir: string): Promise<Part> {
  progress(`generating ${options.rows.toLocaleString('en-US')} bcns rows`);
  const rows = bcnsRows(options.rows);

  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const threads = Number((await connection.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0][0]);
  const duckFile = join(dir, 'duckdb.parquet');

  const ours: number[] = [];
  const duckEndToEnd: number[] = [];
  const duckCopy: number[] = [];
  let ourBytes = 0;
  for (let run = 1; run <= options.repeats; run++) {
    progress(`run ${run}/${options.repeats}: toParquet`);
    const written = timed(() => toParquet('bcns', rows, { rowGroupSize: options.rowGroupSize }));
    ours.push(written.ms);
    ourBytes = written.value.byteLength;
    progress(`run ${run}/${options.repeats}: DuckDB appender + COPY`);
    const load = await timedAsync(() => duckdbLoad(connection, rows));
    const copy = await timedAsync(() => duckdbCopy(connection, duckFile));
    duckEndToEnd.push(load + copy);
    duckCopy.push(copy);
  }
  const duckBytes = statSync(duckFile).size;

  // A Lambda-sized batch: the work one invocation does per table and partition.
  const batch = rows.slice(0, Math.min(options.batchRows, rows.length));
  const batchMs: number[] = [];
  for (let i = 0; i < 20; i++) batchMs.push(timed(() => toParquet('bcns', batch)).ms);
  const gzip = timed(() => toNdjsonGzip(rows));

  const rate = (ms: number[]) => options.rows / (median(ms) / 1000);
  const oursRate = rate(ours);
  const duckRate = rate(duckEndToEnd);
  const copyRate = rate(duckCopy);
  const figures: Figure[] = [
    { key: 'parquet_rows_per_s', label: 'Parquet write, ours (lake writer)', value: oursRate, unit: 'rows/s', note: `median of ${options.repeats}: ${(median(ours) / 1000).toFixed(2)} s per ${options.rows.toLocaleString('en-US')} rows` },
    { key: 'duckdb_rows_per_s', label: 'Parquet write, DuckDB appender + COPY', value: duckRate, unit: 'rows/s', note: `${(median(duckEndToEnd) / 1000).toFixed(2)} s, ${threads} threads` },
    { key: 'ratio_vs_duckdb', label: 'ours / DuckDB end to end', value: oursRate / duckRate, unit: '×', goal: { op: '>=', target: 0.8, text: '≥ 0.8 ×' } },
    { key: 'duckdb_copy_rows_per_s', label: 'DuckDB COPY alone (rows already in DuckDB)', value: copyRate, unit: 'rows/s', note: `${(median(duckCopy) / 1000).toFixed(2)} s` },
    { key: 'ratio_vs_duckdb_copy', label: 'ours / DuckDB COPY alone', value: oursRate / copyRate, unit: '×' },
    { key: 'parquet_mb', label: 'file size, ours', value: ourBytes / 1e6, unit: 'MB' },
    { key: 'duckdb_parquet_mb', label: 'file size, DuckDB', value: duckBytes / 1e6, unit: 'MB' },
    { key: 'batch_ms', label: `one ${batch.length.toLocaleString('en-US')}-row batch, ours`, value: median(batchMs), unit: 'ms', note: 'median of 20' },
    { key: 'ndjson_gzip_rows_per_s', label: 'raw NDJSON + gzip', value: options.rows / (gzip.ms / 1000), unit: 'rows/s', note: `${(gzip.value.byteLength / 1e6).toFixed(1)} MB` },
  ];
  const notes = [
    `rows: ${options.rows.toLocaleString('en-US')} bcns rows (${lakeTable('bcns').columns.length} columns), row groups of ${options.rowGroupSize.toLocaleString('en-US')} (ours), same rows for both writers`,
    `runs (s): ours ${ours.map((ms) => (ms / 1000).toFixed(2)).join(', ')}; DuckDB end to end ${duckEndToEnd.map((ms) => (ms / 1000).toFixed(2)).join(', ')}; COPY alone ${duckCopy.map((ms) => (ms / 1000).toFixed(2)).join(', ')}`,
    'DuckDB end to end is what the lake writer would pay to have DuckDB write its files: the rows start in JavaScript either way; COPY alone is shown for reference.',
  ];
  connection.closeSync();
  instance.closeSync();
  return {
    figures,
    notes,
    details: { rows: options.rows, rowGroupSize: options.rowGroupSize, duckdbThreads: threads, oursMs: ours, duckdbEndToEndMs: duckEndToEnd, duckdbCopyMs: duckCopy, batchMs: median(batchMs) },
  };
}

export async function runLake(options: LakeOptions): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-bench-lake-'));
  try {
    const parts = [await parquetWrite(options, dir), await sqlLatency(options, join(dir, 'sql'))];
    return {
      bench: 'lake',
      figures: parts.flatMap((p) => p.figures),
      notes: parts.flatMap((p) => p.notes),
      details: Object.assign({}, ...parts.map((p) => p.details)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
