/**
 * The lake's file formats: rows of a lake table as Parquet (snappy, the table's schema from
 * schemas/lake.ts, timestamps as TIMESTAMP_MILLIS) and records as gzip-compressed newline-delimited
 * JSON. Pure and deterministic: the same rows give the same bytes.
 *
 * Parquet is written with hyparquet-writer: pure JavaScript (no native binary, so it bundles into
 * the Lambda with esbuild), and in `npm run bench -- lake` within reach of DuckDB's COPY.
 */
import { gzipSync } from 'node:zlib';
import { ByteWriter, ParquetWriter, type ColumnSource } from 'hyparquet-writer';
import { lakeTables, parquetSchema, type LakeColumn, type LakeRow, type LakeTable } from '../../schemas/lake';

export interface ParquetOptions {
  /** Rows per row group (default 100,000: one group for a Lambda batch, a few per compacted file). */
  rowGroupSize?: number;
}

export const DEFAULT_ROW_GROUP_SIZE = 100_000;

/** Written into each file's footer as the creator; a constant, so files stay byte-identical. */
const CREATED_BY = 'sdp lake writer (hyparquet-writer)';

function fail(table: LakeTable, column: LakeColumn, row: number, value: unknown, expected: string): never {
  throw new TypeError(`lake ${table}.${column.name}, row ${row}: expected ${expected}, got ${JSON.stringify(value)}`);
}

type Values = ColumnSource['data'];

/**
 * One column's values in the form hyparquet-writer takes: int64 as bigint (a BigInt64Array when
 * the column is required), timestamps as epoch-ms numbers (the writer makes their INT64), nulls
 * only where the column is nullable. `offset` is the first row's index, for error messages.
 */
function columnValues(table: LakeTable, column: LakeColumn, rows: readonly LakeRow[], offset: number): Values {
  const { name, type, nullable } = column;
  const n = rows.length;
  if (!nullable && type === 'int64') {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const v = rows[i][name];
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(table, column, offset + i, v, 'an integer');
      out[i] = BigInt(v);
    }
    return out;
  }
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const v = rows[i][name];
    if (v === null || v === undefined) {
      if (!nullable) fail(table, column, offset + i, v, 'a value (the column is not nullable)');
      out[i] = null;
      continue;
    }
    switch (type) {
      case 'string':
        if (typeof v !== 'string') fail(table, column, offset + i, v, 'a string');
        out[i] = v;
        break;
      case 'int64':
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(table, column, offset + i, v, 'an integer');
        out[i] = BigInt(v);
        break;
      case 'timestamp':
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(table, column, offset + i, v, 'an integer (epoch ms)');
        out[i] = v;
        break;
      case 'double':
        if (typeof v !== 'number') fail(table, column, offset + i, v, 'a number');
        out[i] = v;
        break;
      case 'boolean':
        if (typeof v !== 'boolean') fail(table, column, offset + i, v, 'a boolean');
        out[i] = v;
        break;
    }
  }
  return out as Values;
}

/** Share of distinct values among up to 1,000 non-null values sampled across the column. */
function distinctShare(values: readonly unknown[]): number {
  const samples = Math.min(values.length, 1000);
  const seen = new Set<unknown>();
  let nonNull = 0;
  for (let i = 0; i < samples; i++) {
    const v = values[samples === 1 ? 0 : Math.floor((i * (values.length - 1)) / (samples - 1))];
    if (v === null) continue;
    nonNull++;
    seen.add(v);
  }
  return nonNull === 0 ? 0 : seen.size / nonNull;
}

/**
 * Strings as UTF-8 views into one buffer. hyparquet-writer would encode each value into an
 * ArrayBuffer of its own, which for a column of distinct ids (tx_id, app_uid) costs more in
 * allocation and garbage collection than the rest of the column's encoding.
 */
function utf8Views(values: readonly (string | null)[]): (Uint8Array | null)[] {
  let total = 0;
  for (const v of values) if (v !== null) total += Buffer.byteLength(v);
  const buffer = Buffer.allocUnsafe(total);
  const out = new Array<Uint8Array | null>(values.length);
  let offset = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) {
      out[i] = null;
      continue;
    }
    const n = buffer.write(v, offset);
    out[i] = buffer.subarray(offset, offset + n);
    offset += n;
  }
  return out;
}

/** Above this share of distinct values a string column is written plain, not as a dictionary. */
const MOSTLY_DISTINCT = 0.5;

/**
 * A column as hyparquet-writer's column source, with the encoding chosen per lake type:
 * - timestamps DELTA_BINARY_PACKED (event times of a batch are close: ~40% smaller than plain);
 * - strings without min/max statistics (unsorted ids and names prune nothing; they cost ~15% of
 *   the write), and mostly-distinct ones PLAIN from one UTF-8 buffer (see utf8Views);
 * - everything else as the library decides (dictionary when it pays), with statistics, so
 *   readers skip row groups by event time, campaign or price.
 */
function columnSource(table: LakeTable, column: LakeColumn, rows: readonly LakeRow[], offset: number): ColumnSource {
  const data = columnValues(table, column, rows, offset);
  switch (column.type) {
    case 'timestamp':
      return { name: column.name, data, encoding: 'DELTA_BINARY_PACKED' };
    case 'string': {
      const strings = data as (string | null)[];
      if (distinctShare(strings) > MOSTLY_DISTINCT) return { name: column.name, data: utf8Views(strings), encoding: 'PLAIN', statistics: false };
      return { name: column.name, data, statistics: false };
    }
    default:
      return { name: column.name, data };
  }
}

/**
 * Rows of a lake table as a Parquet file (snappy). Throws on a value that does not fit its
 * column. Rows are encoded one row group at a time, so the intermediate column arrays are never
 * larger than a group.
 */
export function toParquet(table: LakeTable, rows: readonly LakeRow[], options: ParquetOptions = {}): Uint8Array {
  const columns = lakeTables[table].columns;
  const groupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError(`rowGroupSize must be a positive integer, got ${groupSize}`);
  const writer = new ByteWriter();
  const pq = new ParquetWriter({ writer, schema: parquetSchema(table), codec: 'SNAPPY', createdBy: CREATED_BY });
  for (let start = 0; start < rows.length; start += groupSize) {
    const group = rows.slice(start, start + groupSize);
    pq.write({ columnData: columns.map((c) => columnSource(table, c, group, start)), rowGroupSize: group.length });
  }
  pq.finish();
  return writer.getBytes().slice();
}

export interface NdjsonOptions {
  /**
   * gzip level (default 1). The raw files are written with every batch and read rarely; level 1
   * is ~2.4× faster than zlib's default 6 for ~25% more bytes (measured on bcns records).
   */
  level?: number;
}

/** Records as newline-delimited JSON, gzip-compressed (each record one line, the last one ended too). */
export function toNdjsonGzip(records: readonly unknown[], options: NdjsonOptions = {}): Uint8Array {
  const lines = records.map((r) => JSON.stringify(r));
  const text = lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  return gzipSync(text, { level: options.level ?? 1 });
}
