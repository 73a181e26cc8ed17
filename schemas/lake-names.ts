/**
 * The lake's table names and folders, with no schema behind them (no zod): what a reader needs to
 * find a table's files and name it in SQL. schemas/lake.ts re-exports all of it with the columns;
 * this module exists so that `sdp query` starts without loading the schemas (zod takes ~70 ms).
 */
export const LAKE_TABLES = ['bcns', 'bids', 'impressions', 'clicks', 'aggregates', 'auctions'] as const;
export type LakeTable = (typeof LAKE_TABLES)[number];

export const LAKE_PREFIXES = { raw: 'raw', parquet: 'parquet' } as const;
export type LakeFormat = keyof typeof LAKE_PREFIXES;

/** The SQL name of a lake table in a format: `raw_bcns`, `parquet_auctions`, … (Glue and DuckDB alike). */
export function sqlTableName(format: LakeFormat, table: LakeTable): string {
  return `${LAKE_PREFIXES[format]}_${table}`;
}

/** The folder holding a table's files of one format (the Glue table's location, under the bucket). */
export function tablePrefix(format: LakeFormat, table: LakeTable): string {
  return `${LAKE_PREFIXES[format]}/${table}/`;
}

/** Where compaction keeps its manifests (see CompactionManifest in schemas/lake.ts). */
export const COMPACTION_PREFIX = 'compaction/';
