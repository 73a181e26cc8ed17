/**
 * Rolls per-window aggregate rows up into calendar units (hours to years) of an IANA time zone,
 * DST-aware: counts and sums add, minima and maxima (options.kinds) take the least and greatest
 * value. Also the ad-tech report's derived metrics (ctr, win rate), kept for its tests; reports of
 * declared aggregations derive theirs in measures.ts. Pure: no I/O.
 */
import type { MeasureKind } from '../../schemas/pipeline';
import { combine } from './measures';

export const ROLLUP_UNITS = ['HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS'] as const;
export type RollupUnit = (typeof ROLLUP_UNITS)[number];

/** The numeric fields of a row type other than `period` (and `period_start`): the counters that get summed. */
export type CounterKeys<R> = Exclude<
  { [K in keyof R]-?: R[K] extends number ? K : never }[keyof R],
  'period' | 'period_start'
> &
  string;

/** One rolled-up row: the unit's first instant (epoch seconds), that instant as local ISO 8601 with offset, the summed counters. */
export type RolledUpRow<R> = { period: number; period_start: string } & { [K in CounterKeys<R>]: number };

/** How a counter combines: min and max take the least and greatest value present (null in a unit with none); every other adds. */
export type CounterKind = MeasureKind;

export interface RollupOptions<R> {
  /** Newest unit first. Default: oldest first. */
  desc?: boolean;
  /** The fields to sum. Default: every numeric field (other than `period`) found on any row. */
  counters?: readonly CounterKeys<R>[];
  /** The counters that are not summed (minima and maxima), by name. */
  kinds?: Readonly<Record<string, CounterKind>>;
}

/** A unit's half-open span [start, end) in epoch seconds. */
interface Span {
  start: number;
  end: number;
}

/** Wall-clock reading of an instant in a zone, and the zone's offset then (seconds east of UTC). */
interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  offset: number;
}

/**
 * Sums `rows` (per-window counts, `period` = window start in epoch seconds) into one row per
 * calendar unit of `timezone` that has data. A window belongs to the unit containing its start
 * instant. Rows are expected sorted ascending by period (each unit's span is computed once and
 * reused for the following rows); unsorted input still gives the right answer, only slower.
 * Throws RangeError for an unknown time zone or a non-finite period.
 */
export function rollUp<R extends { period: number }>(
  rows: readonly R[],
  unit: RollupUnit,
  timezone: string,
  options: RollupOptions<R> = {},
): RolledUpRow<R>[] {
  const calendar = new ZoneCalendar(timezone, UNIT_RULES[unit]);
  const counters: readonly string[] = options.counters ?? numericFields(rows);
  const kinds = counters.map((c) => options.kinds?.[c] ?? 'sum');
  const summedOnly = kinds.every((k) => k === 'sum' || k === 'count');
  const buckets = new Map<number, Bucket>();
  let span: Span | undefined;
  let sums: (number | undefined)[] = [];
  for (const row of rows) {
    const t = row.period;
    if (span === undefined || !(t >= span.start && t < span.end)) {
      span = calendar.spanContaining(t, span);
      sums = (buckets.get(span.start) ?? newBucket(buckets, span.start, calendar, kinds)).sums;
    }
    if (summedOnly) addCounters(sums as number[], row as unknown as Record<string, unknown>, counters);
    else combineCounters(sums, row as unknown as Record<string, unknown>, counters, kinds);
  }
  const starts = [...buckets.keys()].sort((a, b) => (options.desc ? b - a : a - b));
  return starts.map((start) => toRow<R>(start, buckets.get(start)!, counters));
}

/** True when Intl knows the zone (IANA names, case-insensitive, and aliases such as `UTC`). */
export function isValidTimeZone(timezone: string): boolean {
  if (timezone === '') return false;
  try {
    formatterFor(timezone);
    return true;
  } catch {
    return false;
  }
}

// ---- summing ----

function numericFields(rows: readonly object[]): string[] {
  const seen = new Set<string>();
  for (const row of rows as readonly Record<string, unknown>[]) {
    for (const key in row) {
      if (typeof row[key] === 'number' && key !== 'period' && key !== 'period_start') seen.add(key);
    }
  }
  return [...seen];
}

