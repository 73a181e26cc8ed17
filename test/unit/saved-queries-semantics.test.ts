/**
 * The saved queries (queries/*.sql) run on DuckDB over a lake written as the lake writer writes it
 * give what Athena (Trino) answers: each expected result below is computed in TypeScript with
 * Trino's semantics, on data built to hit the places where DuckDB and Trino are known to differ.
 * The traps checked:
 * - NULL ordering: Trino sorts NULLs last in both ASC and DESC (ctr-by-domain orders by domain,
 *   which is NULL for bids without one);
 * - NULL groups: GROUP BY keeps one group for NULL domains;
 * - division: `/` of integers truncates in Trino but not in DuckDB; the queries divide a CAST to
 *   double or by 10.0 (a decimal), which both compute alike (win_price 15 and 19 → bucket 10);
 * - rounding: round(x, 4) and round(x, 2) of halves (1/8 = 0.125 → 0.13 half away from zero);
 * - avg of integers is a double (17.5, not 17), count(col) skips the NULLs of a LEFT JOIN;
 * - date_trunc of a timestamp by hour and day, in UTC whatever the machine's time zone;
 * - HAVING on a sum that is 0 for some groups;
 * - lateness: an event counts as late when it arrived more than the allowed lateness (3600 s) after
 *   its event time, by millisecond timestamps (exactly 3600 s is on time, 3600.001 s late), as
 *   lambdas/aggregator/plan.ts decides; counted under its bid's campaign, in its own event hour/day;
 *   an impression or click without a bid is not counted.
 * campaign-performance-by-hour and late-events read the event tables, not `aggregates` (absent from
 * a stack without the aggregates feed, the AWS default), and answer what the reports count.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readNamedQueries } from '../../lib/analytics';
import { LakeSql } from '../../local/lake-sql';
import { toParquet } from '../../lambdas/lake-writer/parquet';
import { eventGroups, type LakeGroup } from '../../lambdas/lake-writer/rows';
import { settings } from '../../schemas/resources';
import { parquetKey } from '../../schemas/lake';
import type { StreamEvent } from '../../pipelines/adtech/events';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 30, 22, 0, 0); // 22:00 UTC: the day changes within the data

const LATENESS = settings.allowedLatenessSeconds.default * 1000;
const bid = (tx: string, campaign: number, domain: string | undefined, winPrice: number | undefined, at: number, delay = 0): StreamEvent =>
  ({ type: 'bid', tx_id: tx, app_uid: 'u', campaign_item_id: campaign, ...(domain !== undefined && { domain }), ...(winPrice !== undefined && { win_price: winPrice }), event_time: at, received_at: at + delay }) as StreamEvent;
const impression = (tx: string, price: number, at: number, delay = 0): StreamEvent => ({ type: 'impression', tx_id: tx, win_price: price, event_time: at, received_at: at + delay }) as StreamEvent;
const click = (tx: string, at: number, delay = 0): StreamEvent => ({ type: 'click', tx_id: tx, event_time: at, received_at: at + delay }) as StreamEvent;

// Arrival delays (received_at - event_time) matter only to the lateness rule, which ctr-by-domain
// and win-rate-by-price-bucket do not apply.
const events: StreamEvent[] = [
  // Domain a: 8 bids, 8 impressions, 1 click → ctr 1/8 = 0.125 (round 4 → 0.125). a7's impression
  // came two hours late; the click exactly the allowed lateness after its event (on time).
  ...Array.from({ length: 8 }, (_, i) => bid(`a${i}`, 1, 'a.example', 15 + i, T0 + i * 60_000)),
  ...Array.from({ length: 8 }, (_, i) => impression(`a${i}`, 15 + i, T0 + i * 60_000 + 1000, i === 7 ? 2 * HOUR : 0)),
  click('a0', T0 + 2000, LATENESS),
  // Domain b: 3 bids, 1 impression; NULL domain: 3 bids, 1 impression (ties with b on impressions).
  // b1 and b2 (campaign 2's only events of their hour) came a day late; n2 a millisecond past the lateness.
  bid('b0', 1, 'b.example', 9, T0 + 2 * HOUR), bid('b1', 2, 'b.example', 10, T0 + 2 * HOUR, 24 * HOUR), bid('b2', 2, 'b.example', undefined, T0 + 2 * HOUR, 24 * HOUR),
  impression('b0', 9, T0 + 2 * HOUR + 1),
  bid('n0', 2, undefined, 20, T0 + 3 * HOUR), bid('n1', 2, undefined, 29, T0 + 3 * HOUR), bid('n2', 2, undefined, 30, T0 + 3 * HOUR, LATENESS + 1),
  impression('n1', 20, T0 + 3 * HOUR + 1),
  // An impression and a click whose bid never came: in the lake, counted nowhere.
  impression('z0', 5, T0 + 5 * HOUR), click('z1', T0 + 5 * HOUR),
  // Domain c: 8 bids priced 30..37, all won at clearing prices averaging 20.125 (a half at 2 digits).
  ...Array.from({ length: 8 }, (_, i) => bid(`c${i}`, 3, 'c.example', 30 + i, T0 + 4 * HOUR)),
  ...Array.from({ length: 8 }, (_, i) => impression(`c${i}`, i === 7 ? 21 : 20, T0 + 4 * HOUR + 1)),
];

let root: string;
let sql: LakeSql;

function write(groups: LakeGroup[], fileId: string): void {
  for (const g of groups) {
    // Where s3rver keeps an object's bytes: <bucket folder>/<key>._S3rver_object.
    const path = join(root, `${parquetKey(g.table, g.partition, fileId)}._S3rver_object`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, toParquet(g.table, g.rows));
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sdp-saved-queries-'));
  write(eventGroups(events), 'shardId-000000000000-1');
  sql = await LakeSql.open(root);
});

afterAll(() => {
  sql?.close();
  rmSync(root, { recursive: true, force: true });
});

const queries = Object.fromEntries(readNamedQueries().map((q) => [q.name, q.sql]));
const run = async (name: string) => (await sql.query(queries[name])).rows;
/** Timestamps as epoch ms, whatever type the engine returns them in. */
const ms = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(/Z|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`) : Number(v));

describe('saved queries on DuckDB give Trino\'s answers', () => {
  it('ctr-by-domain: NULL domain its own group, sorted after b.example at equal impressions (NULLS LAST); round(1/8, 4)', async () => {
    expect(await run('ctr-by-domain')).toEqual([
      { domain: 'a.example', bids: 8, impressions: 8, clicks: 1, ctr: 0.125 },
      { domain: 'c.example', bids: 8, impressions: 8, clicks: 0, ctr: 0 },
      { domain: 'b.example', bids: 3, impressions: 1, clicks: 0, ctr: 0 },
      { domain: null, bids: 3, impressions: 1, clicks: 0, ctr: 0 },
    ]);
  });

  it('win-rate-by-price-bucket: decimal division into buckets of 10, avg of integers a double, NULL prices left out', async () => {
    // Buckets by the bid's price: 0 ← 9 (won); 10 ← 10, 15..19 (15..19 won at 15..19); 20 ← 20, 21,
    // 22 (won at 20..22), 20, 29 (29 won at 20); 30 ← 30, 30..37 (the eight won at 20×7 and 21:
    // mean 20.125, round half away from zero → 20.13). b2 has no price.
    expect(await run('win-rate-by-price-bucket')).toEqual([
      { price_bucket: 0, bids: 1, won: 1, win_rate: 1, mean_clearing_price: 9 },
      { price_bucket: 10, bids: 6, won: 5, win_rate: 0.8333, mean_clearing_price: 17 },
      { price_bucket: 20, bids: 5, won: 4, win_rate: 0.8, mean_clearing_price: 20.75 },
      { price_bucket: 30, bids: 9, won: 8, win_rate: 0.8889, mean_clearing_price: 20.13 },
    ]);
  });

  it('campaign-performance-by-hour: on-time events under their bid\'s campaign, by the UTC hour of their own event time; an hour of late events only listed with zeros', async () => {
    const rows = (await run('campaign-performance-by-hour')).map((r) => ({ ...r, hour: ms(r.hour) }));
    expect(rows).toEqual([
      // a7's impression is late: 7 of 8; the click at exactly the lateness counts: ctr 1/7.
      { campaign_item_id: 1, hour: T0, bids: 8, impressions: 7, clicks: 1, ctr: 0.1429, win_rate: 0.875 },
      { campaign_item_id: 1, hour: T0 + 2 * HOUR, bids: 1, impressions: 1, clicks: 0, ctr: 0, win_rate: 1 },
      { campaign_item_id: 2, hour: T0 + 2 * HOUR, bids: 0, impressions: 0, clicks: 0, ctr: null, win_rate: null },
      { campaign_item_id: 2, hour: T0 + 3 * HOUR, bids: 2, impressions: 1, clicks: 0, ctr: 0, win_rate: 0.5 },
      { campaign_item_id: 3, hour: T0 + 4 * HOUR, bids: 8, impressions: 8, clicks: 0, ctr: 0, win_rate: 1 },
    ]);
  });

  it('late-events: per UTC day of the event time, only the days with late events, a millisecond past the lateness late, exactly at it on time', async () => {
    const rows = (await run('late-events')).map((r) => ({ ...r, day: ms(r.day) }));
    expect(rows).toEqual([
      { campaign_item_id: 1, day: Date.UTC(2026, 10, 30), late_events: 1, on_time_events: 16 },
      { campaign_item_id: 2, day: Date.UTC(2026, 11, 1), late_events: 3, on_time_events: 3 },
    ]);
  });

  it('the saved queries\' lateness is the aggregator\'s (ALLOWED_LATENESS_SECONDS), and they need no aggregates table', () => {
    for (const name of ['campaign-performance-by-hour', 'late-events']) {
      expect(queries[name]).toContain(`INTERVAL '${settings.allowedLatenessSeconds.default}' SECOND`);
      expect(queries[name]).not.toMatch(/_aggregates\b/);
    }
  });
});
