/** Tests for rollUp (calendar roll-ups in any IANA zone, DST included) and adtech's derivedMetrics (pipelines/adtech/rows.ts). */
import { rollUp, type RollupUnit } from '../../lambdas/reports/rollup';
import { derivedMetrics } from '../../pipelines/adtech/rows';

interface Row {
  period: number;
  bids: number;
  impressions: number;
  clicks: number;
  late_events: number;
}

const at = (iso: string): number => Date.parse(iso) / 1000;

/** One row per 60 s window with start in [from, to); every window counts 1 bid, so bids = minutes covered. */
function minutes(fromIso: string, toIso: string): Row[] {
  const rows: Row[] = [];
  for (let t = at(fromIso); t < at(toIso); t += 60) rows.push({ period: t, bids: 1, impressions: 0, clicks: 0, late_events: 0 });
  return rows;
}

const row = (iso: string, bids = 1): Row => ({ period: at(iso), bids, impressions: 0, clicks: 0, late_events: 0 });

/** The rolled-up rows reduced to what most tests check: local start, UTC start, and the bids sum. */
function summary(rows: readonly Row[], unit: RollupUnit, timezone: string, desc = false) {
  return rollUp(rows, unit, timezone, { desc }).map((r) => ({
    start: r.period_start,
    utc: new Date(r.period * 1000).toISOString().replace('.000', ''),
    bids: r.bids,
  }));
}

describe('rollUp in UTC', () => {
  it('HOURS', () => {
    expect(summary(minutes('2026-01-01T00:00:00Z', '2026-01-01T02:00:00Z'), 'HOURS', 'UTC')).toEqual([
      { start: '2026-01-01T00:00:00+00:00', utc: '2026-01-01T00:00:00Z', bids: 60 },
      { start: '2026-01-01T01:00:00+00:00', utc: '2026-01-01T01:00:00Z', bids: 60 },
    ]);
  });

  it('DAYS, windows on both sides of midnight', () => {
    const rows = [row('2026-05-01T23:59:00Z', 2), row('2026-05-02T00:00:00Z', 3), row('2026-05-02T23:59:00Z', 4)];
    expect(summary(rows, 'DAYS', 'UTC')).toEqual([
      { start: '2026-05-01T00:00:00+00:00', utc: '2026-05-01T00:00:00Z', bids: 2 },
      { start: '2026-05-02T00:00:00+00:00', utc: '2026-05-02T00:00:00Z', bids: 7 },
    ]);
  });

  it('WEEKS start on Monday, across a year boundary', () => {
    // 2026-01-01 is a Thursday: its week began Monday 2025-12-29. 2026-01-04 is Sunday, 01-05 Monday.
    const rows = [row('2025-12-29T00:00:00Z'), row('2026-01-01T12:00:00Z'), row('2026-01-04T23:59:00Z'), row('2026-01-05T00:00:00Z')];
    expect(summary(rows, 'WEEKS', 'UTC')).toEqual([
      { start: '2025-12-29T00:00:00+00:00', utc: '2025-12-29T00:00:00Z', bids: 3 },
      { start: '2026-01-05T00:00:00+00:00', utc: '2026-01-05T00:00:00Z', bids: 1 },
    ]);
  });

  it('WEEKS starting Monday across a month boundary: Tue 30 June and Wed 1 July share the week of Mon 29 June', () => {
    const rows = [row('2026-06-28T23:59:00Z'), row('2026-06-30T10:00:00Z'), row('2026-07-01T10:00:00Z')];
    expect(summary(rows, 'WEEKS', 'UTC')).toEqual([
      { start: '2026-06-22T00:00:00+00:00', utc: '2026-06-22T00:00:00Z', bids: 1 },
      { start: '2026-06-29T00:00:00+00:00', utc: '2026-06-29T00:00:00Z', bids: 2 },
    ]);
  });

  it('MONTHS', () => {
    const rows = [row('2026-01-31T23:59:00Z'), row('2026-02-01T00:00:00Z'), row('2026-02-28T23:59:00Z'), row('2026-03-01T00:00:00Z')];
    expect(summary(rows, 'MONTHS', 'UTC')).toEqual([
      { start: '2026-01-01T00:00:00+00:00', utc: '2026-01-01T00:00:00Z', bids: 1 },
      { start: '2026-02-01T00:00:00+00:00', utc: '2026-02-01T00:00:00Z', bids: 2 },
      { start: '2026-03-01T00:00:00+00:00', utc: '2026-03-01T00:00:00Z', bids: 1 },
    ]);
  });

  it('YEARS', () => {
    const rows = [row('2025-12-31T23:59:00Z'), row('2026-01-01T00:00:00Z'), row('2026-12-31T23:59:00Z')];
    expect(summary(rows, 'YEARS', 'UTC')).toEqual([
      { start: '2025-01-01T00:00:00+00:00', utc: '2025-01-01T00:00:00Z', bids: 1 },
      { start: '2026-01-01T00:00:00+00:00', utc: '2026-01-01T00:00:00Z', bids: 2 },
    ]);
  });

  it('a whole leap-free year of minutes: 365 days, 8760 hours, 12 months', () => {
    const rows = minutes('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(rollUp(rows, 'DAYS', 'UTC')).toHaveLength(365);
    expect(rollUp(rows, 'HOURS', 'UTC')).toHaveLength(8760);
    expect(rollUp(rows, 'MONTHS', 'UTC').map((r) => r.bids)).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31].map((d) => d * 1440));
  });
});

