/**
 * The aggregate rows of declared aggregations (schemas/pipeline.ts), one table for all: what the
 * aggregator writes, the reports read and the aggregates feed carries.
 *
 * Key `group` (S), groupKey's value, and `period` (N), the window's start in epoch seconds;
 * attributes `aggregation`, each group field under its own name, each measure under its name
 * (counts and sums from 0, minima and maxima absent until a value arrives), `late_events`,
 * `revision` (grows by one with every change), `updated_at` (epoch ms), and the aggregator's
 * per-shard fences `fence_<shardId>`.
 */
import type { AggregationSpec, MeasureKind } from './pipeline';

export function groupKey(aggregation: string, values: readonly (string | number | boolean)[]): string {
  return `${aggregation}#${JSON.stringify(values)}`;
}

/** Prefix of the aggregator's per-shard fence attributes on a stored row. */
export const FENCE_PREFIX = 'fence_';

/**
 * A row as published on the aggregates feed and in the lake: the stored item without its `group`
 * key and fences: `{ aggregation, <group fields>, period, <measures>, late_events, revision, updated_at }`.
 */
export interface AggregationRow {
  aggregation: string;
  period: number;
  late_events: number;
  revision: number;
  updated_at: number;
  [field: string]: string | number | boolean;
}

/** The feed record of a stored row item (contract 3 of issue 19). */
export function feedRowOf(item: Record<string, unknown>): AggregationRow {
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (k !== 'group' && !k.startsWith(FENCE_PREFIX) && !k.startsWith('redrive_')) row[k] = v;
  row.late_events ??= 0;
  row.revision ??= 0;
  row.updated_at ??= 0;
  return row as AggregationRow;
}

// The shipped pipeline's typed view of its rows (pipelines/adtech/rows.ts), re-exported for the
// importers not yet moved (perf/, some tests); new code imports it from there.
export { COUNTERS, zeroTotals, totalsOf, type Counter, type Totals, type AggregateRow } from '../pipelines/adtech/rows';

/** The counter every aggregate row carries besides its declared measures: events past the allowed lateness. */
export const LATE_EVENTS = 'late_events';

const kindsCache = new WeakMap<AggregationSpec, Map<string, MeasureKind>>();

/** The kinds of an aggregation's row values by name, in the order rows show them: its measures as declared, then late_events (a count). */
export function measureKinds(aggregation: AggregationSpec): ReadonlyMap<string, MeasureKind> {
  let kinds = kindsCache.get(aggregation);
  if (!kinds) kindsCache.set(aggregation, (kinds = new Map([...aggregation.measures.map((m) => [m.name, m.kind] as const), [LATE_EVENTS, 'count' as const]])));
  return kinds;
}
