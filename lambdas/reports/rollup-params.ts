/** Parses and validates the query string of a report's roll-up route, GET /reports/<route>/{...}/period (period, timezone, from, to, desc), into roll-up parameters. Pure. */
import { ROLLUP_UNITS, isValidTimeZone, type RollupUnit } from './rollup';

export interface RollupParams {
  unit: RollupUnit;
  /** IANA zone name as given (Intl-validated, case-insensitive). */
  timezone: string;
  /** Inclusive lower bound on a window's start, epoch seconds. */
  from?: number;
  /** Exclusive upper bound on a window's start, epoch seconds. */
  to?: number;
  desc: boolean;
}

export type RollupParamsResult = { ok: true; params: RollupParams } | { ok: false; field: string; message: string };

/** The largest instant a JavaScript Date can hold, in epoch seconds; from/to beyond it are rejected. */
export const MAX_EPOCH_SECONDS = 8_640_000_000_000;

type FieldResult<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Defaults: period=DAYS, timezone=UTC, all time, ascending. The period unit and desc are
 * case-insensitive (`days`, `True` are accepted). Unknown parameters are ignored. The range is
 * half-open: a window is in it when from <= period < to; from == to is a valid, empty range.
 */
export function parseRollupParams(query: Record<string, string | undefined> | null): RollupParamsResult {
  const q = query ?? {};
  const unit = parseUnit(q.period);
  if (!unit.ok) return fail('period', unit.message);
  const timezone = parseTimezone(q.timezone);
  if (!timezone.ok) return fail('timezone', timezone.message);
  const from = parseEpochSeconds('from', q.from);
  if (!from.ok) return fail('from', from.message);
  const to = parseEpochSeconds('to', q.to);
  if (!to.ok) return fail('to', to.message);
  if (from.value !== undefined && to.value !== undefined && from.value > to.value) {
    return fail('from', `from (${from.value}) must not be after to (${to.value})`);
  }
  const desc = parseBoolean('desc', q.desc);
  if (!desc.ok) return fail('desc', desc.message);

  const params: RollupParams = { unit: unit.value, timezone: timezone.value, desc: desc.value };
  if (from.value !== undefined) params.from = from.value;
  if (to.value !== undefined) params.to = to.value;
  return { ok: true, params };
}

/** The half-open range test: from <= period < to (a missing bound is unbounded). */
export function inRange(period: number, range: { from?: number; to?: number }): boolean {
  return (range.from === undefined || period >= range.from) && (range.to === undefined || period < range.to);
}

function fail(field: string, message: string): RollupParamsResult {
  return { ok: false, field, message };
}

function parseUnit(raw: string | undefined): FieldResult<RollupUnit> {
  if (raw === undefined) return { ok: true, value: 'DAYS' };
  const unit = ROLLUP_UNITS.find((u) => u === raw.toUpperCase());
  if (unit === undefined) return { ok: false, message: `period must be one of ${ROLLUP_UNITS.join(', ')}, got ${quote(raw)}` };
  return { ok: true, value: unit };
}

function parseTimezone(raw: string | undefined): FieldResult<string> {
  if (raw === undefined) return { ok: true, value: 'UTC' };
  if (!isValidTimeZone(raw)) return { ok: false, message: `timezone must be an IANA time zone such as UTC or Europe/Berlin, got ${quote(raw)}` };
  return { ok: true, value: raw };
}

function parseEpochSeconds(name: string, raw: string | undefined): FieldResult<number | undefined> {
  if (raw === undefined) return { ok: true, value: undefined };
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!(value <= MAX_EPOCH_SECONDS)) {
    return { ok: false, message: `${name} must be a whole number of epoch seconds from 0 to ${MAX_EPOCH_SECONDS}, got ${quote(raw)}` };
  }
  return { ok: true, value };
}

function parseBoolean(name: string, raw: string | undefined): FieldResult<boolean> {
  if (raw === undefined) return { ok: true, value: false };
  const lower = raw.toLowerCase();
  if (lower !== 'true' && lower !== 'false') return { ok: false, message: `${name} must be true or false, got ${quote(raw)}` };
  return { ok: true, value: lower === 'true' };
}

/** Echoes a bad value back, cut short so a huge parameter doesn't make a huge error. */
function quote(raw: string): string {
  return JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw);
}