describe('rollUp in zones with non-hour offsets', () => {
  it('Asia/Kolkata (+05:30): hours begin at :30 UTC, days at 18:30 UTC', () => {
    expect(summary([row('2026-03-01T10:29:00Z'), row('2026-03-01T10:30:00Z')], 'HOURS', 'Asia/Kolkata')).toEqual([
      { start: '2026-03-01T15:00:00+05:30', utc: '2026-03-01T09:30:00Z', bids: 1 },
      { start: '2026-03-01T16:00:00+05:30', utc: '2026-03-01T10:30:00Z', bids: 1 },
    ]);
    expect(summary([row('2026-03-01T18:29:00Z'), row('2026-03-01T18:30:00Z')], 'DAYS', 'Asia/Kolkata')).toEqual([
      { start: '2026-03-01T00:00:00+05:30', utc: '2026-02-28T18:30:00Z', bids: 1 },
      { start: '2026-03-02T00:00:00+05:30', utc: '2026-03-01T18:30:00Z', bids: 1 },
    ]);
  });

  it('Asia/Kathmandu (+05:45): hours begin at :15 UTC, months at 18:15 UTC', () => {
    expect(summary(minutes('2026-06-01T10:00:00Z', '2026-06-01T11:30:00Z'), 'HOURS', 'Asia/Kathmandu')).toEqual([
      { start: '2026-06-01T15:00:00+05:45', utc: '2026-06-01T09:15:00Z', bids: 15 },
      { start: '2026-06-01T16:00:00+05:45', utc: '2026-06-01T10:15:00Z', bids: 60 },
      { start: '2026-06-01T17:00:00+05:45', utc: '2026-06-01T11:15:00Z', bids: 15 },
    ]);
    expect(summary([row('2026-04-30T18:14:00Z'), row('2026-04-30T18:15:00Z')], 'MONTHS', 'Asia/Kathmandu')).toEqual([
      { start: '2026-04-01T00:00:00+05:45', utc: '2026-03-31T18:15:00Z', bids: 1 },
      { start: '2026-05-01T00:00:00+05:45', utc: '2026-04-30T18:15:00Z', bids: 1 },
    ]);
  });
});

