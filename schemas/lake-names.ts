/**
 * The lake's folders and SQL names, with no schema behind them (no zod): what a reader needs to
 * find a table's files and name it in SQL. schemas/lake.ts re-exports all of it with the tables,
 * which it derives from the declared pipeline; this module exists so that `sdp query` starts
 * without loading the pipeline and its schemas (zod takes ~70 ms) when its SQL names no table.
 */

/** A lake table's name (schemas/lake.ts lakeTableNames lists the active pipeline's). */
export type LakeTable = string;

/** What a lake table's name may be (schemas/pipeline.ts names): how a reader finds table names in SQL and keys. */
export const LAKE_TABLE_NAME = /[a-z][a-z0-9_]{0,62}/;

export const LAKE_PREFIXES = { raw: 'raw', parquet: 'parquet' } as const;
export type LakeFormat = keyof typeof LAKE_PREFIXES;

/** The SQL name of a lake table in a format: `raw_bcns`, `parquet_readings`, … (Glue and DuckDB alike). */
export function sqlTableName(format: LakeFormat, table: LakeTable): string {
  return `${LAKE_PREFIXES[format]}_${table}`;
}

/** The folder holding a table's files of one format (the Glue table's location, under the bucket). */
export function tablePrefix(format: LakeFormat, table: LakeTable): string {
  return `${LAKE_PREFIXES[format]}/${table}/`;
}

/** Where compaction keeps its manifests (see CompactionManifest in schemas/lake.ts). */
export const COMPACTION_PREFIX = 'compaction/';
