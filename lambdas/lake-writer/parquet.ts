/**
 * The lake's file formats: rows of a lake table as Parquet (snappy, the table's schema from
 * schemas/lake.ts, timestamps as TIMESTAMP_MILLIS) and records as gzip-compressed newline-delimited
 * JSON. Pure and deterministic: the same rows give the same bytes.
 *
 * Parquet is pure JavaScript (no native binary, so it bundles into the Lambda with esbuild): the
 * column chunks are encoded here from flat arrays (parquet-values.ts, parquet-chunk.ts), and
 * hyparquet-writer frames them (page headers, footer). Fed row objects, hyparquet-writer itself
 * boxes every int64 and timestamp as a BigInt and copies each column several times, which is
 * what kept it under the write-rate goal of `npm run bench -- lake` (perf/lake.ts).
 */
import { gzipSync } from 'node:zlib';
import { ByteWriter } from 'hyparquet-writer';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import type { ColumnChunk, FileMetaData } from 'hyparquet';
import { lakeTable, parquetSchema, type LakeRow, type LakeTable, type LakeValue } from '../../schemas/lake';
import { writeColumnChunk } from './parquet-chunk';
import { columnValues } from './parquet-values';
import { columnReader } from './column-reader';
import { snappyCompress } from './snappy';

export interface ParquetOptions {
  /** Rows per row group (default 100,000: one group for a Lambda batch, a few per compacted file). */
  rowGroupSize?: number;
}

export const DEFAULT_ROW_GROUP_SIZE = 100_000;

/** Written into each file's footer as the creator; a constant, so files stay byte-identical. */
const CREATED_BY = 'sdp lake writer';

/** "PAR1", at both ends of the file. */
const MAGIC = 0x31524150;

/**
 * Rows of a lake table as a Parquet file (snappy). Throws on a value that does not fit its
 * column. Rows are encoded one row group and one column at a time, so the intermediate arrays are
 * never larger than a column of a group.
 */
export function toParquet(table: LakeTable, rows: readonly LakeRow[], options: ParquetOptions = {}): Uint8Array {
  const columns = lakeTable(table).columns;
  const readers = columns.map((c) => columnReader(c.name));
  const groupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError(`rowGroupSize must be a positive integer, got ${groupSize}`);
  const writer = new ByteWriter(1 << 16);
  writer.appendUint32(MAGIC);
  const row_groups: FileMetaData['row_groups'] = [];
  const raw = new Array<LakeValue>(Math.min(groupSize, rows.length));
  for (let start = 0; start < rows.length; start += groupSize) {
    const end = Math.min(rows.length, start + groupSize);
    const groupStart = writer.offset;
    const chunks: ColumnChunk[] = columns.map((c, j) => {
      readers[j](rows, start, end, raw);
      return writeColumnChunk(writer, columnValues(table, c, raw, end - start, start), snappyCompress);
    });
    row_groups.push({
      columns: chunks,
      total_byte_size: chunks.reduce((sum, c) => sum + c.meta_data!.total_uncompressed_size, 0n),
      num_rows: BigInt(end - start),
      total_compressed_size: BigInt(writer.offset - groupStart),
    });
  }
  const metadata = { version: 2, created_by: CREATED_BY, schema: parquetSchema(table), num_rows: BigInt(rows.length), row_groups };
  writeMetadata(writer, metadata as FileMetaData);
  writer.appendUint32(MAGIC);
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