describe('rollUp across DST in America/New_York', () => {
  it('spring forward 2026-03-08: a 23-hour day', () => {
    expect(summary(minutes('2026-03-07T05:00:00Z', '2026-03-10T04:00:00Z'), 'DAYS', 'America/New_York')).toEqual([
      { start: '2026-03-07T00:00:00-05:00', utc: '2026-03-07T05:00:00Z', bids: 24 * 60 },
      { start: '2026-03-08T00:00:00-05:00', utc: '2026-03-08T05:00:00Z', bids: 23 * 60 },
      { start: '2026-03-09T00:00:00-04:00', utc: '2026-03-09T04:00:00Z', bids: 24 * 60 },
    ]);
  });

  it('spring forward: HOURS skips 02:00', () => {
    const hours = summary(minutes('2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z'), 'HOURS', 'America/New_York');
    expect(hours).toHaveLength(23);
    expect(hours.every((h) => h.bids === 60)).toBe(true);
    expect(hours.slice(0, 4)).toEqual([
      { start: '2026-03-08T00:00:00-05:00', utc: '2026-03-08T05:00:00Z', bids: 60 },
      { start: '2026-03-08T01:00:00-05:00', utc: '2026-03-08T06:00:00Z', bids: 60 },
      { start: '2026-03-08T03:00:00-04:00', utc: '2026-03-08T07:00:00Z', bids: 60 },
      { start: '2026-03-08T04:00:00-04:00', utc: '2026-03-08T08:00:00Z', bids: 60 },
    ]);
  });

  it('fall back 2026-11-01: a 25-hour day', () => {
    expect(summary(minutes('2026-11-01T04:00:00Z', '2026-11-02T06:00:00Z'), 'DAYS', 'America/New_York')).toEqual([
      { start: '2026-11-01T00:00:00-04:00', utc: '2026-11-01T04:00:00Z', bids: 25 * 60 },
      { start: '2026-11-02T00:00:00-05:00', utc: '2026-11-02T05:00:00Z', bids: 60 },
    ]);
  });

  it('fall back: the repeated 01:00 hour is two HOURS rows with different periods', () => {
    const hours = summary(minutes('2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z'), 'HOURS', 'America/New_York');
    expect(hours).toHaveLength(25);
    expect(hours.slice(0, 4)).toEqual([
      { start: '2026-11-01T00:00:00-04:00', utc: '2026-11-01T04:00:00Z', bids: 60 },
      { start: '2026-11-01T01:00:00-04:00', utc: '2026-11-01T05:00:00Z', bids: 60 },
      { start: '2026-11-01T01:00:00-05:00', utc: '2026-11-01T06:00:00Z', bids: 60 },
      { start: '2026-11-01T02:00:00-05:00', utc: '2026-11-01T07:00:00Z', bids: 60 },
    ]);
  });

  it('the week and the month holding a DST change are an hour short', () => {
    const rows = minutes('2026-03-02T05:00:00Z', '2026-03-09T04:00:00Z');
    expect(summary(rows, 'WEEKS', 'America/New_York')).toEqual([
      { start: '2026-03-02T00:00:00-05:00', utc: '2026-03-02T05:00:00Z', bids: (7 * 24 - 1) * 60 },
    ]);
    expect(summary(minutes('2026-03-01T05:00:00Z', '2026-04-01T04:00:00Z'), 'MONTHS', 'America/New_York')).toEqual([
      { start: '2026-03-01T00:00:00-05:00', utc: '2026-03-01T05:00:00Z', bids: (31 * 24 - 1) * 60 },
    ]);
    expect(summary([row('2026-04-01T03:59:00Z'), row('2026-04-01T04:00:00Z')], 'MONTHS', 'America/New_York').map((m) => m.start)).toEqual([
      '2026-03-01T00:00:00-05:00',
      '2026-04-01T00:00:00-04:00',
    ]);
  });
});

describe('rollUp across DST in Europe/Berlin', () => {
  it('2026-03-29: 23-hour day, HOURS skips 02:00', () => {
    const rows = minutes('2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z');
    expect(summary(rows, 'DAYS', 'Europe/Berlin')).toEqual([
      { start: '2026-03-29T00:00:00+01:00', utc: '2026-03-28T23:00:00Z', bids: 23 * 60 },
    ]);
    const starts = summary(rows, 'HOURS', 'Europe/Berlin').map((h) => h.start);
    expect(starts).toHaveLength(23);
    expect(starts.slice(1, 3)).toEqual(['2026-03-29T01:00:00+01:00', '2026-03-29T03:00:00+02:00']);
  });

  it('2026-10-25: 25-hour day, 02:00 twice', () => {
    const rows = minutes('2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z');
    expect(summary(rows, 'DAYS', 'Europe/Berlin')).toEqual([
      { start: '2026-10-25T00:00:00+02:00', utc: '2026-10-24T22:00:00Z', bids: 25 * 60 },
    ]);
    expect(summary(rows, 'HOURS', 'Europe/Berlin').slice(1, 5)).toEqual([
      { start: '2026-10-25T01:00:00+02:00', utc: '2026-10-24T23:00:00Z', bids: 60 },
      { start: '2026-10-25T02:00:00+02:00', utc: '2026-10-25T00:00:00Z', bids: 60 },
      { start: '2026-10-25T02:00:00+01:00', utc: '2026-10-25T01:00:00Z', bids: 60 },
      { start: '2026-10-25T03:00:00+01:00', utc: '2026-10-25T02:00:00Z', bids: 60 },
    ]);
  });
});

