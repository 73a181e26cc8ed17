/**
 * Compaction end to end on a real local platform: a workload of events two to five hours old
 * (closed partitions with an allowed lateness of 1 s) is sent over HTTP and written to the lake by
 * the lake writer; compactLake then runs against the platform's s3rver. Checked with the local
 * DuckDB reader (which honours manifests): every table's rows per partition, and a checksum of
 * them, are the same before and after, each partition is one file, auctions hold every bid once,
 * and a rerun does nothing. Crash safety: the S3 client is made to fail for good after each step
 * of the commit protocol (a kill), the readers see every row exactly once in that state, and a
 * rerun without faults finishes the job. A truncated and a foreign file are reported, not fatal.
 * A lake-writer retry rewriting an input (with one more row) while compaction runs loses no row,
 * whether the rewrite lands before compaction's last listing or just before its deletes.
 */
// hyparquet-writer is an ES module that jest's CommonJS runtime cannot load; Node's require can.
jest.mock('hyparquet-writer', () =>
  (process as unknown as { getBuiltinModule(id: string): typeof import('node:module') }).getBuiltinModule('node:module').createRequire(__filename)('hyparquet-writer'),
);

import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { emulatorS3Client } from '../../local/emulators';
import { compactLake, type CompactOptions, type CompactionReport } from '../../lambdas/compaction/compact';
import { parseLakeKey, partitionId } from '../../lambdas/compaction/plan';
import { LakeSql } from '../../local/lake-sql';
import { sendEvents } from '../../local/send';
import { generateWorkload, type Workload } from '../../pipelines/adtech/workload';
import { COMPACTION_PREFIX, type LakeFormat } from '../../schemas/lake';
import { lakeBucket } from '../../schemas/resources';
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';

const HOUR = 3_600_000;
const EVENT_TABLES = ['bcns', 'bids', 'impressions', 'clicks'] as const;
const FORMATS: LakeFormat[] = ['raw', 'parquet'];

let platform: RunningPlatform;
let workload: Workload;
let distinct: number;
let pristine: Snapshot;
const PRISTINE = 'pristine-lake';

function s3Client(): S3Client {
  return emulatorS3Client(platform.outputs.S3Endpoint);
}

/** A client whose calls all fail once `kill` has said so (before or after the call it matches). */
function faultyClient(kill: (command: string, input: Record<string, unknown>) => 'before' | 'after' | undefined): { client: S3Client; killed: () => boolean } {
  const client = s3Client();
  let dead = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (dead) throw new Error('killed');
      const verdict = kill(context.commandName ?? '', args.input as Record<string, unknown>);
      if (verdict === 'before') {
        dead = true;
        throw new Error('killed before the call');
      }
      const out = await next(args);
      if (verdict === 'after') dead = true;
      return out;
    },
    { step: 'initialize', name: 'killSwitch' },
  );
  return { client, killed: () => dead };
}

/** Kills after (or before) the n-th call of `command` whose key passes `keyTest`. */
function nth(command: string, n: number, when: 'before' | 'after', keyTest: (key: string) => boolean = () => true) {
  let seen = 0;
  return (name: string, input: Record<string, unknown>) => {
    if (name !== command) return undefined;
    const key = typeof input.Key === 'string' ? input.Key : '';
    if (command !== 'DeleteObjectsCommand' && !keyTest(key)) return undefined;
    return ++seen === n ? when : undefined;
  };
}

/** A client that runs `before` ahead of each call and then makes the call. */
function interceptingClient(before: (command: string, input: Record<string, unknown>) => Promise<void>): S3Client {
  const client = s3Client();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      await before(context.commandName ?? '', args.input as Record<string, unknown>);
      return next(args);
    },
    { step: 'initialize', name: 'intercept' },
  );
  return client;
}

const root = (bucket: string) => join(platform.dataDir, 's3', bucket);

