/**
 * Sliding (hopping) windows computed on read from an aggregation's tumbling rows:
 * `?window=<seconds>&step=<seconds>`, both whole multiples of the aggregation's period. Windows are
 * epoch-aligned like the tumbling ones: each starts at a multiple of `step` and covers
 * [start, start + window), so window = step = period gives back the tumbling rows. Each window is
 * exact: it is combined only from rows the caller read in full (see `windowStarts`). Pure.
 */
import type { AggregationSpec } from '../../schemas/pipeline';
import { combineRows, type MeasureValues } from './measures';

export interface SlidingParams {
  /** Window length, seconds. */
  window: number;
  /** Seconds between window starts. */
  step: number;
}

/** More windows than this in one answer is refused: a client narrows from/to or widens the step. */
export const MAX_WINDOWS = 10_000;

export type SlidingParamsResult = { ok: true; params: SlidingParams | undefined } | { ok: false; field: string; message: string };

/** Parses window and step (both or neither) as whole multiples of `periodSeconds`. */
export function parseSlidingParams(query: Readonly<Record<string, string | undefined>> | null, periodSeconds: number): SlidingParamsResult {
  const q = query ?? {};
  if (q.window === undefined && q.step === undefined) return { ok: true, params: undefined };
  const values: Partial<SlidingParams> = {};
  for (const name of ['window', 'step'] as const) {
    const raw = q[name];
    if (raw === undefined) return { ok: false, field: name, message: `${name} is required with ${name === 'window' ? 'step' : 'window'}: both are seconds, multiples of the period (${periodSeconds})` };
    const value = /^\d{1,12}$/.test(raw) ? Number(raw) : NaN;
    if (!(value > 0) || value % periodSeconds !== 0) {
      return { ok: false, field: name, message: `${name} must be a positive whole multiple of the aggregation's period (${periodSeconds} seconds), got ${JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw)}` };
    }
    values[name] = value;
  }
  return { ok: true, params: values as SlidingParams };
}

/** The largest multiple of `step` at or below `t`. */
const alignDown = (t: number, step: number) => Math.floor(t / step) * step;

/** The first and last window starts a request's from/to fix on their own (multiples of step within [from, to)). */
function boundsOf({ step }: SlidingParams, range: { from?: number; to?: number }): { first?: number; last?: number } {
  return {
    ...(range.from !== undefined && { first: Math.ceil(range.from / step) * step }),
    ...(range.to !== undefined && { last: alignDown(range.to - 1, step) }),
  };
}

/** The rows to read, [from, to), so that every window the answer holds is whole. */
export function readRange(params: SlidingParams, range: { from?: number; to?: number }): { from?: number; to?: number } {
  const { first, last } = boundsOf(params, range);
  return { ...(first !== undefined && { from: first }), ...(last !== undefined && { to: last + params.window }) };
}

/**
 * The window starts to answer: those in [from, to) when given; where a bound is not given, every
 * window holding one of the rows read (`first`..`last`, the periods of the first and last row),
 * which is exact, as there is no row outside what was read on that side.
 */
export function windowStarts(params: SlidingParams, range: { from?: number; to?: number }, rows: { first: number; last: number } | undefined): { starts: number[] } | { tooMany: number } {
  const { window, step } = params;
  const bounds = boundsOf(params, range);
  // The first window holding row `first`: the smallest multiple of step above first - window.
  const first = bounds.first ?? (rows && alignDown(rows.first - window, step) + step);
  const last = bounds.last ?? (rows && alignDown(rows.last, step));
  if (first === undefined || last === undefined || last < first) return { starts: [] };
  const count = (last - first) / step + 1;
  if (count > MAX_WINDOWS) return { tooMany: count };
  return { starts: Array.from({ length: count }, (_, i) => first + i * step) };
}

export type WindowRow = { start: number; end: number } & MeasureValues;

/** Each window's combined values, from rows sorted by period (window starts in the order given). */
export function slidingWindows(aggregation: AggregationSpec, rows: readonly ({ period: number } & Record<string, unknown>)[], starts: readonly number[], window: number): WindowRow[] {
  let lo = 0;
  return starts.map((start) => {
    const end = start + window;
    while (lo < rows.length && rows[lo]!.period < start) lo++;
    let hi = lo;
    while (hi < rows.length && rows[hi]!.period < end) hi++;
    return { start, end, ...combineRows(aggregation, rows.slice(lo, hi)) };
  });
}
