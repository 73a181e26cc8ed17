/**
 * SQL over the local lake with DuckDB: the same table names as the Glue catalog
 * (`parquet_bcns`, `raw_bcns`, `parquet_readings`, ...), as views over the files s3rver keeps on
 * disk, hive-partitioned by `dt` and `hour` so time filters prune files. What DuckDB cannot read is
 * left out with a warning naming it, never failing the query:
 * - a file that is not a readable Parquet or gzip file (truncated by a crash, or foreign), found
 *   when the views are made (header, footer, gzip stream);
 * - a raw line DuckDB rejects (a string with a lone surrogate such as "\ud800", bytes that are not
 *   UTF-8, a line that is not JSON or has a value of the wrong type): only that line is left out,
 *   the view reads a copy of the file without it (in a scratch folder, removed on close). Lone
 *   surrogates and bad UTF-8 are looked for when the views are made (cheap: a byte scan; lines are
 *   parsed only in a file with a suspect escape);
 * - anything else that makes a query fail while reading data (a Parquet file damaged inside, a
 *   string that is not UTF-8 in Parquet): the files of the tables the query names are then read
 *   one by one, those that fail are left out (raw ones line by line, as above), and the query runs
 *   again. A query wrong in itself (parser, binder, catalog errors) fails as it is.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { CompactionManifest } from '../schemas/lake';
import { COMPACTION_PREFIX, LAKE_PREFIXES, LAKE_TABLE_NAME, sqlTableName, tablePrefix, type LakeFormat, type LakeTable } from '../schemas/lake-names';
import { lakeBucket } from '../schemas/resources';

/** Set (to true) in the CLI's bundles, built by bin/sdp.js. */
declare const SDP_CLI_BUNDLE: boolean | undefined;
/**
 * The tables' columns and the raw files' reader, loaded on first use (lake-sql-deps.ts says why);
 * in the CLI's bundles, from the bundle built beside this one.
 */
const deps = (): typeof import('./lake-sql-deps') => (typeof SDP_CLI_BUNDLE === 'boolean' ? require(join(__dirname, 'lake-sql-deps.js')) : require('./lake-sql-deps'));

/** s3rver stores an object's bytes at `<key>._S3rver_object`. */
const OBJECT_SUFFIX = '._S3rver_object';

export interface SkippedFile {
  path: string;
  reason: string;
  /** Set when only these lines (1-based) of a raw file were left out, not the whole file. */
  lines?: number[];
}

/** The warning line for what was left out, as `sdp query` and `sdp audit` print it. */
export function skippedWarning(s: SkippedFile): string {
  return s.lines
    ? `warning: left out unreadable line${s.lines.length > 1 ? 's' : ''} ${s.lines.join(', ')} of lake file ${s.path}: ${s.reason}`
    : `warning: left out unreadable lake file ${s.path}: ${s.reason}`;
}

export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
}

/** The folder that holds the lake bucket's objects under a local platform's data dir. */
export function localLakeRoot(dataDir: string): string {
  return join(dataDir, 's3', lakeBucket.name);
}

function listObjects(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listObjects(path, suffix));
    else if (entry.name.endsWith(`${suffix}${OBJECT_SUFFIX}`)) out.push(path);
  }
  return out.sort();
}

function readBytes(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, position);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