describe('rollUp in the southern hemisphere (Australia/Sydney)', () => {
  it('DST ends 2026-04-05 (25-hour day, 02:00 twice) and starts 2026-10-04 (23-hour day)', () => {
    const april = minutes('2026-04-04T13:00:00Z', '2026-04-05T14:00:00Z');
    expect(summary(april, 'DAYS', 'Australia/Sydney')).toEqual([
      { start: '2026-04-05T00:00:00+11:00', utc: '2026-04-04T13:00:00Z', bids: 25 * 60 },
    ]);
    const starts = summary(april, 'HOURS', 'Australia/Sydney').map((h) => h.start);
    expect(starts.filter((s) => s.startsWith('2026-04-05T02:00'))).toEqual(['2026-04-05T02:00:00+11:00', '2026-04-05T02:00:00+10:00']);

    expect(summary(minutes('2026-10-03T14:00:00Z', '2026-10-04T13:00:00Z'), 'DAYS', 'Australia/Sydney')).toEqual([
      { start: '2026-10-04T00:00:00+10:00', utc: '2026-10-03T14:00:00Z', bids: 23 * 60 },
    ]);
  });
});

describe('rollUp where DST starts at midnight', () => {
  const localClock = (zone: string, iso: string): string =>
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));

  it('America/Santiago 2026-09-06 has no midnight (tz data check)', () => {
    expect(localClock('America/Santiago', '2026-09-06T03:59:59Z')).toBe('2026-09-05, 23:59:59');
    expect(localClock('America/Santiago', '2026-09-06T04:00:00Z')).toBe('2026-09-06, 01:00:00');
  });

  it('America/Santiago 2026-09-06 starts at its first instant, 01:00-03:00, and lasts 23 hours', () => {
    expect(summary(minutes('2026-09-05T04:00:00Z', '2026-09-07T03:00:00Z'), 'DAYS', 'America/Santiago')).toEqual([
      { start: '2026-09-05T00:00:00-04:00', utc: '2026-09-05T04:00:00Z', bids: 24 * 60 },
      { start: '2026-09-06T01:00:00-03:00', utc: '2026-09-06T04:00:00Z', bids: 23 * 60 },
    ]);
    // The unit is found from any window inside it, not only from its first one.
    expect(summary([row('2026-09-06T20:00:00Z')], 'DAYS', 'America/Santiago')[0]!.start).toBe('2026-09-06T01:00:00-03:00');
    expect(summary([row('2026-09-06T20:00:00Z')], 'WEEKS', 'America/Santiago')[0]!.start).toBe('2026-08-31T00:00:00-04:00');
  });

  it('America/Santiago 2026-04-04 falls back at midnight: a 25-hour Saturday', () => {
    expect(summary(minutes('2026-04-04T03:00:00Z', '2026-04-05T05:00:00Z'), 'DAYS', 'America/Santiago')).toEqual([
      { start: '2026-04-04T00:00:00-03:00', utc: '2026-04-04T03:00:00Z', bids: 25 * 60 },
      { start: '2026-04-05T00:00:00-04:00', utc: '2026-04-05T04:00:00Z', bids: 60 },
    ]);
  });

  it('America/Havana 2026-03-08 starts at 01:00-04:00', () => {
    expect(localClock('America/Havana', '2026-03-08T04:59:59Z')).toBe('2026-03-07, 23:59:59');
    expect(summary([row('2026-03-08T04:59:00Z'), row('2026-03-08T05:00:00Z')], 'DAYS', 'America/Havana')).toEqual([
      { start: '2026-03-07T00:00:00-05:00', utc: '2026-03-07T05:00:00Z', bids: 1 },
      { start: '2026-03-08T01:00:00-04:00', utc: '2026-03-08T05:00:00Z', bids: 1 },
    ]);
  });
});

