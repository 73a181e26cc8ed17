/**
 * Reading the lake's files back: Parquet (hyparquet) into rows of the table's columns, gzip NDJSON
 * into the original records. A file that is not readable as its format, or whose rows do not fit
 * its table (truncated by a crash, or foreign), throws an UnreadableFile with the reason;
 * compaction reports it and leaves it in place. `rawLines` says which lines of a raw file are
 * unreadable and why (not UTF-8, not JSON, a string that is not valid Unicode, a value of the wrong
 * type): compaction leaves such a file in place, the local SQL leaves out those lines only.
 */
import { gunzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { activePipeline } from '../../schemas/active-pipeline';
import { streamOf } from '../../schemas/pipeline';
import { lakeTable, type LakeColumn, type LakeFormat, type LakeRow, type LakeTable } from '../../schemas/lake';
import { aggregateRecordProblem, toRow } from '../lake-writer/rows';

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
  const columns = lakeTable(table).columns;
  return objects.map((o, i) => {
    const row = toRow(table, Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)])));
    for (const c of columns) {
      const problem = columnProblem(c, row[c.name]);
      if (problem) throw new UnreadableFile(`row ${i} does not fit ${table}: ${c.name} ${problem}`);
    }
    return row;
  });
}

/** A record's identity fields of a stream that are missing or not of their kind (`tx_id is not a string`). */
function identityProblem(stream: string, r: Record<string, unknown>): string | undefined {
  const spec = streamOf(activePipeline(), stream);
  for (const f of spec.identity) {
    const want = spec.fields.find((x) => x.name === f)?.kind === 'string' ? 'string' : 'number';
    if (typeof r[f] !== want) return `${f} is not a ${want}`;
  }
  return undefined;
}

function recordProblem(table: LakeTable, r: Record<string, unknown>): string | undefined {
  const def = lakeTable(table);
  if (def.kind === 'aggregation') return aggregateRecordProblem({ aggregation: def.aggregation, ...r });
  if (def.kind === 'built') return identityProblem(def.streams[0], r);
  if (typeof r.type !== 'string' || !def.streams.includes(r.type)) {
    // Checked after the identity, as before streams were declared, so the first problem named stays the same.
    const identity = identityProblem(def.streams[0], r);
    return identity ?? (typeof r.type !== 'string' ? 'type is not a string' : `type ${r.type} is not a stream of ${table}`);
  }
  const identity = identityProblem(r.type, r);
  if (identity) return identity;
  if (typeof r.event_time !== 'number') return 'event_time is not a number';
  if (typeof r.received_at !== 'number') return 'received_at is not a number';
  return undefined;
}

/** The bytes of a gzip file, inflated. Throws UnreadableFile when it is not one (or is cut short). */
export function gunzipLakeFile(bytes: Uint8Array): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new UnreadableFile(`not a readable gzip file: ${(err as Error).message}`);
  }
}

/** A line of a raw file: its bytes (without the newline), and its record or why it has none. */
export interface RawLine {
  /** 1-based. */
  number: number;
  bytes: Buffer;
  record?: Record<string, unknown>;
  problem?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** A UTF-16 surrogate without its other half: JSON can escape one ("\ud800"), UTF-8 cannot hold it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The first key or string value (by its path) that holds a lone surrogate. */
function loneSurrogate(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [k, v] of Object.entries(value)) {
    // JSON.stringify escapes a lone surrogate ("\ud801"), so the path prints as it is in the file.
    const name = JSON.stringify(k).slice(1, -1);
    const at = Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${name}` : name;
    if (LONE_SURROGATE.test(k)) return at;
    const found = loneSurrogate(v, at);
    if (found) return found;
  }
  return undefined;
}

/** A present value of a column that does not have the column's type (what makes a SQL reader's cast fail). */
function typeProblem(table: LakeTable, record: Record<string, unknown>): string | undefined {
  const row = toRow(table, record);
  for (const c of lakeTable(table).columns) {
    const v = row[c.name];
    const problem = v === null ? undefined : columnProblem(c, v);
    if (problem) return `${c.name} ${problem}`;
  }
  return undefined;
}

function lineProblem(table: LakeTable, bytes: Buffer): { record?: Record<string, unknown>; problem?: string } {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { problem: 'not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  const record = value as Record<string, unknown>;
  const surrogate = loneSurrogate(record, '');
  if (surrogate) return { problem: `${surrogate} holds a lone surrogate (not valid Unicode)` };
  const problem = recordProblem(table, record) ?? typeProblem(table, record);
  return problem ? { problem } : { record };
}

/** The non-empty lines of an inflated raw file, each with its record or its problem. */
export function rawLines(table: LakeTable, inflated: Buffer): RawLine[] {
  const out: RawLine[] = [];
  let start = 0;
  for (let n = 1; start < inflated.length; n++) {
    const end = inflated.indexOf(0x0a, start);
    const bytes = inflated.subarray(start, end < 0 ? inflated.length : end);
    start = end < 0 ? inflated.length : end + 1;
    if (bytes.length > 0) out.push({ number: n, bytes, ...lineProblem(table, bytes) });
  }
  return out;
}

/** The records of a raw (gzip NDJSON) file. Throws UnreadableFile when they are not that, naming the first bad line. */
export function readRawRecords(table: LakeTable, bytes: Uint8Array): Record<string, unknown>[] {
  const lines = rawLines(table, gunzipLakeFile(bytes));
  const bad = lines.find((l) => l.problem);
  if (bad) throw new UnreadableFile(`line ${bad.number}: ${bad.problem}`);
  return lines.map((l) => l.record!);
}

export async function readLakeFile(format: LakeFormat, table: LakeTable, bytes: Uint8Array): Promise<Decoded> {
  return format === 'parquet' ? readParquetRows(table, bytes) : readRawRecords(table, bytes);
}
