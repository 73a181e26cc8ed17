/**
 * Reading the lake's files back for compaction: Parquet (hyparquet) into rows of the table's
 * columns, gzip NDJSON into the original records. A file that is not readable as its format, or
 * whose rows do not fit its table (truncated by a crash, or foreign), throws an UnreadableFile
 * with the reason; compaction reports it and leaves it in place.
 */
import { gunzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { lakeTables, type LakeColumn, type LakeFormat, type LakeRow, type LakeTable } from '../../schemas/lake';
import { toRow } from '../lake-writer/rows';

export class UnreadableFile extends Error {}

/** A decoded file: Parquet rows (the table's columns) or raw records (JSON objects as written). */
export type Decoded = Record<string, unknown>[];

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new UnreadableFile(`integer out of range: ${value}`);
    return n;
  }
  if (value instanceof Date) return value.getTime();
  return value;
}

function columnProblem(c: LakeColumn, v: unknown): string | undefined {
  if (v === null || v === undefined) return c.nullable ? undefined : 'missing value';
  switch (c.type) {
    case 'string':
      return typeof v === 'string' ? undefined : 'not a string';
    case 'int64':
    case 'timestamp':
      return typeof v === 'number' && Number.isSafeInteger(v) ? undefined : 'not an integer';
    case 'double':
      return typeof v === 'number' ? undefined : 'not a number';
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'not a boolean';
  }
}

/** Rows of a table's Parquet file. Throws UnreadableFile when the bytes or the rows are not that. */
export async function readParquetRows(table: LakeTable, bytes: Uint8Array): Promise<LakeRow[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let objects: Record<string, unknown>[];
  try {
    objects = await parquetReadObjects({ file, parsers: { timestampFromMilliseconds: (ms: bigint) => Number(ms) } });
  } catch (err) {
    throw new UnreadableFile(`not a readable Parquet file: ${(err as Error).message}`);
  }
  const columns = lakeTables[table].columns;
  return objects.map((o, i) => {
    const row = toRow(table, Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)])));
    for (const c of columns) {
      const problem = columnProblem(c, row[c.name]);
      if (problem) throw new UnreadableFile(`row ${i} does not fit ${table}: ${c.name} ${problem}`);
    }
    return row;
  });
}

function recordProblem(table: LakeTable, r: Record<string, unknown>): string | undefined {
  if (table === 'aggregates') {
    for (const f of ['campaign_item_id', 'period', 'revision']) if (typeof r[f] !== 'number') return `${f} is not a number`;
    return undefined;
  }
  if (table === 'auctions') return typeof r.tx_id === 'string' ? undefined : 'tx_id is not a string';
  if (typeof r.tx_id !== 'string') return 'tx_id is not a string';
  if (typeof r.type !== 'string') return 'type is not a string';
  if (typeof r.event_time !== 'number') return 'event_time is not a number';
  if (typeof r.received_at !== 'number') return 'received_at is not a number';
  return undefined;
}

/** The records of a raw (gzip NDJSON) file. Throws UnreadableFile when they are not that. */
export function readRawRecords(table: LakeTable, bytes: Uint8Array): Record<string, unknown>[] {
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (err) {
    throw new UnreadableFile(`not a readable gzip file: ${(err as Error).message}`);
  }
  const out: Record<string, unknown>[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (err) {
      throw new UnreadableFile(`line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UnreadableFile(`line ${i + 1} is not a JSON object`);
    const problem = recordProblem(table, value as Record<string, unknown>);
    if (problem) throw new UnreadableFile(`line ${i + 1}: ${problem}`);
    out.push(value as Record<string, unknown>);
  }
  return out;
}

export async function readLakeFile(format: LakeFormat, table: LakeTable, bytes: Uint8Array): Promise<Decoded> {
  return format === 'parquet' ? readParquetRows(table, bytes) : readRawRecords(table, bytes);
}
