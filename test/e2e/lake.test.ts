/**
 * The lake end to end: a workload with resends and reordering, spread over several hours of event
 * time, reaches the lake's raw and Parquet tables exactly once per event, in the partition of its
 * event time; the aggregates in the lake agree with the reports and the ground truth; the named
 * queries run on DuckDB; time filters prune partitions; an unreadable file is reported, not fatal.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { generateWorkload, type Counts } from '../../pipelines/adtech/workload';
import { sendEvents } from '../../local/send';
import { LakeSql, localLakeRoot } from '../../local/lake-sql';
import { partitionOf } from '../../schemas/lake';
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
const HOUR = 3_600_000;

async function query<T = Record<string, unknown>>(platform: RunningPlatform, sql: string): Promise<T[]> {
  const lake = await LakeSql.open(localLakeRoot(platform.dataDir));
  try {
    return (await lake.query(sql)).rows as T[];
  } finally {
    lake.close();
  }
}

describe('the data lake', () => {
  let platform: RunningPlatform;
  const campaigns = 4;
  const firstCampaign = 700;
  const workload = generateWorkload({ auctions: 600, campaigns, firstCampaign, resendRate: 0.15, reorderRate: 0.3, seed: 44, now: Date.now() - HOUR, timeSpreadMs: 4 * HOUR });
  const distinct = workload.totals.bids + workload.totals.impressions + workload.totals.clicks;

  beforeAll(async () => {
    platform = await startPlatform({ env: { ALLOWED_LATENESS_SECONDS: String(8 * 24 * 3600) } });
    await sendEvents(platform.outputs.UrlForAPI, workload.events, { concurrency: 16, batchSize: 20 });
    // A batch's files are written one after another: wait for every table of both formats.
    const counts = ['bcns', 'bids', 'impressions', 'clicks'].flatMap((t) => [`(SELECT count(*) FROM parquet_${t})`, `(SELECT count(*) FROM raw_${t})`]);
    await pollUntil(
      'every event in every lake table, raw and Parquet',
      () => query<{ bcns: number; typed: number }>(platform, `SELECT ${counts[0]} + ${counts[1]} AS bcns, ${counts.slice(2).join(' + ')} AS typed`),
      ([row]) => row.bcns >= 2 * distinct && row.typed >= 2 * distinct,
      90_000,
    );
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('holds every distinct event once, in raw and Parquet, by table', async () => {
    const expected = { bid: workload.totals.bids, impression: workload.totals.impressions, click: workload.totals.clicks };
    for (const format of ['parquet', 'raw']) {
      const byType = await query<{ type: string; n: number }>(platform, `SELECT type, count(*) AS n FROM ${format}_bcns GROUP BY type`);
      expect(Object.fromEntries(byType.map((r) => [r.type, r.n]))).toEqual(expected);
      const tables = await query<Record<string, number>>(
        platform,
        `SELECT (SELECT count(*) FROM ${format}_bids) AS bid, (SELECT count(*) FROM ${format}_impressions) AS impression, (SELECT count(*) FROM ${format}_clicks) AS click`,
      );
      expect(tables[0]).toEqual(expected);
      const dupes = await query<{ n: number }>(platform, `SELECT count(*) AS n FROM (SELECT type, tx_id FROM ${format}_bcns GROUP BY type, tx_id HAVING count(*) > 1)`);
      expect(dupes[0].n).toBe(0);
    }
  });

  it('puts each event in the partition of its event time', async () => {
    const expected = new Map<string, number>();
    const seen = new Set<string>();
    for (const e of workload.events) {
      const key = `${e.type}/${e.body.tx_id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const p = partitionOf(e.body.timestamp as number);
      expected.set(`${p.dt}/${p.hour}`, (expected.get(`${p.dt}/${p.hour}`) ?? 0) + 1);
    }
    const rows = await query<{ dt: string; hour: string; n: number }>(platform, 'SELECT dt, hour, count(*) AS n FROM parquet_bcns GROUP BY dt, hour');
    expect(new Map(rows.map((r) => [`${r.dt}/${r.hour}`, r.n]))).toEqual(expected);
    expect(expected.size).toBeGreaterThan(3);
  });

  it('prunes partitions on time filters', async () => {
    const [{ dt, hour }] = await query<{ dt: string; hour: string }>(platform, 'SELECT dt, hour FROM parquet_bcns GROUP BY dt, hour ORDER BY dt, hour LIMIT 1');
    const all = await query<{ explain_value: string }>(platform, 'EXPLAIN ANALYZE SELECT count(*) FROM parquet_bcns');
    const one = await query<{ explain_value: string }>(platform, `EXPLAIN ANALYZE SELECT count(*) FROM parquet_bcns WHERE dt = '${dt}' AND hour = '${hour}'`);
    // DuckDB's profile names the files a multi-file scan read; a scan of a single file has no such line.
    const filesRead = (plan: { explain_value: string }[]) => Number(/Total Files Read: (\d+)/.exec(JSON.stringify(plan))?.[1] ?? 1);
    expect(filesRead(all)).toBeGreaterThan(1);
    expect(filesRead(one)).toBeLessThan(filesRead(all));
  });

  it('has aggregates that agree with the reports and the ground truth', async () => {
    const latestRows = () => query<{ campaign_item_id: number } & Counts>(
      platform,
      `WITH latest AS (SELECT *, row_number() OVER (PARTITION BY campaign_item_id, period ORDER BY revision DESC) AS rn FROM parquet_aggregates)
       SELECT campaign_item_id, sum(bids) AS bids, sum(impressions) AS impressions, sum(clicks) AS clicks FROM latest
       WHERE rn = 1 AND campaign_item_id BETWEEN ${firstCampaign} AND ${firstCampaign + campaigns - 1} GROUP BY campaign_item_id`,
    );
    const byCampaign = (rows: ({ campaign_item_id: number } & Counts)[]) =>
      JSON.stringify(Object.fromEntries(rows.map((r) => [r.campaign_item_id, { bids: r.bids, impressions: r.impressions, clicks: r.clicks }])));
    const truth = JSON.stringify(Object.fromEntries(workload.truth));
    // The aggregates stream reaches the lake a batching window after the events.
    const latest = await pollUntil('the latest aggregate revisions in the lake', latestRows, (rows) => byCampaign(rows) === truth, 60_000);
    expect(JSON.parse(byCampaign(latest))).toEqual(Object.fromEntries(workload.truth));
    for (const [campaign, counts] of workload.truth) {
      const report = (await (await fetch(`${platform.outputs.UrlForReports}${campaign}`)).json()) as Counts;
      expect({ bids: report.bids, impressions: report.impressions, clicks: report.clicks }).toEqual(counts);
    }
  });

  it('runs every named query with sdp query', async () => {
    for (const name of ['campaign-performance-by-hour', 'ctr-by-domain', 'win-rate-by-price-bucket', 'late-events']) {
      const { stdout } = await run(process.execPath, [SDP, 'query', '--file', name, '--data-dir', platform.dataDir, '--json']);
      expect(Array.isArray(JSON.parse(stdout))).toBe(true);
    }
    const { stdout } = await run(process.execPath, [SDP, 'query', '--file', 'ctr-by-domain', '--data-dir', platform.dataDir, '--csv']);
    expect(stdout.split('\n')[0]).toBe('domain,bids,impressions,clicks,ctr');
  });

  it('answers bad SQL with the engine error and a non-zero exit, no stack trace', async () => {
    const failed = await run(process.execPath, [SDP, 'query', 'SELECT nope FROM parquet_bcns', '--data-dir', platform.dataDir]).catch((err) => err);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^sdp: .*nope/);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports an unreadable file in the lake and still answers', async () => {
    const dir = join(localLakeRoot(platform.dataDir), 'parquet', 'bcns', 'dt=2020-01-01', 'hour=00');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'foreign.parquet._S3rver_object'), 'PAR1 this is not parquet');
    const { stdout, stderr } = await run(process.execPath, [SDP, 'query', 'SELECT count(*) AS n FROM parquet_bcns', '--data-dir', platform.dataDir, '--json']);
    expect(JSON.parse(stdout)).toEqual([{ n: distinct }]);
    expect(stderr).toMatch(/foreign\.parquet.*truncated Parquet file/);
  });

  it('leaves out a raw line with a lone surrogate, a truncated gzip file and a garbage Parquet file: sdp query and sdp audit succeed, warning of each', async () => {
    const partition = (format: string) => {
      const dir = join(localLakeRoot(platform.dataDir), format, 'bcns', 'dt=2020-01-02', 'hour=00');
      mkdirSync(dir, { recursive: true });
      return dir;
    };
    const surrogate = join(partition('raw'), 'surrogate.json.gz._S3rver_object');
    const truncated = join(partition('raw'), 'truncated.json.gz._S3rver_object');
    const garbage = join(partition('parquet'), 'garbage.parquet._S3rver_object');
    writeFileSync(surrogate, gzipSync('{"type":"bid","tx_id":"\\ud800","app_uid":"u","campaign_item_id":1,"received_at":1,"event_time":1}\n'));
    writeFileSync(truncated, gzipSync('{"type":"bid","tx_id":"t"}\n'.repeat(50)).subarray(0, 20));
    // Parquet's magic at both ends, garbage between: only reading it finds out.
    const junk = Buffer.alloc(200, 0x5a);
    junk.writeUInt32LE(150, 192);
    writeFileSync(garbage, Buffer.concat([Buffer.from('PAR1'), junk, Buffer.from('PAR1')]));

    for (const format of ['raw', 'parquet']) {
      const { stdout, stderr } = await run(process.execPath, [SDP, 'query', `SELECT count(*) AS n FROM ${format}_bcns`, '--data-dir', platform.dataDir, '--json']);
      expect(JSON.parse(stdout)).toEqual([{ n: distinct }]);
      if (format === 'raw') {
        expect(stderr).toContain(`warning: left out unreadable lake file ${surrogate}: no readable line: tx_id holds a lone surrogate (not valid Unicode)`);
        expect(stderr).toContain(`warning: left out unreadable lake file ${truncated}: not a readable gzip file`);
      } else expect(stderr).toContain(`warning: left out unreadable lake file ${garbage}: `);
    }
    const audit = await run(process.execPath, [SDP, 'audit', '--json', '--wait', '120', '--data-dir', platform.dataDir]).catch((err) => err);
    expect({ code: audit.code ?? 0, mismatches: JSON.parse(audit.stdout).mismatches }).toEqual({ code: 0, mismatches: 0 });
    expect(audit.stderr).toContain(surrogate);
    expect(audit.stderr).toContain(truncated);
    expect(audit.stderr).toContain(garbage);
  });
});