/** One unit's running totals, in the order of the counter names. */
interface Bucket {
  periodStart: string;
  /** undefined: a minimum or maximum with no value yet. */
  sums: (number | undefined)[];
}

function newBucket(buckets: Map<number, Bucket>, start: number, calendar: ZoneCalendar, kinds: readonly CounterKind[]): Bucket {
  const bucket = { periodStart: calendar.isoLocal(start), sums: kinds.map((k) => (k === 'min' || k === 'max' ? undefined : 0)) };
  buckets.set(start, bucket);
  return bucket;
}

function addCounters(sums: number[], row: Record<string, unknown>, counters: readonly string[]): void {
  for (let i = 0; i < counters.length; i++) {
    const value = row[counters[i]!];
    if (typeof value === 'number') sums[i]! += value;
  }
}

function combineCounters(sums: (number | undefined)[], row: Record<string, unknown>, counters: readonly string[], kinds: readonly CounterKind[]): void {
  for (let i = 0; i < counters.length; i++) {
    const value = row[counters[i]!];
    sums[i] = combine(kinds[i]!, sums[i], typeof value === 'number' ? value : undefined);
  }
}

function toRow<R>(start: number, bucket: Bucket, counters: readonly string[]): RolledUpRow<R> {
  const row: Record<string, number | string | null> = { period: start, period_start: bucket.periodStart };
  counters.forEach((name, i) => (row[name] = bucket.sums[i] ?? null));
  return row as RolledUpRow<R>;
}

// ---- calendar units ----

/** How one unit kind maps onto the wall clock. */
interface UnitRule {
  /** Wall-clock seconds (as if UTC) of the unit's nominal first reading, e.g. local midnight for DAYS. */
  wallStart(local: LocalTime): number;
  /** Wall-clock seconds of the next unit's nominal first reading. */
  nextWallStart(wallStart: number): number;
  /** Seconds; longer than any real unit, bounds the binary searches. */
  maxLength: number;
  /** HOURS: the offset is part of the unit, so a repeated local hour (DST fall-back) is two units. */
  splitOnOffset: boolean;
}

const HOUR = 3600;
const DAY = 86400;

const wallSeconds = (y: number, m: number, d: number, h = 0): number => Date.UTC(y, m - 1, d, h) / 1000;
const addMonths = (wall: number, months: number): number => {
  const date = new Date(wall * 1000);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1) / 1000;
};
/** Monday = 0 … Sunday = 6 for a wall-clock day start (1970-01-01 was a Thursday). */
const weekdayFromMonday = (wallDay: number): number => (((wallDay / DAY + 3) % 7) + 7) % 7;

const UNIT_RULES: Record<RollupUnit, UnitRule> = {
  HOURS: {
    wallStart: (l) => wallSeconds(l.year, l.month, l.day, l.hour),
    nextWallStart: (w) => w + HOUR,
    maxLength: 2 * HOUR,
    splitOnOffset: true,
  },
  DAYS: {
    wallStart: (l) => wallSeconds(l.year, l.month, l.day),
    nextWallStart: (w) => w + DAY,
    maxLength: 3 * DAY,
    splitOnOffset: false,
  },
  WEEKS: {
    wallStart: (l) => {
      const day = wallSeconds(l.year, l.month, l.day);
      return day - weekdayFromMonday(day) * DAY;
    },
    nextWallStart: (w) => w + 7 * DAY,
    maxLength: 9 * DAY,
    splitOnOffset: false,
  },
  MONTHS: {
    wallStart: (l) => wallSeconds(l.year, l.month, 1),
    nextWallStart: (w) => addMonths(w, 1),
    maxLength: 33 * DAY,
    splitOnOffset: false,
  },
  YEARS: {
    wallStart: (l) => wallSeconds(l.year, 1, 1),
    nextWallStart: (w) => addMonths(w, 12),
    maxLength: 368 * DAY,
    splitOnOffset: false,
  },
};

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

/** One cached formatter per zone (zone names are case-insensitive, so the cache stays bounded). */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  const cacheKey = timeZone.toLowerCase();
  let formatter = FORMATTERS.get(cacheKey);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    FORMATTERS.set(cacheKey, formatter);
  }
  return formatter;
}

