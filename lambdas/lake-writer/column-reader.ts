/**
 * One column of rows, read into an array. The reader of each column is compiled once into a loop
 * that reads the column as a named property (`row["tx_id"]`): such a read stays monomorphic,
 * where `row[name]` with the name in a variable goes through V8's megamorphic lookup for every
 * value, 3-5× slower; it was the largest single cost of writing Parquet. Column names come from
 * schemas/lake.ts and are quoted as JSON string literals.
 */
import type { LakeRow, LakeValue } from '../../schemas/lake';

/** Reads rows [start, end) of one column into out[0, end - start); absent values as undefined. */
export type ColumnReader = (rows: readonly LakeRow[], start: number, end: number, out: LakeValue[]) => void;

const readers = new Map<string, ColumnReader>();

export function columnReader(name: string): ColumnReader {
  let read = readers.get(name);
  if (!read) {
    read = new Function('rows', 'start', 'end', 'out', `for (let i = start; i < end; i++) out[i - start] = rows[i][${JSON.stringify(name)}];`) as ColumnReader;
    readers.set(name, read);
  }
  return read;
}