async function listBucket(bucket: string): Promise<Map<string, { size: number; modified: number }>> {
  const s3 = s3Client();
  const out = new Map<string, { size: number; modified: number }>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key!, { size: o.Size ?? 0, modified: o.LastModified?.getTime() ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function copyBucket(from: string, to: string): Promise<void> {
  const s3 = s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: to }));
  const keys = [...(await listBucket(from)).keys()];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      const body = await (await s3.send(new GetObjectCommand({ Bucket: from, Key: key }))).Body!.transformToByteArray();
      await s3.send(new PutObjectCommand({ Bucket: to, Key: key, Body: body }));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Data files per (format, table, partition), and the manifests standing. */
async function layout(bucket: string): Promise<{ files: Map<string, string[]>; manifests: string[] }> {
  const files = new Map<string, string[]>();
  const manifests: string[] = [];
  for (const key of (await listBucket(bucket)).keys()) {
    if (key.startsWith(COMPACTION_PREFIX)) manifests.push(key);
    const f = parseLakeKey(key);
    if (!f) continue;
    const id = partitionId(f.format, f.table, f.partition);
    files.set(id, [...(files.get(id) ?? []), key]);
  }
  return { files, manifests };
}

type Snapshot = Record<string, { dt: string; hour: string; n: number; distinct: number; keys: string; rows: string }[]>;

/** What readers see: per view and partition, rows, distinct identities, and checksums of both. */
async function snapshot(bucket: string): Promise<Snapshot> {
  const sql = await LakeSql.open(root(bucket));
  try {
    const out: Snapshot = {};
    const per = async (view: string, from: string, key: string) => {
      const res = await sql.query(
        `SELECT dt, hour, count(*)::BIGINT AS n, count(DISTINCT ${key})::BIGINT AS distinct, CAST(sum(hash(${key})) AS VARCHAR) AS keys, CAST(sum(hash(CAST(v AS VARCHAR))) AS VARCHAR) AS rows FROM ${from} v GROUP BY dt, hour ORDER BY dt, hour`,
      );
      out[view] = res.rows as Snapshot[string];
    };
    for (const format of FORMATS) {
      for (const table of EVENT_TABLES) await per(`${format}_${table}`, `${format}_${table}`, table === 'bcns' ? `(tx_id || '/' || type)` : 'tx_id');
      // Aggregates as readers use them: the highest revision of each (campaign, window).
      await per(
        `${format}_aggregates`,
        `(SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY campaign_item_id, period ORDER BY revision DESC) AS rn FROM ${format}_aggregates) WHERE rn = 1)`,
        `(campaign_item_id || '/' || period)`,
      );
    }
    return out;
  } finally {
    sql.close();
  }
}

async function countAll(bucket: string, view: string): Promise<number> {
  const sql = await LakeSql.open(root(bucket));
  try {
    return Number((await sql.query(`SELECT count(*)::BIGINT AS n FROM ${view}`)).rows[0].n);
  } finally {
    sql.close();
  }
}

function options(client: S3Client, bucket: string, extra: Partial<CompactOptions> = {}): CompactOptions {
  const onProgress = process.env.COMPACTION_DEBUG ? (p: { phase: string; message: string }) => console.log(`${bucket} ${p.phase}: ${p.message}`) : undefined;
  return { s3: client, bucket, now: Date.now(), allowedLatenessSeconds: 1, staleManifestMs: 0, onProgress, ...extra };
}

/** Every event-table partition holds one file; no manifest stands. */
async function expectCompacted(bucket: string): Promise<void> {
  const { files, manifests } = await layout(bucket);
  expect(manifests).toEqual([]);
  for (const [id, keys] of files) if (EVENT_TABLES.some((t) => id.includes(`/${t}/`))) expect({ id, files: keys.length }).toEqual({ id, files: 1 });
}

