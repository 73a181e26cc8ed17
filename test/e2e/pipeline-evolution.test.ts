/**
 * A pipeline whose schema evolves with data in the lake (issue 19 item 4), on the telemetry
 * pipeline: a stream gains an optional field, and the lake takes it at once (new files have the
 * column, the views show it, older files read it as null: old and new rows queried together, in
 * Parquet and raw JSON, beside the aggregation's revisions); a breaking change is refused at the
 * start, by `sdp local` itself, with what to do instead.
 *
 * What this exercises is the lake's side: the lake writer's pure core (selectForLake, eventGroups,
 * aggregateGroups and the file formats) fed stream records, the files laid out as the local S3
 * keeps them, the local SQL views, the start check. Posting telemetry through the API and the
 * aggregator's feed are other slices' (issue 19); a test through `sdp local` end to end joins them.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { count, definePipeline, max, min, sum, type Pipeline } from '../../schemas/pipeline';
import { usePipeline } from '../../schemas/active-pipeline';
import { parquetKey, rawKey } from '../../schemas/lake';
import type { StreamRecord } from '../../schemas/stream-record';
import { readingSchema } from '../../pipelines/telemetry';
import { aggregateGroups, eventGroups, fileIdFor, type AggregateRecord, type LakeGroup } from '../../lambdas/lake-writer/rows';
import { selectForLake, type LakeSeen, type SequencedEvent } from '../../lambdas/lake-writer/select';
import { toNdjsonGzip, toParquet } from '../../lambdas/lake-writer/parquet';
import { fence } from '../../lambdas/commons/sequence';
import { LakeSql, localLakeRoot } from '../../local/lake-sql';
import { checkPipelineSchemas, PIPELINE_SCHEMAS_FILE } from '../../local/pipeline-schemas';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
const T0 = Date.UTC(2026, 10, 21, 10);
const SHARD = 'shardId-000000000000';

/** The telemetry pipeline as declared in pipelines/telemetry.ts, with the reading schema given. */
const telemetry = (schema: z.ZodObject): Pipeline =>
  definePipeline({
    name: 'telemetry',
    streams: { reading: { schema, identity: ['device_id', 'event_id'], partitionKey: 'device_id', eventTime: 'timestamp', lakeTable: 'readings' } },
    aggregations: {
      devices: { stream: 'reading', groupBy: ['device_id', 'metric'], periodSeconds: 60, measures: { readings: count(), total: sum('value'), minimum: min('value'), maximum: max('value') } },
    },
  });

const v1 = telemetry(readingSchema);
const v2 = telemetry(readingSchema.extend({ firmware: z.string().optional() }));

let dataDir: string;
let lakeRoot: string;
const seen = new Map<string, LakeSeen>();
let nextSeq = 1;

/** The lake writer on a batch of stream records of the active pipeline: each written once, as the handler writes them. */
function writeEvents(records: StreamRecord[]): void {
  const batch: SequencedEvent<StreamRecord>[] = records.map((event) => ({ seq: fence(String(nextSeq++)), arrivedAt: 0, event }));
  const fileId = fileIdFor(SHARD, String(nextSeq - records.length), String(nextSeq - 1));
  const { events, states } = selectForLake(batch, seen, { fileId, expiresAt: 0, retentionSeconds: 0 });
  writeFiles(eventGroups(events), fileId);
  for (const s of states) seen.set(s.tx_id as string, s);
}

function writeFiles(groups: LakeGroup[], fileId: string): void {
  for (const g of groups) {
    // Where the local S3 (s3rver) keeps an object's bytes: <bucket folder>/<key>._S3rver_object.
    for (const [key, body] of [[parquetKey(g.table, g.partition, fileId), toParquet(g.table, g.rows)], [rawKey(g.table, g.partition, fileId), toNdjsonGzip(g.records)]] as const) {
      const path = join(lakeRoot, `${key}._S3rver_object`);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, body);
    }
  }
}

const reading = (event_id: string, value: number, extra: Record<string, unknown> = {}): StreamRecord => ({
  type: 'reading', event_id, device_id: 'd1', metric: 'temp', value, unit: 'C', received_at: T0 + 5, event_time: T0, ...extra,
});
const revision = (revision: number, readings: number, total: number): AggregateRecord => ({
  aggregation: 'devices', device_id: 'd1', metric: 'temp', period: T0 / 1000, readings, total, minimum: 20, maximum: total - 20, late_events: 0, revision, updated_at: T0 + revision,
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const lake = await LakeSql.open(lakeRoot);
  try {
    return (await lake.query(sql)).rows;
  } finally {
    lake.close();
  }
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sdp-evolution-'));
  lakeRoot = localLakeRoot(dataDir);
});

