/**
 * The measures of a declared aggregation on read (schemas/pipeline.ts): combining stored window
 * rows into totals (counts, sums and late_events add; minima and maxima take the least and the
 * greatest value present) and the derived values computed from them (ratios, null when the
 * denominator is 0). Pure: no I/O.
 */
import type { AggregationSpec, MeasureKind } from '../../schemas/pipeline';
import { measureKinds } from '../../schemas/aggregates';

export { LATE_EVENTS } from '../../schemas/aggregates';

/** A report row's measure values: a number, or null for a minimum or maximum with no value yet. */
export type MeasureValues = Record<string, number | null>;

/** How each value of a row combines with another: every measure by its kind, late_events by adding. */
export function combinersOf(aggregation: AggregationSpec): ReadonlyMap<string, MeasureKind> {
  return measureKinds(aggregation);
}

/** The value names of a row in the order reports show them: measures as declared, then late_events. */
export function valueNames(aggregation: AggregationSpec): string[] {
  return [...combinersOf(aggregation).keys()];
}

/** `a` combined with `b` by a measure's kind; undefined stands for "no value" (a minimum or maximum not set). */
export function combine(kind: MeasureKind, a: number | undefined, b: number | undefined): number | undefined {
  if (kind === 'count' || kind === 'sum') return (a ?? 0) + (b ?? 0);
  if (a === undefined) return b;
  if (b === undefined) return a;
  return kind === 'min' ? Math.min(a, b) : Math.max(a, b);
}

/** The totals of `rows` (each holding its stored values; absent ones count as none): counts and sums 0 when empty, minima and maxima null. */
export function combineRows(aggregation: AggregationSpec, rows: readonly Readonly<Record<string, unknown>>[]): MeasureValues {
  const out: MeasureValues = {};
  for (const [name, kind] of combinersOf(aggregation)) {
    let value: number | undefined = kind === 'count' || kind === 'sum' ? 0 : undefined;
    for (const row of rows) {
      const v = row[name];
      value = combine(kind, value, typeof v === 'number' ? v : undefined);
    }
    out[name] = value ?? null;
  }
  return out;
}

/** `numerator / denominator` rounded to 6 decimals; null when the denominator is 0 (or either is absent). */
export function ratio(numerator: number | null | undefined, denominator: number | null | undefined): number | null {
  if (numerator == null || denominator == null || denominator === 0) return null;
  return Math.round((numerator / denominator) * 1e6) / 1e6;
}

/** The aggregation's derived values of one row of totals, in declared order. */
export function derivedValues(aggregation: AggregationSpec, values: Readonly<MeasureValues>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const d of aggregation.derived) out[d.name] = ratio(values[d.numerator], values[d.denominator]);
  return out;
}

/** A row with its derived values appended. */
export function withDerived<T extends MeasureValues>(aggregation: AggregationSpec, row: T): T & Record<string, number | null> {
  return { ...row, ...derivedValues(aggregation, row) };
}
