/**
 * SQL over the local lake with DuckDB: the same table names as the Glue catalog
 * (`parquet_bcns`, `raw_bcns`, `parquet_auctions`, ...), as views over the files s3rver keeps on
 * disk, hive-partitioned by `dt` and `hour` so time filters prune files. A file that is not a
 * readable Parquet or gzip file (truncated by a crash, or foreign) is left out and reported,
 * never fatal.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { COMPACTION_PREFIX, LAKE_TABLES, sqlTableName, type CompactionManifest, duckdbJsonColumns, duckdbJsonSelect, duckdbType, lakeTables, tablePrefix, type LakeFormat, type LakeTable } from '../schemas/lake';
import { lakeBucket } from '../schemas/resources';

/** s3rver stores an object's bytes at `<key>._S3rver_object`. */
const OBJECT_SUFFIX = '._S3rver_object';

export interface SkippedFile {
  path: string;
  reason: string;
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
    gunzipSync(readFileSync(path));
    return undefined;
  } catch (err) {
    return `not a readable gzip file: ${(err as Error).message}`;
  }
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
  const columns = lakeTables[table].columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS "${c.name}"`).join(', ');
  return `SELECT ${columns}, ${PARTITION_COLUMNS} WHERE false`;
}

function viewSql(format: LakeFormat, table: LakeTable, files: string[]): string {
  if (files.length === 0) return emptyView(table);
  const list = `[${files.map(quote).join(', ')}]`;
  const hive = `hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}`;
  if (format === 'parquet') return `SELECT * FROM read_parquet(${list}, ${hive})`;
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

export class LakeSql {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    /** Files left out of the views, with the reason. */
    readonly skipped: SkippedFile[],
  ) {}

  /** Opens DuckDB with a view per lake table and format over the files under `lakeRoot`. */
  static async open(lakeRoot: string): Promise<LakeSql> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const skipped: SkippedFile[] = [];
    const hidden = hiddenByCompactions(lakeRoot);
    for (const format of ['raw', 'parquet'] as const) {
      for (const table of LAKE_TABLES) {
        const suffix = format === 'parquet' ? '.parquet' : '.json.gz';
        const files = listObjects(join(lakeRoot, tablePrefix(format, table)), suffix).filter((path) => {
          if (hidden.has(path)) return false;
          const reason = unreadableReason(path, format);
          if (reason) skipped.push({ path, reason });
          return !reason;
        });
        await connection.run(`CREATE VIEW ${sqlTableName(format, table)} AS ${viewSql(format, table, files)}`);
      }
    }
    return new LakeSql(instance, connection, skipped);
  }

  async query(sql: string): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(sql);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJS().map(plainRow) };
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
