/**
 * One column of a row group as flat arrays (no value is boxed or allocated per row): numbers in a Float64Array, booleans in a Uint8Array, strings in an array,
 * only the non-null values, in row order, with a definition mask for a nullable column. Values
 * are checked against the column's type here, once.
 */
import type { LakeColumn, LakeTable, LakeValue } from '../../schemas/lake';

interface Common {
  column: LakeColumn;
  /** Rows of the group. */
  rows: number;
  /** Per row, 1 when it has a value and 0 when it is null; undefined for a required column. */
  defined: Uint8Array | undefined;
}

/** int64, timestamp (epoch ms) and double columns. */
export interface NumberValues extends Common {
  kind: 'number';
  values: Float64Array;
}

export interface BooleanValues extends Common {
  kind: 'boolean';
  /** 1 for true, 0 for false. */
  values: Uint8Array;
}

export interface StringValues extends Common {
  kind: 'string';
  values: string[];
}

export type ColumnValues = NumberValues | BooleanValues | StringValues;

function fail(table: LakeTable, column: LakeColumn, row: number, value: unknown, expected: string): never {
  throw new TypeError(`lake ${table}.${column.name}, row ${row}: expected ${expected}, got ${JSON.stringify(value)}`);
}

const EXPECTED: Record<LakeColumn['type'], string> = {
  string: 'a string',
  int64: 'an integer',
  timestamp: 'an integer (epoch ms)',
  double: 'a number',
  boolean: 'a boolean',
};

/**
 * A column's values raw[0, n) (one per row, as read from the rows) in flat arrays. Throws on a
 * value that does not fit the column, naming the row by its index plus `firstRow`.
 */
export function columnValues(table: LakeTable, column: LakeColumn, raw: readonly LakeValue[], n: number, firstRow: number): ColumnValues {
  const { type, nullable } = column;
  const defined = nullable ? new Uint8Array(n) : undefined;
  const integer = type === 'int64' || type === 'timestamp';
  const numbers = type === 'string' || type === 'boolean' ? undefined : new Float64Array(n);
  const booleans = type === 'boolean' ? new Uint8Array(n) : undefined;
  const strings: string[] | undefined = type === 'string' ? new Array<string>(n) : undefined;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    if (v === null || v === undefined) {
      if (!defined) fail(table, column, firstRow + i, v, 'a value (the column is not nullable)');
      continue;
    }
    if (defined) defined[i] = 1;
    if (numbers) {
      if (typeof v !== 'number' || (integer && !Number.isSafeInteger(v))) fail(table, column, firstRow + i, v, EXPECTED[type]);
      numbers[count++] = v;
    } else if (booleans) {
      if (typeof v !== 'boolean') fail(table, column, firstRow + i, v, EXPECTED[type]);
      booleans[count++] = v ? 1 : 0;
    } else {
      if (typeof v !== 'string') fail(table, column, firstRow + i, v, EXPECTED[type]);
      strings![count++] = v;
    }
  }
  const common = { column, rows: n, defined };
  if (numbers) return { ...common, kind: 'number', values: numbers.subarray(0, count) };
  if (booleans) return { ...common, kind: 'boolean', values: booleans.subarray(0, count) };
  strings!.length = count;
  return { ...common, kind: 'string', values: strings! };
}
