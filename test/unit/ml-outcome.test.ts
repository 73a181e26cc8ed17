/**
 * The rule of an auction's known outcome (lambdas/ml/outcome.ts), at its edges: an impression exactly
 * 5 minutes from its bid (either side) wins, 1 ms more does not; an impression before its bid counts;
 * duplicate impressions count once; a bid is known once it is 5 minutes old. The same answers from
 * the TypeScript rule (compaction's auctions table), from the SQL the trainer runs on DuckDB over a
 * lake written as the lake writer writes it, and from the win-rate saved query's join.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inOutcomeWindow, isOutcomeKnown, OUTCOME_WINDOW_MS, sqlInOutcomeWindow, sqlTimestamp, TRAINING_HORIZON_DAYS, winningImpression } from '../../lambdas/ml/outcome';
import { eventGroups } from '../../lambdas/lake-writer/rows';
import { auctionRows } from '../../lambdas/ml/auction-rows';
import { toParquet } from '../../lambdas/lake-writer/parquet';
import { readNamedQueries } from '../../lib/analytics';
import { LakeSql } from '../../local/lake-sql';
import { knownAuctionsInLake } from '../../local/trainer';
import { parquetKey } from '../../schemas/lake';
import type { StreamEvent } from '../../pipelines/adtech/events';

const T = Date.UTC(2026, 11, 5, 7, 0, 0);
const MIN = 60_000;

const bid = (tx_id: string, at: number, receivedAt = at): StreamEvent => ({ type: 'bid', tx_id, app_uid: 'u', campaign_item_id: 7, domain: 'a.example', win_price: 100, event_time: at, received_at: receivedAt });
const impression = (tx_id: string, at: number, receivedAt = at): StreamEvent => ({ type: 'impression', tx_id, win_price: 80, event_time: at, received_at: receivedAt });

describe('the rule in TypeScript', () => {
  it('an impression within ±5 minutes of the bid, both ends included, wins', () => {
    expect(OUTCOME_WINDOW_MS).toBe(5 * MIN);
    expect(inOutcomeWindow(T, T + 5 * MIN)).toBe(true);
    expect(inOutcomeWindow(T, T - 5 * MIN)).toBe(true);
    expect(inOutcomeWindow(T, T + 5 * MIN + 1)).toBe(false);
    expect(inOutcomeWindow(T, T - 5 * MIN - 1)).toBe(false);
  });

  it('the winning impression is the first in the window; late ones are ignored', () => {
    const late = { event_time: T + 6 * MIN, n: 1 };
    const early = { event_time: T - MIN, n: 2 };
    expect(winningImpression(T, [late, early])).toBe(early);
    expect(winningImpression(T, [late])).toBeUndefined();
    expect(winningImpression(T, [])).toBeUndefined();
  });

  it('an outcome is known once the bid is 5 minutes old', () => {
    expect(isOutcomeKnown(T, T + 5 * MIN)).toBe(true);
    expect(isOutcomeKnown(T, T + 5 * MIN - 1)).toBe(false);
  });
});

// Each auction's expected outcome at KNOWN_BEFORE (undefined: not known yet, so not read).
const KNOWN_BEFORE = T + 20 * MIN;
const DAY = 24 * 60 * MIN;
const cases: { name: string; events: StreamEvent[]; won: boolean | undefined; beyondHorizon?: true }[] = [
  { name: 'exact-after', events: [bid('exact-after', T), impression('exact-after', T + 5 * MIN)], won: true },
  { name: 'exact-before', events: [bid('exact-before', T), impression('exact-before', T - 5 * MIN)], won: true },
  { name: 'just-late', events: [bid('just-late', T), impression('just-late', T + 5 * MIN + 1)], won: false },
  // Arrives (is received) long after its bid, but happened within the window: a win.
  { name: 'received-late', events: [bid('received-late', T), impression('received-late', T + MIN, T + 14 * MIN)], won: true },
  { name: 'before-bid', events: [impression('before-bid', T - 2 * MIN), bid('before-bid', T)], won: true },
  { name: 'duplicates', events: [bid('duplicates', T), impression('duplicates', T + 1000), impression('duplicates', T + 1000)], won: true },
  { name: 'resent-bid', events: [bid('resent-bid', T, T), bid('resent-bid', T, T + 1000)], won: false },
  { name: 'lost', events: [bid('lost', T)], won: false },
  // Exactly 5 minutes old at KNOWN_BEFORE: known; 1 ms younger: not yet.
  { name: 'just-known', events: [bid('just-known', KNOWN_BEFORE - 5 * MIN)], won: false },
  { name: 'not-yet-known', events: [bid('not-yet-known', KNOWN_BEFORE - 5 * MIN + 1), impression('not-yet-known', KNOWN_BEFORE - MIN)], won: undefined },
  // Training reads the last TRAINING_HORIZON_DAYS of bids (their impressions may be 5 minutes older).
  { name: 'in-horizon', events: [impression('in-horizon', KNOWN_BEFORE - TRAINING_HORIZON_DAYS * DAY + MIN), bid('in-horizon', KNOWN_BEFORE - TRAINING_HORIZON_DAYS * DAY + 2 * MIN)], won: true },
  { name: 'beyond-horizon', events: [bid('beyond-horizon', KNOWN_BEFORE - TRAINING_HORIZON_DAYS * DAY), impression('beyond-horizon', KNOWN_BEFORE - TRAINING_HORIZON_DAYS * DAY + MIN)], won: undefined, beyondHorizon: true },
];

describe('the rule in SQL (DuckDB over a lake as the lake writer writes it)', () => {
  let root: string;
  let lake: LakeSql;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sdp-outcome-'));
    cases.forEach((c, i) => {
      // One file per event, as separate batches would write them (the lake keeps resent copies apart).
      c.events.forEach((e, j) => {
        for (const g of eventGroups([e])) {
          const path = join(root, `${parquetKey(g.table, g.partition, `shardId-000000000000-${i}-${j}`)}._S3rver_object`);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, toParquet(g.table, g.rows));
        }
      });
    });
    lake = await LakeSql.open(root);
  });
  afterAll(() => {
    lake?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads each known auction once, labelled by the rule; bids younger than 5 minutes are left out', async () => {
    const { rows } = await lake.query(`SELECT tx_id, won FROM (${knownAuctionsInLake(KNOWN_BEFORE)}) ORDER BY tx_id`);
    const expected = cases.filter((c) => c.won !== undefined).map((c) => ({ tx_id: c.name, won: c.won }));
    expect(rows).toEqual(expected.sort((a, b) => (a.tx_id < b.tx_id ? -1 : 1)));
  });

  it('agrees with the auctions table compaction builds (auctionRows)', () => {
    for (const c of cases.filter((k) => !k.beyondHorizon)) expect([c.name, auctionRows(c.events)[0].won]).toEqual([c.name, c.won ?? true]);
  });

  it('the win-rate saved query joins impressions by the same window', () => {
    const query = readNamedQueries().find((q) => q.name === 'win-rate-by-price-bucket')!;
    expect(query.sql).toContain(`ON i.tx_id = b.tx_id AND ${sqlInOutcomeWindow('b', 'i')}`);
  });

  it('writes timestamps both engines read as the same UTC instant', async () => {
    expect(sqlTimestamp(T + 123)).toBe("TIMESTAMP '2026-12-05 07:00:00.123'");
    const { rows } = await lake.query(`SELECT epoch_ms(${sqlTimestamp(T + 123)}) AS ms`);
    expect(Number(rows[0].ms)).toBe(T + 123);
  });
});