afterAll(() => {
  usePipeline(v1); // leave no test pipeline behind for other suites of this worker
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a stream gains an optional field', () => {
  it('v1: the data dir records the schemas it has data for; the lake holds its readings and revisions', async () => {
    usePipeline(v1);
    checkPipelineSchemas(dataDir, v1);
    expect(JSON.parse(readFileSync(join(dataDir, PIPELINE_SCHEMAS_FILE), 'utf8')).streams.reading.fields.firmware).toBeUndefined();
    writeEvents([reading('e1', 20), reading('e2', 21), reading('e1', 20)]);
    writeFiles(aggregateGroups([revision(1, 2, 41)]), `${SHARD}-a1`);
    expect(await query('SELECT event_id, value FROM parquet_readings ORDER BY event_id')).toEqual([{ event_id: 'e1', value: 20 }, { event_id: 'e2', value: 21 }]);
  });

  it('v2 after a restart: taken at once; old and new rows together, the old ones null, in Parquet and raw', async () => {
    checkPipelineSchemas(dataDir, v2);
    expect(JSON.parse(readFileSync(join(dataDir, PIPELINE_SCHEMAS_FILE), 'utf8')).streams.reading.fields.firmware).toEqual({ kind: 'string', required: false });
    usePipeline(v2);
    // Before any file has the column, the views have it.
    expect(await query('SELECT event_id, firmware FROM parquet_readings ORDER BY event_id')).toEqual([{ event_id: 'e1', firmware: null }, { event_id: 'e2', firmware: null }]);
    writeEvents([reading('e3', 25, { firmware: '2.1' }), reading('e1', 99, { firmware: 'resend' })]);
    writeFiles(aggregateGroups([revision(2, 3, 66)]), `${SHARD}-a2`);
    const expected = [
      { event_id: 'e1', value: 20, firmware: null },
      { event_id: 'e2', value: 21, firmware: null },
      { event_id: 'e3', value: 25, firmware: '2.1' },
    ];
    expect(await query('SELECT event_id, value, firmware FROM parquet_readings ORDER BY event_id')).toEqual(expected);
    expect(await query('SELECT event_id, value, firmware FROM raw_readings ORDER BY event_id')).toEqual(expected);
    // The aggregation's revision history, named after it: the highest revision is current.
    expect(await query('SELECT device_id, metric, readings, total, minimum, maximum, revision, period_seconds FROM parquet_devices ORDER BY revision DESC LIMIT 1')).toEqual([
      { device_id: 'd1', metric: 'temp', readings: 3, total: 66, minimum: 20, maximum: 46, revision: 2, period_seconds: 60 },
    ]);
  });

  it('a breaking change is refused by sdp local at start, naming it and what to do instead; the recorded schemas stay', async () => {
    const before = readFileSync(join(dataDir, PIPELINE_SCHEMAS_FILE), 'utf8');
    const file = join(dataDir, 'telemetry-v3.ts');
    const repo = join(__dirname, '..', '..');
    // v2 with `value` an integer now: data already written holds fractional values.
    writeFileSync(
      file,
      [
        `import { z } from ${JSON.stringify(require.resolve('zod'))};`,
        `import { count, definePipeline, max, min, sum } from ${JSON.stringify(join(repo, 'schemas', 'pipeline'))};`,
        `import { readingSchema } from ${JSON.stringify(join(repo, 'pipelines', 'telemetry'))};`,
        'export default definePipeline({',
        "  name: 'telemetry',",
        "  streams: { reading: { schema: readingSchema.extend({ value: z.number().int(), firmware: z.string().optional() }), identity: ['device_id', 'event_id'], partitionKey: 'device_id', eventTime: 'timestamp', lakeTable: 'readings' } },",
        "  aggregations: { devices: { stream: 'reading', groupBy: ['device_id', 'metric'], periodSeconds: 60, measures: { readings: count(), total: sum('value'), minimum: min('value'), maximum: max('value') } } },",
        '});',
        '',
      ].join('\n'),
    );
    const failed = await run(process.execPath, [SDP, 'local', '--port', '0', '--data-dir', dataDir], { env: { ...process.env, SDP_PIPELINES: JSON.stringify([file]) }, timeout: 60_000 }).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failed?.code).not.toBe(0);
    const stderr = failed?.stderr ?? '';
    expect(stderr).toMatch(/^sdp: .*pipeline-schemas\.json: .*stream reading: field value changed type from number to integer/);
    expect(stderr).toMatch(/adding optional fields .*declare a new stream/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(dataDir, PIPELINE_SCHEMAS_FILE), 'utf8')).toBe(before);
  });
});
