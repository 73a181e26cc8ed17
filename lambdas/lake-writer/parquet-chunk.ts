/**
 * One column chunk of a row group: an optional dictionary page, then data pages (v2: definition
 * levels uncompressed, values snappy-compressed), appended to the file; returns the chunk's
 * footer entry. The encoding is chosen per lake type:
 * - timestamps DELTA_BINARY_PACKED (event times of a batch are close: ~40% smaller than plain);
 * - strings and int64 / double a dictionary when most values repeat, else PLAIN;
 * - booleans RLE.
 */
import type { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import type { ColumnChunk, Encoding, PageHeader, ParquetType } from 'hyparquet';
import type { PageEncodingStats } from 'hyparquet/src/types.js';
import { dictionaryOf, type Dictionary } from './parquet-dictionary';
import { deltaBinaryPacked, dictionaryIndexes, plainBooleans, plainDouble, plainInt64, plainStrings, rleBooleans, rleHybrid } from './parquet-encodings';
import { statisticsOf } from './parquet-statistics';
import type { ColumnValues } from './parquet-values';

export type Compress = (bytes: Uint8Array) => Uint8Array;

/** Target bytes of values per data page (before compression). */
const PAGE_BYTES = 1 << 20;

const PHYSICAL: Record<ColumnValues['column']['type'], ParquetType> = { string: 'BYTE_ARRAY', int64: 'INT64', timestamp: 'INT64', double: 'DOUBLE', boolean: 'BOOLEAN' };

/** Rows [rowStart, rowEnd) of a page and their non-null values [valueStart, valueEnd). */
interface Page {
  rowStart: number;
  rowEnd: number;
  valueStart: number;
  valueEnd: number;
}

/** Encodes the non-null values [from, to) of a page; the encoding goes into its header. */
type PageEncoder = (from: number, to: number) => { encoding: Encoding; bytes: Uint8Array };

/** Rows cut into pages of about PAGE_BYTES of values, `valueBytes` the estimate of value i. */
function pagesOf(col: ColumnValues, valueBytes: number | ((i: number) => number)): Page[] {
  const pages: Page[] = [];
  let page: Page = { rowStart: 0, rowEnd: 0, valueStart: 0, valueEnd: 0 };
  let bytes = 0;
  const { defined } = col;
  for (let row = 0; row < col.rows; row++) {
    if (defined && defined[row] === 0) continue;
    const size = typeof valueBytes === 'number' ? valueBytes : valueBytes(page.valueEnd);
    if (bytes + size > PAGE_BYTES && page.valueEnd > page.valueStart) {
      page.rowEnd = row;
      pages.push(page);
      page = { rowStart: row, rowEnd: row, valueStart: page.valueEnd, valueEnd: page.valueEnd };
      bytes = 0;
    }
    bytes += size;
    page.valueEnd++;
  }
  page.rowEnd = col.rows;
  pages.push(page);
  return pages;
}

function plainEncoder(col: ColumnValues): PageEncoder {
  switch (col.kind) {
    case 'string':
      return (from, to) => ({ encoding: 'PLAIN', bytes: plainStrings(col.values, from, to) });
    case 'boolean':
      return (from, to) => {
        const values = col.values.subarray(from, to);
        // RLE pays once there are runs to find; hyparquet-writer's choice, kept.
        return values.length > 16 ? { encoding: 'RLE', bytes: rleBooleans(values) } : { encoding: 'PLAIN', bytes: plainBooleans(values) };
      };
    case 'number': {
      const plain = col.column.type === 'double' ? plainDouble : plainInt64;
      if (col.column.type !== 'timestamp') return (from, to) => ({ encoding: 'PLAIN', bytes: plain(col.values.subarray(from, to)) });
      return (from, to) => {
        const values = col.values.subarray(from, to);
        const delta = deltaBinaryPacked(values);
        return delta ? { encoding: 'DELTA_BINARY_PACKED', bytes: delta } : { encoding: 'PLAIN', bytes: plain(values) };
      };
    }
  }
}

/** The dictionary page's values, PLAIN. */
function dictionaryPage(col: ColumnValues, dictionary: Dictionary<string | number>): Uint8Array {
  if (col.kind === 'string') return plainStrings(dictionary.values as string[]);
  const values = Float64Array.from(dictionary.values as number[]);
  return col.column.type === 'double' ? plainDouble(values) : plainInt64(values);
}

function dictionaryFor(col: ColumnValues): Dictionary<string | number> | undefined {
  if (col.kind === 'boolean' || col.column.type === 'timestamp') return undefined;
  return dictionaryOf<string | number>(col.values);
}

class ChunkWriter {
  readonly start: number;
  uncompressed = 0;
  readonly encodings = new Set<Encoding>();
  readonly stats: PageEncodingStats[] = [];

  constructor(
    private readonly writer: ByteWriter,
    private readonly compress: Compress,
  ) {
    this.start = writer.offset;
  }

  private count(pageType: PageEncodingStats['page_type'], encoding: Encoding): void {
    this.encodings.add(encoding);
    const seen = this.stats.find((s) => s.page_type === pageType && s.encoding === encoding);
    if (seen) seen.count++;
    else this.stats.push({ page_type: pageType, encoding, count: 1 });
  }

  private header(header: PageHeader): void {
    const at = this.writer.offset;
    writePageHeader(this.writer, header);
    this.uncompressed += this.writer.offset - at + header.uncompressed_page_size;
  }

  dictionary(values: Uint8Array, count: number): void {
    const compressed = this.compress(values);
    this.header({
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: values.length,
      compressed_page_size: compressed.length,
      dictionary_page_header: { num_values: count, encoding: 'PLAIN' },
    });
    this.writer.appendBytes(compressed);
    this.count('DICTIONARY_PAGE', 'PLAIN');
  }

  data(rows: number, nulls: number, levels: Uint8Array, encoding: Encoding, values: Uint8Array): void {
    const compressed = this.compress(values);
    this.header({
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levels.length + values.length,
      compressed_page_size: levels.length + compressed.length,
      data_page_header_v2: {
        num_values: rows,
        num_nulls: nulls,
        num_rows: rows,
        encoding,
        definition_levels_byte_length: levels.length,
        repetition_levels_byte_length: 0,
        is_compressed: true,
      },
    });
    this.writer.appendBytes(levels);
    this.writer.appendBytes(compressed);
    this.count('DATA_PAGE_V2', encoding);
  }
}

const NO_LEVELS = new Uint8Array(0);

/** Writes a column chunk of `col` at the writer's offset (snappy-compressed with `compress`). */
export function writeColumnChunk(writer: ByteWriter, col: ColumnValues, compress: Compress): ColumnChunk {
  const chunk = new ChunkWriter(writer, compress);
  const dictionary = dictionaryFor(col);
  let dictionary_page_offset: bigint | undefined;
  let encode: PageEncoder;
  let pages: Page[];
  if (dictionary) {
    dictionary_page_offset = BigInt(writer.offset);
    chunk.dictionary(dictionaryPage(col, dictionary), dictionary.values.length);
    encode = (from, to) => ({ encoding: 'RLE_DICTIONARY', bytes: dictionaryIndexes(dictionary.indexes.subarray(from, to), dictionary.values.length) });
    pages = pagesOf(col, 4);
  } else {
    encode = plainEncoder(col);
    pages = pagesOf(col, col.kind === 'string' ? (i) => 4 + col.values[i].length : col.kind === 'boolean' ? 1 : 8);
  }
  const data_page_offset = BigInt(writer.offset);
  for (const page of pages) {
    const rows = page.rowEnd - page.rowStart;
    const levels = col.defined ? rleHybrid(col.defined.subarray(page.rowStart, page.rowEnd), 1) : NO_LEVELS;
    const { encoding, bytes } = encode(page.valueStart, page.valueEnd);
    chunk.data(rows, rows - (page.valueEnd - page.valueStart), levels, encoding, bytes);
  }
  return {
    file_offset: BigInt(chunk.start),
    meta_data: {
      type: PHYSICAL[col.column.type],
      encodings: [...chunk.encodings],
      path_in_schema: [col.column.name],
      codec: 'SNAPPY',
      num_values: BigInt(col.rows),
      total_compressed_size: BigInt(writer.offset - chunk.start),
      total_uncompressed_size: BigInt(chunk.uncompressed),
      data_page_offset,
      dictionary_page_offset,
      statistics: statisticsOf(col),
      encoding_stats: chunk.stats,
    },
  };
}