describe('rollUp with a 30-minute DST shift (Australia/Lord_Howe, 2026-04-05 02:00+11 -> 01:30+10:30)', () => {
  it('the repeated half hour is its own HOURS row starting at 01:30', () => {
    expect(summary(minutes('2026-04-04T14:00:00Z', '2026-04-04T16:30:00Z'), 'HOURS', 'Australia/Lord_Howe')).toEqual([
      { start: '2026-04-05T01:00:00+11:00', utc: '2026-04-04T14:00:00Z', bids: 60 },
      { start: '2026-04-05T01:30:00+10:30', utc: '2026-04-04T15:00:00Z', bids: 30 },
      { start: '2026-04-05T02:00:00+10:30', utc: '2026-04-04T15:30:00Z', bids: 60 },
    ]);
  });

  it('finds that half hour from a lone window inside it (neither wall-clock guess is right there)', () => {
    expect(summary([row('2026-04-04T15:10:00Z')], 'HOURS', 'Australia/Lord_Howe')).toEqual([
      { start: '2026-04-05T01:30:00+10:30', utc: '2026-04-04T15:00:00Z', bids: 1 },
    ]);
  });
});

describe('rollUp months and years in a non-UTC zone', () => {
  it('2026-12-31T23:30Z is already January 2027 in Europe/Berlin', () => {
    const rows = [row('2026-12-31T22:59:00Z', 5), row('2026-12-31T23:00:00Z', 7), row('2026-12-31T23:30:00Z', 11)];
    expect(summary(rows, 'MONTHS', 'Europe/Berlin')).toEqual([
      { start: '2026-12-01T00:00:00+01:00', utc: '2026-11-30T23:00:00Z', bids: 5 },
      { start: '2027-01-01T00:00:00+01:00', utc: '2026-12-31T23:00:00Z', bids: 18 },
    ]);
    expect(summary(rows, 'YEARS', 'Europe/Berlin')).toEqual([
      { start: '2026-01-01T00:00:00+01:00', utc: '2025-12-31T23:00:00Z', bids: 5 },
      { start: '2027-01-01T00:00:00+01:00', utc: '2026-12-31T23:00:00Z', bids: 18 },
    ]);
  });

  it('a week in Europe/Berlin crossing the year boundary starts Monday 2026-12-28 local midnight', () => {
    const rows = [row('2026-12-27T22:59:00Z'), row('2026-12-27T23:00:00Z'), row('2027-01-03T22:59:00Z'), row('2027-01-03T23:00:00Z')];
    expect(summary(rows, 'WEEKS', 'Europe/Berlin').map((w) => [w.start, w.bids])).toEqual([
      ['2026-12-21T00:00:00+01:00', 1],
      ['2026-12-28T00:00:00+01:00', 2],
      ['2027-01-04T00:00:00+01:00', 1],
    ]);
  });
});

