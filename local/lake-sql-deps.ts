/**
 * What local/lake-sql.ts loads only once a query names a lake table: the tables' columns and the
 * raw files' reader. They load the zod schemas and hyparquet (~70 ms), which `sdp query "SELECT 1"`
 * never needs; bin/sdp.js bundles this module on its own, beside the lake's SQL.
 */
export { duckdbJsonColumns, duckdbJsonSelect, duckdbType, isLakeTable, lakeTable, lakeTableNames } from '../schemas/lake';
export { gunzipLakeFile, rawLines, UnreadableFile } from '../lambdas/compaction/files';
