/**
 * Column chunk statistics (min, max, null count) from a column's flat values, as the footer keeps
 * them so readers skip row groups by event time, ids or amounts. Strings get none: unsorted
 * ids and names prune nothing, and their min/max cost a large share of the write.
 */
import type { Statistics } from 'hyparquet';
import type { ColumnValues } from './parquet-values';

function numberRange(values: Float64Array): { min?: number; max?: number } {
  let min: number | undefined;
  let max: number | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    if (min === undefined || v < min) min = v;
    if (max === undefined || v > max) max = v;
  }
  // Parquet orders -0 before +0: the bounds must cover both.
  return { min: min === 0 ? -0 : min, max: max === 0 ? 0 : max };
}

function booleanRange(values: Uint8Array): { min?: boolean; max?: boolean } {
  if (values.length === 0) return {};
  const some = values.includes(1);
  const every = !values.includes(0);
  return { min: every, max: some };
}

export function statisticsOf(col: ColumnValues): Statistics | undefined {
  const null_count = BigInt(col.rows - col.values.length);
  switch (col.kind) {
    case 'string':
      return undefined;
    case 'boolean': {
      const { min, max } = booleanRange(col.values);
      return { min_value: min, max_value: max, null_count };
    }
    case 'number': {
      const { min, max } = numberRange(col.values);
      return { min_value: min, max_value: max, null_count };
    }
  }
}