describe('rollUp ordering, shape and sums', () => {
  const rows = [row('2026-01-01T00:00:00Z'), row('2026-01-02T00:00:00Z'), row('2026-01-03T00:00:00Z')];

  it('sorts descending when asked', () => {
    expect(summary(rows, 'DAYS', 'UTC', true).map((d) => d.utc)).toEqual(['2026-01-03T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z']);
    expect(rollUp(rows, 'DAYS', 'UTC', {}).map((d) => d.period)).toEqual(rows.map((r) => r.period));
  });

  it('answers [] for no rows', () => {
    expect(rollUp([], 'DAYS', 'UTC')).toEqual([]);
    expect(rollUp([] as Row[], 'HOURS', 'America/New_York', { desc: true })).toEqual([]);
  });

  it('gives the same answer for unsorted input', () => {
    const sorted = minutes('2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z');
    const shuffled = [...sorted].sort((a, b) => ((a.period * 7919) % 1009) - ((b.period * 7919) % 1009));
    for (const unit of ['HOURS', 'DAYS'] as const) expect(rollUp(shuffled, unit, 'America/New_York')).toEqual(rollUp(sorted, unit, 'America/New_York'));
  });

  it('sums every numeric counter, late_events included, exactly; other fields are dropped', () => {
    const input = [
      { period: at('2026-02-01T10:00:00Z'), bids: 9_000_000_000_001, impressions: 2, clicks: 1, late_events: 4, source: 'x' },
      { period: at('2026-02-01T10:01:00Z'), bids: 9_000_000_000_003, impressions: 5, clicks: 0, late_events: 1, source: 'y' },
    ];
    const [day] = rollUp(input, 'DAYS', 'UTC');
    expect(day).toEqual({
      period: at('2026-02-01T00:00:00Z'),
      period_start: '2026-02-01T00:00:00+00:00',
      bids: 18_000_000_000_004,
      impressions: 7,
      clicks: 1,
      late_events: 5,
    });
  });

  it('sums only the named counters when given', () => {
    const [day] = rollUp([row('2026-02-01T10:00:00Z', 3)], 'DAYS', 'UTC', { counters: ['bids', 'clicks'] });
    expect(day).toEqual({ period: at('2026-02-01T00:00:00Z'), period_start: '2026-02-01T00:00:00+00:00', bids: 3, clicks: 0 });
  });

  it('keeps totals: every zone and unit sums to the input total', () => {
    const input = minutes('2026-02-20T00:00:00Z', '2026-04-10T00:00:00Z').map((r, i) => ({ ...r, bids: (i * 37) % 11, clicks: i % 3 }));
    const total = input.reduce((s, r) => s + r.bids, 0);
    for (const zone of ['UTC', 'America/New_York', 'Asia/Kathmandu', 'Australia/Sydney', 'America/Santiago']) {
      for (const unit of ['HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS'] as const) {
        expect(rollUp(input, unit, zone).reduce((s, r) => s + r.bids, 0)).toBe(total);
      }
    }
  });

  it('groups like a naive per-row Intl lookup (local date, and local hour plus offset for HOURS)', () => {
    const input = minutes('2026-03-27T00:00:00Z', '2026-04-07T00:00:00Z').filter((_, i) => i % 7 === 0);
    for (const zone of ['Europe/Berlin', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kolkata']) {
      const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', dateStyle: 'short', timeStyle: 'long' });
      const naiveDay = new Map<string, number>();
      const naiveHour = new Map<string, number>();
      for (const r of input) {
        const [date, time] = parts.format(new Date(r.period * 1000)).split(', ') as [string, string];
        const hourKey = `${date} ${time.slice(0, 2)} ${time.slice(9)}`;
        naiveDay.set(date, (naiveDay.get(date) ?? 0) + r.bids);
        naiveHour.set(hourKey, (naiveHour.get(hourKey) ?? 0) + r.bids);
      }
      expect(rollUp(input, 'DAYS', zone).map((d) => d.bids)).toEqual([...naiveDay.values()]);
      expect(rollUp(input, 'HOURS', zone).map((d) => d.bids)).toEqual([...naiveHour.values()]);
    }
  });

  it('throws RangeError for an unknown zone or a non-finite period', () => {
    expect(() => rollUp(rows, 'DAYS', 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => rollUp([...rows, { ...rows[0]!, period: NaN }], 'DAYS', 'UTC')).toThrow(RangeError);
  });
});

describe('rollUp efficiency', () => {
  it('asks Intl a bounded number of times per unit, not per row', () => {
    const spy = jest.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    try {
      const rows = minutes('2026-10-01T00:00:00Z', '2026-12-01T00:00:00Z'); // ~88k rows, 1465 local hours
      const hours = rollUp(rows, 'HOURS', 'America/New_York');
      expect(hours.length).toBeGreaterThan(1400);
      expect(spy.mock.calls.length).toBeLessThan(4 * hours.length);
      spy.mockClear();
      const days = rollUp(rows, 'DAYS', 'America/New_York');
      expect(spy.mock.calls.length).toBeLessThan(4 * days.length + 40);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('derivedMetrics', () => {
  it('ctr = clicks / impressions and win_rate = impressions / bids, 6 decimals', () => {
    expect(derivedMetrics({ bids: 3, impressions: 3, clicks: 1 })).toEqual({ ctr: 0.333333, win_rate: 1 });
    expect(derivedMetrics({ bids: 3, impressions: 2, clicks: 0 })).toEqual({ ctr: 0, win_rate: 0.666667 });
  });

  it('is null when the denominator is 0', () => {
    expect(derivedMetrics({ bids: 0, impressions: 0, clicks: 0 })).toEqual({ ctr: null, win_rate: null });
    expect(derivedMetrics({ bids: 5, impressions: 0, clicks: 0 })).toEqual({ ctr: null, win_rate: 0 });
  });

  it('works on a rolled-up row', () => {
    const [day] = rollUp([{ period: 0, bids: 8, impressions: 4, clicks: 1, late_events: 0 }], 'DAYS', 'UTC');
    expect(derivedMetrics(day!)).toEqual({ ctr: 0.25, win_rate: 0.5 });
  });
});