beforeAll(async () => {
  platform = await startPlatform({ env: { ALLOWED_LATENESS_SECONDS: '1' } });
  workload = generateWorkload({ auctions: 800, campaigns: 4, now: Date.now() - 3 * HOUR, timeSpreadMs: 2 * HOUR, resendRate: 0.1, seed: 31 });
  distinct = workload.totals.bids + workload.totals.impressions + workload.totals.clicks;
  await sendEvents(platform.outputs.UrlForAPI, workload.events, { concurrency: 16, batchSize: 25 });
  await pollUntil(
    'the lake to hold every distinct event',
    async () => [await countAll(lakeBucket.name, 'parquet_bcns'), await countAll(lakeBucket.name, 'raw_bcns'), await countAll(lakeBucket.name, 'parquet_clicks')],
    ([p, r, c]) => p === distinct && r === distinct && c === workload.totals.clicks,
    90_000,
  );
  // The aggregates stream reaches the lake too: wait until its rows stop changing.
  let last = -1;
  await pollUntil(
    'the aggregates in the lake to settle',
    async () => {
      await new Promise((r) => setTimeout(r, 2500));
      const n = (await countAll(lakeBucket.name, 'parquet_aggregates')) + (await countAll(lakeBucket.name, 'raw_aggregates'));
      const settled = n === last && n > 0;
      last = n;
      return settled;
    },
    (settled) => settled,
    90_000,
  );
  await copyBucket(lakeBucket.name, PRISTINE);
  pristine = await snapshot(PRISTINE);
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

describe('compaction on the local platform', () => {
  let first: CompactionReport;

  it('merges each closed partition into one file, every row kept exactly once', async () => {
    const before = await layout(lakeBucket.name);
    const sizes = await listBucket(lakeBucket.name);
    expect(await snapshot(lakeBucket.name)).toEqual(pristine);
    for (const rows of Object.values(pristine).flat()) expect(rows.n).toBe(rows.distinct);
    expect(pristine.parquet_bcns.reduce((s, r) => s + Number(r.n), 0)).toBe(distinct);
    expect([...before.files.keys()].some((id) => before.files.get(id)!.length > 1)).toBe(true);

    const started = Date.now();
    first = await compactLake(options(s3Client(), lakeBucket.name));
    console.log(`compaction: ${Date.now() - started} ms`, { ...first, details: first.details.length });

    expect(await snapshot(lakeBucket.name)).toEqual(pristine);
    await expectCompacted(lakeBucket.name);
    expect(first.unreadable).toEqual([]);
    expect(first.recovered).toBe(0);
    // The report's figures are the inputs' and outputs' files and bytes.
    const after = await listBucket(lakeBucket.name);
    const compactedIds = first.details.map((d) => partitionId(d.format, d.table, d.partition));
    expect(first.partitions).toBe(compactedIds.length);
    expect(first.filesBefore).toBe(compactedIds.reduce((s, id) => s + before.files.get(id)!.length, 0));
    expect(first.bytesBefore).toBe(compactedIds.reduce((s, id) => s + before.files.get(id)!.reduce((b, k) => b + sizes.get(k)!.size, 0), 0));
    expect(first.filesAfter).toBe(first.partitions);
    const { files } = await layout(lakeBucket.name);
    expect(first.bytesAfter).toBe(compactedIds.reduce((s, id) => s + files.get(id)!.reduce((b, k) => b + after.get(k)!.size, 0), 0));
    expect(first.rowsAfter).toBe(first.details.reduce((s, d) => s + d.rowsAfter, 0));
    for (const table of EVENT_TABLES) for (const format of FORMATS) expect(compactedIds.filter((id) => id.startsWith(`${format}/${table}/`)).length).toBe(pristine[`${format}_${table}`].length);
  });

  it('builds auctions: one row per distinct bid, joined with its outcome', async () => {
    expect(first.built).toBe(pristine.parquet_bids.length);
    const sql = await LakeSql.open(root(lakeBucket.name));
    try {
      for (const format of FORMATS) {
        const { rows } = await sql.query(`SELECT count(*)::BIGINT AS n, count(DISTINCT tx_id)::BIGINT AS bids, sum(won::INT)::BIGINT AS won, sum(clicked::INT)::BIGINT AS clicked FROM ${format}_auctions`);
        expect(rows[0]).toEqual({ n: workload.totals.bids, bids: workload.totals.bids, won: workload.totals.impressions, clicked: workload.totals.clicks });
      }
    } finally {
      sql.close();
    }
  });

  it('does nothing when run again', async () => {
    const before = await listBucket(lakeBucket.name);
    const again = await compactLake(options(s3Client(), lakeBucket.name));
    expect({ partitions: again.partitions, built: again.built, recovered: again.recovered, unreadable: again.unreadable }).toEqual({ partitions: 0, built: 0, recovered: 0, unreadable: [] });
    expect(await listBucket(lakeBucket.name)).toEqual(before);
  });

  it('drops duplicate events and superseded aggregate revisions', async () => {
    const bucket = 'dup-lake';
    await copyBucket(PRISTINE, bucket);
    const s3 = s3Client();
    // A copy of one file of each format under another name: its rows twice.
    const { files } = await layout(bucket);
    for (const format of FORMATS) {
      const key = files.get([...files.keys()].find((id) => id.startsWith(`${format}/bcns/`))!)![0];
      const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key.replace(/\/[^/]+(\.parquet|\.json\.gz)$/, '/zz-duplicate$1'), Body: body }));
    }
    expect(await countAll(bucket, 'parquet_bcns')).toBeGreaterThan(distinct);
    const report = await compactLake(options(s3, bucket));
    expect(report.rowsBefore).toBeGreaterThan(report.rowsAfter);
    expect(await snapshot(bucket)).toEqual(pristine);
    await expectCompacted(bucket);
  });

  it('reports a truncated and a foreign file, leaves them, and compacts the rest', async () => {
    const bucket = 'bad-files-lake';
    await copyBucket(PRISTINE, bucket);
    const s3 = s3Client();
    const { files } = await layout(bucket);
    const parquetPartition = [...files.keys()].find((id) => id.startsWith('parquet/bcns/'))!;
    const victim = files.get(parquetPartition)![0];
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: victim }))).Body!.transformToByteArray();
    const truncated = `${parquetPartition}/truncated.parquet`;
    const foreign = `${[...files.keys()].find((id) => id.startsWith('raw/bids/'))}/foreign.json.gz`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: truncated, Body: body.slice(0, Math.floor(body.length / 2)) }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: foreign, Body: 'not gzip at all' }));

    const report = await compactLake(options(s3, bucket));
    expect(report.unreadable.map((u) => u.key).sort()).toEqual([foreign, truncated].sort());
    for (const u of report.unreadable) expect(u.reason).toMatch(/Parquet|gzip/);
    expect(await snapshot(bucket)).toEqual(pristine);
    const after = await layout(bucket);
    expect(after.files.get(parquetPartition)!.sort()).toEqual([expect.stringContaining('/compacted-'), truncated].sort());
    expect(after.files.get(foreign.slice(0, foreign.lastIndexOf('/')))).toHaveLength(2);

    const again = await compactLake(options(s3, bucket));
    expect({ partitions: again.partitions, unreadable: again.unreadable.length }).toEqual({ partitions: 0, unreadable: 2 });
  });

  it('leaves in place a raw file with a line readers cannot read (a lone surrogate) and a truncated gzip file, and compacts the rest', async () => {
    // Left in place rather than moved to a quarantine prefix: nothing is deleted or rewritten that
    // compaction cannot read back whole, the readers keep leaving out just the bad lines (with a
    // warning naming the file, at every query), and the operator decides what to do with it.
    const bucket = 'surrogate-lake';
    await copyBucket(PRISTINE, bucket);
    const s3 = s3Client();
    const { files } = await layout(bucket);
    const rawPartition = [...files.keys()].find((id) => id.startsWith('raw/bcns/'))!;
    const victim = files.get(rawPartition)![0];
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: victim }))).Body!.transformToByteArray();
    const surrogate = `${rawPartition}/surrogate.json.gz`;
    const truncated = `${rawPartition}/truncated.json.gz`;
    const line = '{"type":"bid","tx_id":"\\ud800","app_uid":"u","campaign_item_id":1,"received_at":1,"event_time":1}';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: surrogate, Body: gzipSync(`${line}\n`) }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: truncated, Body: body.slice(0, Math.floor(body.length / 2)) }));

    const report = await compactLake(options(s3, bucket));
    expect(Object.fromEntries(report.unreadable.map((u) => [u.key, u.reason]))).toEqual({
      [surrogate]: 'line 1: tx_id holds a lone surrogate (not valid Unicode)',
      [truncated]: expect.stringMatching(/^not a readable gzip file/),
    });
    // Every good file's rows are still there, once, and the readers answer.
    expect(await snapshot(bucket)).toEqual(pristine);
    const after = await layout(bucket);
    expect(after.files.get(rawPartition)!.sort()).toEqual([expect.stringContaining('/compacted-'), surrogate, truncated].sort());
  });

  const isManifest = (k: string) => k.startsWith(COMPACTION_PREFIX);
  const isOutput = (k: string) => !isManifest(k) && k.includes('/compacted-');
  const kills: [string, ReturnType<typeof nth>][] = [
    ['after the first manifest is written (a)', nth('PutObjectCommand', 1, 'after', isManifest)],
    ['after the first output is written (within b)', nth('PutObjectCommand', 1, 'after', isOutput)],
    ['before the first inputs are deleted (after b)', nth('DeleteObjectsCommand', 1, 'before')],
    ['after the first inputs are deleted (c)', nth('DeleteObjectsCommand', 1, 'after')],
    ['after the first manifest is deleted (d)', nth('DeleteObjectCommand', 1, 'after', isManifest)],
    ['after the seventh manifest is written, partitions compacting at once', nth('PutObjectCommand', 7, 'after', isManifest)],
    ['while auctions are written', nth('PutObjectCommand', 3, 'after', (k) => k.includes('/auctions/'))],
  ];
  it.each(kills)('survives a kill %s: readers see every row once, a rerun finishes', async (_what, kill) => {
    const bucket = `crash-${kills.findIndex(([, k]) => k === kill)}`;
    await copyBucket(PRISTINE, bucket);
    const { client, killed } = faultyClient(kill);
    await expect(compactLake(options(client, bucket))).rejects.toThrow(/killed/);
    expect(killed()).toBe(true);
    expect(await snapshot(bucket)).toEqual(pristine);

    const rerun = await compactLake(options(s3Client(), bucket));
    expect(await snapshot(bucket)).toEqual(pristine);
    await expectCompacted(bucket);
    expect(await countAll(bucket, 'parquet_auctions')).toBe(workload.totals.bids);
    expect(rerun.unreadable).toEqual([]);
  });

  it('leaves a recent unfinished manifest to its run, and rolls it back once stale, even if killed while rolling back', async () => {
    const bucket = 'crash-rollback';
    await copyBucket(PRISTINE, bucket);
    // Small files, so the first partition has several outputs and the kill leaves some unwritten.
    await expect(compactLake(options(faultyClient(nth('PutObjectCommand', 1, 'after', isOutput)).client, bucket, { concurrency: 1, targetFileBytes: 1000 }))).rejects.toThrow(/killed/);
    const crashed = await layout(bucket);
    expect(crashed.manifests).toHaveLength(1);
    expect([...crashed.files.values()].flat().filter(isOutput)).toHaveLength(1);
    expect(await snapshot(bucket)).toEqual(pristine);

    // Within the stale time the manifest may belong to a run still going: left alone, its partition skipped.
    const polite = await compactLake(options(s3Client(), bucket, { staleManifestMs: 60_000, tables: ['bcns'] }));
    expect(polite.inFlight).toHaveLength(1);
    expect(polite.recovered).toBe(0);
    expect(await snapshot(bucket)).toEqual(pristine);

    // Stale: rolled back; a kill right after the rollback's delete leaves the manifest, readers still right.
    await expect(compactLake(options(faultyClient(nth('DeleteObjectsCommand', 1, 'after')).client, bucket))).rejects.toThrow(/killed/);
    expect(await snapshot(bucket)).toEqual(pristine);
    const rerun = await compactLake(options(s3Client(), bucket));
    expect(rerun.recovered).toBe(1);
    expect(rerun.rolledBack).toBe(1);
    expect(await snapshot(bucket)).toEqual(pristine);
    await expectCompacted(bucket);
  });

  describe('an input rewritten by a lake-writer retry while compaction runs', () => {
    const NEW_TX = 'rewritten-by-a-retry';

    /** A raw bcns partition of several files, one of them, and that file again with one more event. */
    async function rewriteTarget(bucket: string): Promise<{ partition: string; key: string; rewritten: Buffer; rowsInKey: number }> {
      const { files } = await layout(bucket);
      const [partition, keys] = [...files].find(([id, ks]) => id.startsWith('raw/bcns/') && ks.length > 1)!;
      const key = keys[0];
      const s3 = s3Client();
      const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
      const lines = gunzipSync(body).toString('utf8').split('\n').filter(Boolean);
      const extra = { ...JSON.parse(lines[0]), tx_id: NEW_TX };
      return { partition, key, rewritten: gzipSync([...lines, JSON.stringify(extra)].join('\n') + '\n'), rowsInKey: lines.length };
    }

    async function countNew(bucket: string): Promise<number> {
      const sql = await LakeSql.open(root(bucket));
      try {
        return Number((await sql.query(`SELECT count(*)::BIGINT AS n FROM raw_bcns WHERE tx_id = '${NEW_TX}'`)).rows[0].n);
      } finally {
        sql.close();
      }
    }

    type Target = Awaited<ReturnType<typeof rewriteTarget>>;

    /** Compacts a copy of the pristine lake, rewriting the target input once `at` matches a call. */
    async function compactWithRewrite(bucket: string, at: (command: string, input: Record<string, unknown>, target: Target) => boolean) {
      await copyBucket(PRISTINE, bucket);
      const target = await rewriteTarget(bucket);
      let done = false;
      const client = interceptingClient(async (command, input) => {
        if (done || !at(command, input, target)) return;
        done = true;
        await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: target.key, Body: target.rewritten }));
      });
      const report = await compactLake(options(client, bucket, { tables: ['bcns'] }));
      expect(done).toBe(true);
      return { report, target };
    }

    /** The next run compacts the partition into one file holding the rewritten input's rows once. */
    async function expectMergedNextRun(bucket: string, target: Target): Promise<void> {
      const next = await compactLake(options(s3Client(), bucket, { tables: ['bcns'] }));
      expect([next.superseded, next.kept]).toEqual([[], []]);
      expect(await countNew(bucket)).toBe(1);
      expect(await countAll(bucket, 'raw_bcns')).toBe(distinct + 1);
      expect((await layout(bucket)).files.get(target.partition)).toHaveLength(1);
    }

    it('rolls the partition back when the rewrite lands before its last listing, and compacts it next run', async () => {
      const bucket = 'rewrite-early';
      const { report, target } = await compactWithRewrite(
        bucket,
        (command, input, t) => command === 'PutObjectCommand' && String(input.Key).startsWith(`${COMPACTION_PREFIX}${t.partition}`),
      );
      expect(report.superseded).toEqual([target.partition]);
      expect(await countNew(bucket)).toBe(1);
      expect(await countAll(bucket, 'raw_bcns')).toBe(distinct + 1);
      await expectMergedNextRun(bucket, target);
    });

    it('keeps the input when the rewrite lands just before its delete: rows seen twice until the next run, none lost', async () => {
      const bucket = 'rewrite-late';
      const { report, target } = await compactWithRewrite(
        bucket,
        (command, input, t) => command === 'DeleteObjectsCommand' && ((input.Delete as { Objects?: { Key?: string }[] }).Objects ?? []).some((o) => o.Key === t.key),
      );
      expect(report.kept).toEqual([target.key]);
      expect(await countNew(bucket)).toBe(1);
      expect(await countAll(bucket, 'raw_bcns')).toBe(distinct + 1 + target.rowsInKey);
      await expectMergedNextRun(bucket, target);
    });
  });
});