/** Why a file cannot be read as its format, or undefined when it can. */
export function unreadableReason(path: string, format: LakeFormat): string | undefined {
  const size = statSync(path).size;
  if (format === 'parquet') {
    if (size < 12) return 'too short to be Parquet';
    const head = readBytes(path, 0, 4).toString('latin1');
    const tail = readBytes(path, size - 4, 4).toString('latin1');
    if (head !== 'PAR1') return 'not a Parquet file';
    if (tail !== 'PAR1') return 'truncated Parquet file (no footer)';
    return undefined;
  }
  try {
    deps().gunzipLakeFile(readFileSync(path));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A raw file's text may hold a lone surrogate escape ("\ud800") or is not UTF-8: worth parsing line by line. */
function suspectRaw(inflated: Buffer): boolean {
  return !isUtf8(inflated) || /\\u[dD][89a-fA-F]/.test(inflated.toString('latin1'));
}

const objectPath = (lakeRoot: string, key: string) => join(lakeRoot, `${key}${OBJECT_SUFFIX}`);

/**
 * Files that unfinished compactions hide: while a manifest exists, its inputs when all its outputs
 * are written, else its outputs. Readers then see every row exactly once at any point of a
 * compaction (schemas/lake.ts, CompactionManifest).
 */
export function hiddenByCompactions(lakeRoot: string): Set<string> {
  const hidden = new Set<string>();
  for (const path of listObjects(join(lakeRoot, COMPACTION_PREFIX), '.json')) {
    let manifest: CompactionManifest;
    try {
      manifest = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      continue; // a manifest cut short by a crash: its compaction wrote nothing yet
    }
    const complete = manifest.outputs.every((key) => existsSync(objectPath(lakeRoot, key)));
    for (const key of complete ? manifest.inputs : manifest.outputs) hidden.add(objectPath(lakeRoot, key));
  }
  return hidden;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const PARTITION_COLUMNS = `CAST(NULL AS VARCHAR) AS dt, CAST(NULL AS VARCHAR) AS hour`;

function emptyView(table: LakeTable): string {
  const { duckdbType, lakeTable } = deps();
  const columns = lakeTable(table).columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS "${c.name}"`).join(', ');
  return `SELECT ${columns}, ${PARTITION_COLUMNS} WHERE false`;
}

/**
 * A table's view over its files. Schemas evolve by adding optional fields (schemas/pipeline-evolution.ts),
 * so files written before a field was added lack its column: Parquet files are read by name
 * (`union_by_name`), under the declared columns (an empty typed select, `UNION ALL BY NAME`), so a
 * declared column is in the view even when no file has it yet, and reads null from the older files;
 * raw files are read with the declared columns, a key a line lacks reading null.
 */
function viewSql(format: LakeFormat, table: LakeTable, files: string[]): string {
  if (files.length === 0) return emptyView(table);
  const list = `[${files.map(quote).join(', ')}]`;
  const hive = `hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}`;
  if (format === 'parquet') return `${emptyView(table)} UNION ALL BY NAME SELECT * FROM read_parquet(${list}, ${hive}, union_by_name = true)`;
  const { duckdbJsonColumns, duckdbJsonSelect } = deps();
  return `SELECT ${duckdbJsonSelect(table)}, dt, hour FROM read_json(${list}, format = 'newline_delimited', compression = 'gzip', columns = ${duckdbJsonColumns(table)}, ${hive})`;
}

/** DuckDB values as plain JSON-friendly values: integers as numbers when exact, times as ISO text. */
function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plainValue);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainValue(v)]));
  return value;
}

function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  return plainValue(row) as Record<string, unknown>;
}

/** A file behind a view: where it is in the lake, and what the view reads (a cleaned copy, when lines were left out). */
interface ViewFile {
  path: string;
  read: string;
}

type TableKey = `${LakeFormat}/${LakeTable}`;

/** DuckDB errors about the query itself, not the data: nothing to leave out. */
const QUERY_ERROR = /^(Parser|Binder|Catalog) Error/;

/** A lake table named without its format (`FROM readings`): the error says which names exist. */
function withTableHint(err: Error): Error {
  const name = /Table with name "?(\w+)"? does not exist/.exec(err.message)?.[1]?.toLowerCase();
  if (!name || !deps().isLakeTable(name)) return err;
  const table = name as LakeTable;
  return new Error(`${err.message.split('\n')[0]} The lake's tables are ${sqlTableName('parquet', table)} (Parquet) and ${sqlTableName('raw', table)} (the raw JSON).`);
}

export interface LakeSqlOptions {
  /** Told of each file or line left out, as it is found (at open, or when a query meets it). */
  onSkip?: (skipped: SkippedFile) => void;
  /**
   * The one query this instance will run (`sdp query`): only the views it names are made, which
   * spares listing and reading the other tables' files. Without it, every view is made.
   */
  forSql?: string;
}

/** Every view: both formats of each of the active pipeline's lake tables (loads the pipeline). */
const allTableKeys = (): TableKey[] => (Object.keys(LAKE_PREFIXES) as LakeFormat[]).flatMap((format) => deps().lakeTableNames().map((table): TableKey => `${format}/${table}`));

/** A lake table's SQL name in a query (`parquet_readings`, `"RAW_READINGS"`): found without loading the pipeline. */
const TABLE_REFERENCE = new RegExp(`\\b(${Object.values(LAKE_PREFIXES).join('|')})_(${LAKE_TABLE_NAME.source})\\b`, 'gi');

/** Whether a query names a table (as a whole word, quoted or not, any case). */
const namesTable = (sql: string, key: TableKey): boolean => new RegExp(`\\b${sqlTableName(...(key.split('/') as [LakeFormat, LakeTable]))}\\b`, 'i').test(sql);

/**
 * SQL that may read views without naming them (listing the catalog, a table named in a string
 * built at run time, ...): such a query gets every view, so that nothing it could read is missing.
 */
const READS_CATALOG = /\b(show|describe|summarize|pragma|information_schema|pg_catalog|sqlite_master|duckdb_\w+|query_table|query|table_info|getvariable)\b/i;

/**
 * The views a query needs: the lake tables it names, conservatively. When unsure (a query that may
 * read the catalog or build a table name), all of them; a query that names none (`SELECT 1`) needs none.
 */
export function viewsFor(sql: string | undefined): TableKey[] {
  if (sql === undefined || READS_CATALOG.test(sql)) return allTableKeys();
  const named = new Set([...sql.matchAll(TABLE_REFERENCE)].map((m) => `${m[1].toLowerCase()}/${m[2].toLowerCase()}`));
  // A query that names none (`SELECT 1`) needs no view, nor the pipeline's schemas (`sdp query` stays fast).
  return named.size === 0 ? [] : allTableKeys().filter((key) => named.has(key));
}

export class LakeSql {
  /** Files and lines left out of the views, with the reason. */
  readonly skipped: SkippedFile[] = [];
  private readonly files = new Map<TableKey, ViewFile[]>();
  /** Tables whose every file was read through once (after a query failed on data). */
  private readonly probed = new Set<TableKey>();
  private scratch: string | undefined;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly lakeRoot: string,
    private readonly options: LakeSqlOptions,
  ) {}

  /**
   * Opens DuckDB with a view per lake table and format over the files under `lakeRoot` (only the
   * views `options.forSql` needs, when given).
   */
  static async open(lakeRoot: string, options: LakeSqlOptions = {}): Promise<LakeSql> {
    const instance = await DuckDBInstance.create(':memory:');
    const lake = new LakeSql(instance, await instance.connect(), lakeRoot, options);
    const keys = viewsFor(options.forSql);
    const hidden = keys.length > 0 ? hiddenByCompactions(lakeRoot) : new Set<string>();
    for (const key of keys) {
      const [format, table] = key.split('/') as [LakeFormat, LakeTable];
      const suffix = format === 'parquet' ? '.parquet' : '.json.gz';
      const files: ViewFile[] = [];
      for (const path of listObjects(join(lakeRoot, tablePrefix(format, table)), suffix)) {
        if (hidden.has(path)) continue;
        const read = lake.admit(format, table, path);
        if (read) files.push({ path, read });
      }
      lake.files.set(key, files);
      await lake.createView(format, table);
    }
    return lake;
  }

  async query(sql: string): Promise<QueryResult> {
    for (;;) {
      try {
        const reader = await this.connection.runAndReadAll(sql);
        return { columns: reader.columnNames(), rows: reader.getRowObjectsJS().map(plainRow) };
      } catch (err) {
        if (QUERY_ERROR.test((err as Error).message)) throw withTableHint(err as Error);
        // Read the files of the tables the query names one by one, leave out those that fail, and run it again.
        const named = [...this.files.keys()].filter((key) => !this.probed.has(key) && namesTable(sql, key));
        if (named.length === 0) throw err;
        for (const key of named) await this.probe(key);
      }
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
  }

  private skip(skipped: SkippedFile): void {
    this.skipped.push(skipped);
    this.options.onSkip?.(skipped);
  }

  /** (Re)makes a table's view; making it reads a file's schema, so a file DuckDB cannot read makes its files be read one by one first. */
  private async createView(format: LakeFormat, table: LakeTable): Promise<void> {
    const key: TableKey = `${format}/${table}`;
    const files = this.files.get(key)!.map((f) => f.read);
    try {
      await this.connection.run(`CREATE OR REPLACE VIEW ${sqlTableName(format, table)} AS ${viewSql(format, table, files)}`);
    } catch (err) {
      if (this.probed.has(key)) throw err;
      await this.probe(key);
    }
  }

  /** The path a view reads for a lake file (itself, or a copy without its unreadable lines), or undefined to leave it out. */
  private admit(format: LakeFormat, table: LakeTable, path: string): string | undefined {
    if (format === 'parquet') {
      const reason = unreadableReason(path, format);
      if (reason) this.skip({ path, reason });
      return reason ? undefined : path;
    }
    let inflated: Buffer;
    try {
      inflated = deps().gunzipLakeFile(readFileSync(path));
    } catch (err) {
      if (!(err instanceof deps().UnreadableFile)) throw err;
      this.skip({ path, reason: err.message });
      return undefined;
    }
    return suspectRaw(inflated) ? this.withoutBadLines(table, path, inflated) : path;
  }

  /** A raw file without its unreadable lines: the file itself when all are good, a copy in the scratch folder, or undefined when none is. */
  private withoutBadLines(table: LakeTable, path: string, inflated: Buffer): string | undefined {
    const lines = deps().rawLines(table, inflated);
    const bad = lines.filter((l) => l.problem);
    if (bad.length === 0) return path;
    const good = lines.filter((l) => !l.problem);
    const reason = `${bad[0].problem}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}`;
    if (good.length === 0) {
      this.skip({ path, reason: `no readable line: ${reason}` });
      return undefined;
    }
    this.skip({ path, reason, lines: bad.map((l) => l.number) });
    this.scratch ??= mkdtempSync(join(tmpdir(), 'sdp-lake-sql-'));
    // The same relative path, so hive partitioning still finds dt= and hour= in it.
    const copy = join(this.scratch, relative(this.lakeRoot, path));
    mkdirSync(dirname(copy), { recursive: true });
    writeFileSync(copy, gzipSync(Buffer.concat(good.flatMap((l) => [l.bytes, Buffer.from('\n')]))));
    return copy;
  }

  /** Whether DuckDB reads every row and column of one file as the view does; the error's first line when not. */
  private async readError(format: LakeFormat, table: LakeTable, file: string): Promise<string | undefined> {
    try {
      await this.connection.run(`CREATE OR REPLACE TEMP TABLE sdp_probe AS ${viewSql(format, table, [file])}`);
      return undefined;
    } catch (err) {
      return (err as Error).message.split('\n')[0];
    } finally {
      await this.connection.run('DROP TABLE IF EXISTS sdp_probe');
    }
  }

  /** Reads every file of a table's view one by one; leaves out what fails (a raw file's bad lines first); remakes the view. */
  private async probe(key: TableKey): Promise<void> {
    const [format, table] = key.split('/') as [LakeFormat, LakeTable];
    const kept: ViewFile[] = [];
    for (const file of this.files.get(key)!) {
      let error = await this.readError(format, table, file.read);
      if (error && format === 'raw' && file.read === file.path) {
        let read: string | undefined;
        try {
          read = this.withoutBadLines(table, file.path, deps().gunzipLakeFile(readFileSync(file.path)));
        } catch (err) {
          if (!(err instanceof deps().UnreadableFile)) throw err;
        }
        if (read === undefined) continue; // reported by withoutBadLines
        if (read !== file.path) {
          error = await this.readError(format, table, read);
          if (!error) {
            kept.push({ path: file.path, read });
            continue;
          }
        }
      }
      if (error) this.skip({ path: file.path, reason: error });
      else kept.push(file);
    }
    this.files.set(key, kept);
    this.probed.add(key);
    await this.createView(format, table);
  }
}