/**
 * Finds unit spans in one zone. A unit is identified by a key (its nominal wall-clock start; for
 * HOURS also the offset); its span starts at the first instant having that key. Keys only grow
 * with time, so boundaries are found by guessing from the wall clock, checking the guess, and
 * falling back to a bounded binary search when an offset change makes the guess wrong.
 */
class ZoneCalendar {
  private readonly formatter: Intl.DateTimeFormat;
  private readonly recent: { t: number; local: LocalTime }[] = [];

  constructor(
    timezone: string,
    private readonly rule: UnitRule,
  ) {
    this.formatter = formatterFor(timezone);
  }

  spanContaining(period: number, previous?: Span): Span {
    if (!Number.isFinite(period)) throw new RangeError(`period must be a finite number, got ${period}`);
    const t = Math.floor(period);
    const local = this.local(t);
    const key = this.keyOf(local);
    const start =
      previous !== undefined && t >= previous.end && this.key(previous.end) === key
        ? previous.end
        : this.findStart(t, local, key);
    return { start, end: this.findEnd(start, this.rule.wallStart(local), key) };
  }

  /** The instant as ISO 8601 local time with offset, e.g. 2026-03-08T00:00:00-05:00. */
  isoLocal(t: number): string {
    const l = this.local(t);
    const date = `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)}`;
    return `${date}T${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}${formatOffset(l.offset)}`;
  }

  private findStart(t: number, local: LocalTime, key: number): number {
    const isStart = (c: number): boolean => c <= t && this.key(c) === key && this.key(c - 1) !== key;
    const wall = this.rule.wallStart(local);
    const guess = wall - local.offset;
    if (isStart(guess)) return guess;
    const retry = wall - this.local(guess).offset;
    if (isStart(retry)) return retry;
    return firstTrue(t - this.rule.maxLength, t, (s) => this.key(s) === key);
  }

  private findEnd(start: number, wall: number, key: number): number {
    const isEnd = (c: number): boolean => c > start && this.key(c) !== key && this.key(c - 1) === key;
    const nextWall = this.rule.nextWallStart(wall);
    const guess = nextWall - this.local(start).offset;
    if (isEnd(guess)) return guess;
    const retry = nextWall - this.local(guess).offset;
    if (isEnd(retry)) return retry;
    return firstTrue(start, start + this.rule.maxLength, (s) => this.key(s) !== key);
  }

  private key(t: number): number {
    return this.keyOf(this.local(t));
  }

  private keyOf(local: LocalTime): number {
    const wall = this.rule.wallStart(local);
    // For HOURS, wall - offset is the instant the hour began at the current offset: it differs
    // between the two runs of a repeated hour while staying equal within each run.
    return this.rule.splitOnOffset ? wall - local.offset : wall;
  }

  /** Local time at t; the last few answers are remembered, as consecutive spans ask about the same boundaries. */
  private local(t: number): LocalTime {
    const hit = this.recent.find((entry) => entry.t === t);
    if (hit !== undefined) return hit.local;
    const local = this.format(t);
    this.recent.push({ t, local });
    if (this.recent.length > 8) this.recent.shift();
    return local;
  }

  private format(t: number): LocalTime {
    const fields: Record<string, number> = {};
    for (const part of this.formatter.formatToParts(new Date(t * 1000))) {
      if (part.type !== 'literal') fields[part.type] = Number(part.value);
    }
    const l = fields as unknown as Omit<LocalTime, 'offset'>;
    const offset = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) / 1000 - t;
    return { ...l, offset };
  }
}

/** Smallest s in (lo, hi] with predicate(s), given !predicate(lo), predicate(hi), and predicate monotone. */
function firstTrue(lo: number, hi: number, predicate: (s: number) => boolean): number {
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (predicate(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** ±HH:MM, or ±HH:MM:SS for the historical offsets that are not whole minutes. */
function formatOffset(offsetSeconds: number): string {
  const sign = offsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(offsetSeconds);
  const hm = `${sign}${pad(Math.floor(abs / HOUR))}:${pad(Math.floor((abs % HOUR) / 60))}`;
  return abs % 60 === 0 ? hm : `${hm}:${pad(abs % 60)}`;
}
