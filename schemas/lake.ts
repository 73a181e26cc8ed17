/**
 * The data lake's tables, derived from the declared pipeline (schemas/pipeline.ts): per stream a
 * table of its events (`raw_<lakeTable>`, `parquet_<lakeTable>`, columns from its zod schema), per
 * aggregation a table of its revision history, the pipeline's events table (every event with its
 * type) and the tables it builds from events, if declared. Also how each column
 * maps to Glue, Parquet and DuckDB types, and where a table's files live in the bucket
 * (`raw/<table>/dt=YYYY-MM-DD/hour=HH/<file>.json.gz`, `parquet/<table>/dt=…/hour=…/<file>.parquet`,
 * partitioned by event time in UTC). The CDK Glue tables, the lake writer and the local DuckDB
 * views all read these definitions, so the two homes cannot drift apart.
 *
 * Row values in memory and in the raw JSON: strings, numbers (int64 as safe integers), booleans,
 * null; timestamps as epoch milliseconds.
 */
import { z } from 'zod';
import type { SchemaElement } from 'hyparquet';
import { streamOf, type AggregationSpec, type MeasureSpec, type Pipeline, type StreamSpec } from './pipeline';
import { recordSchema } from './stream-record';
import { activePipeline } from './active-pipeline';
import { COMPACTION_PREFIX, LAKE_PREFIXES, tablePrefix, type LakeFormat, type LakeTable } from './lake-names';

/** Logical column types of the lake. `timestamp` is UTC, millisecond precision. */
export type LakeType = 'string' | 'int64' | 'double' | 'boolean' | 'timestamp';

export interface LakeColumn {
  readonly name: string;
  readonly type: LakeType;
  readonly nullable: boolean;
  readonly comment?: string;
}

// The names and folders live in lake-names.ts (no zod), re-exported here with the columns.
export { COMPACTION_PREFIX, LAKE_PREFIXES, sqlTableName, tablePrefix, type LakeFormat, type LakeTable } from './lake-names';

/**
 * What a table holds: `stream`, one stream's events (no `type` column: the stream implies it);
 * `events`, every event of several streams with its `type`; `aggregation`, every revision of an
 * aggregation's rows; `built`, rows the pipeline builds from events (LakeTableDeclaration),
 * rebuilt by compaction for every closed hour.
 */
export type LakeTableKind = 'stream' | 'events' | 'aggregation' | 'built';

export interface LakeTableDef {
  readonly name: LakeTable;
  readonly kind: LakeTableKind;
  readonly description: string;
  readonly columns: readonly LakeColumn[];
  /** The timestamp column whose UTC date and hour place a row in its partition. */
  readonly partitionBy: string;
  /** The streams whose events it holds (for `built`: the stream it is built for, then those it joins). */
  readonly streams: readonly string[];
  /** The aggregation whose revisions it holds (kind `aggregation`). */
  readonly aggregation?: string;
}

/** A row of a lake table: column name → value (timestamps as epoch ms; absent values null). */
export type LakeValue = string | number | boolean | null;
export type LakeRow = Record<string, LakeValue>;

// ---------------------------------------------------------------------------------------------
// Columns derived from the zod schemas

/** Server-stamped fields that hold instants (epoch ms on the stream): timestamps in the lake. */
export const TIMESTAMP_FIELDS: ReadonlySet<string> = new Set(['event_time', 'received_at']);

/**
 * Event fields the typed tables leave out, with the reason. The raw JSON keeps them.
 * `timestamp` is the client's claim (ISO text or epoch ms), already resolved into `event_time`;
 * its name is also a reserved word in Athena DDL.
 */
export const EXCLUDED_FIELDS: Readonly<Record<string, string>> = {
  timestamp: 'the client-sent time, resolved into event_time at ingestion; kept in the raw JSON',
};

interface Unwrapped {
  schema: z.ZodType;
  optional: boolean;
}

function unwrap(schema: z.ZodType): Unwrapped {
  let s: z.ZodType = schema;
  let optional = false;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      optional = true;
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodDefault) {
      s = s.unwrap() as z.ZodType;
    } else {
      return { schema: s, optional };
    }
  }
}

/** The lake type of one zod field; throws on a zod type the lake has no mapping for. */
export function lakeTypeOf(name: string, schema: z.ZodType): { type: LakeType; nullable: boolean } {
  const { schema: s, optional } = unwrap(schema);
  const nullable = optional;
  if (TIMESTAMP_FIELDS.has(name)) {
    if (!(s instanceof z.ZodNumber)) throw new Error(`lake: timestamp field ${name} must be a zod number (epoch ms)`);
    return { type: 'timestamp', nullable };
  }
  if (s instanceof z.ZodString || s instanceof z.ZodEnum) return { type: 'string', nullable };
  if (s instanceof z.ZodLiteral) {
    const values = [...s.values];
    if (values.every((v) => typeof v === 'string')) return { type: 'string', nullable };
  }
  if (s instanceof z.ZodNumber) return { type: s.isInt ? 'int64' : 'double', nullable };
  if (s instanceof z.ZodBoolean) return { type: 'boolean', nullable };
  throw new Error(`lake: no column type for field "${name}" (zod ${s.def.type}); map it in schemas/lake.ts or list it in EXCLUDED_FIELDS`);
}

/** The columns of one zod object schema, in shape order, minus the excluded fields. */
export function columnsOfShape(shape: Record<string, z.ZodType>): LakeColumn[] {
  const columns: LakeColumn[] = [];
  for (const [name, schema] of Object.entries(shape)) {
    if (name in EXCLUDED_FIELDS) continue;
    columns.push({ name, ...lakeTypeOf(name, schema) });
  }
  return columns;
}

/** Orders columns: `type` first, then the event's fields in schema order, then event_time, received_at. */
const TIMESTAMP_ORDER = ['event_time', 'received_at'];
function ordered(columns: LakeColumn[]): LakeColumn[] {
  const rank = (c: LakeColumn) => (c.name === 'type' ? -1 : TIMESTAMP_ORDER.includes(c.name) ? TIMESTAMP_ORDER.indexOf(c.name) + 1 : 0);
  return columns.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map(({ c }) => c);
}

/** Union of the streams' columns: a column is nullable unless every stream has it, required. */
function unionColumns(perStream: LakeColumn[][]): LakeColumn[] {
  const byName = new Map<string, { column: LakeColumn; count: number }>();
  for (const columns of perStream) {
    for (const c of columns) {
      const seen = byName.get(c.name);
      if (!seen) {
        byName.set(c.name, { column: c, count: 1 });
        continue;
      }
      if (seen.column.type !== c.type) throw new Error(`lake: field ${c.name} has types ${seen.column.type} and ${c.type} across streams`);
      seen.count++;
      seen.column = { ...seen.column, nullable: seen.column.nullable || c.nullable };
    }
  }
  return [...byName.values()].map(({ column, count }) => (count === perStream.length ? column : { ...column, nullable: true }));
}

/** The columns of a stream's records (its client fields, `type`, received_at and event_time), as recordSchema gives them. */
export function streamRecordColumns(stream: StreamSpec): LakeColumn[] {
  const shape = { ...((recordSchema(stream) as z.ZodObject).shape as Record<string, z.ZodType>) };
  // The client's time, resolved into event_time at ingestion: kept in the raw JSON only (as EXCLUDED_FIELDS).
  if (stream.eventTime !== undefined) delete shape[stream.eventTime];
  return columnsOfShape(shape);
}

/** The lake type of a stream's field (group fields and measured fields of aggregations). */
function fieldType(stream: StreamSpec, field: string): LakeType {
  return lakeTypeOf(field, stream.schema.shape[field] as z.ZodType).type;
}

/**
 * The columns of an aggregation's revision history: the feed record (contract 3) with the window
 * as a timestamp and its length. Counts are int64; sums of integers int64, of numbers double;
 * minima and maxima of the field's type, null until a value arrives.
 */
export function aggregationColumns(pipeline: Pipeline, a: AggregationSpec): LakeColumn[] {
  const root = streamOf(pipeline, a.stream);
  const measureType = (m: MeasureSpec): LakeType => (m.kind === 'count' ? 'int64' : fieldType(streamOf(pipeline, m.stream), m.field!));
  return [
    ...a.groupBy.map((g) => ({ name: g.name, type: fieldType(root, g.name), nullable: false })),
    { name: 'period', type: 'int64', nullable: false, comment: 'window start, epoch seconds (as in the reports API)' },
    { name: 'period_start', type: 'timestamp', nullable: false, comment: 'window start as a timestamp' },
    { name: 'period_seconds', type: 'int64', nullable: false, comment: 'window length in seconds' },
    ...a.measures.map((m) => ({ name: m.name, type: measureType(m), nullable: m.kind === 'min' || m.kind === 'max' })),
    { name: 'late_events', type: 'int64', nullable: false },
    { name: 'revision', type: 'int64', nullable: false, comment: 'grows by one with every change of the row; the highest is current' },
    { name: 'updated_at', type: 'timestamp', nullable: false },
  ];
}

/** Projects a record onto columns: every column present, absent values null. */
export function projectRow(columns: readonly LakeColumn[], record: object): LakeRow {
  const source = record as Record<string, unknown>;
  const row: LakeRow = {};
  for (const { name } of columns) {
    const v = source[name];
    row[name] = v === undefined ? null : (v as LakeValue);
  }
  return row;
}

/** The lake tables of a pipeline, in order: events tables, stream tables, aggregation tables, built tables. */
export function lakeTablesOf(pipeline: Pipeline): readonly LakeTableDef[] {
  let tables = derived.get(pipeline);
  if (tables) return tables;
  const perStream = new Map(pipeline.streams.map((s) => [s.name, streamRecordColumns(s)]));
  tables = [
    ...(pipeline.eventsTables ?? []).map((t): LakeTableDef => ({
      name: t.name, kind: 'events', streams: t.streams, partitionBy: 'event_time',
      description: `every event of ${t.pipeline} (${t.streams.join(', ')}) with its type`,
      columns: ordered(unionColumns(t.streams.map((s) => perStream.get(s)!))),
    })),
    ...pipeline.streams.map((s): LakeTableDef => ({
      name: s.lakeTable, kind: 'stream', streams: [s.name], partitionBy: 'event_time', description: s.description,
      columns: ordered(perStream.get(s.name)!.filter((c) => c.name !== 'type')),
    })),
    ...pipeline.aggregations.map((a): LakeTableDef => ({
      name: a.lakeTable, kind: 'aggregation', streams: [], aggregation: a.name, partitionBy: 'period_start',
      description: `every revision of every (${a.groupBy.map((g) => g.name).join(', ')}, window) row of ${a.name}`,
      columns: aggregationColumns(pipeline, a),
    })),
    ...(pipeline.builtTables ?? []).map((t): LakeTableDef => ({
      name: t.name, kind: 'built', streams: [t.stream, ...t.joins], partitionBy: 'event_time', description: t.description, columns: [...t.columns],
    })),
  ];
  derived.set(pipeline, tables);
  return tables;
}

const derived = new WeakMap<Pipeline, readonly LakeTableDef[]>();

/** The lake tables of the active pipeline (schemas/active-pipeline.ts), in lakeTablesOf order. */
export function lakeTableList(): readonly LakeTableDef[] {
  return lakeTablesOf(activePipeline());
}

/** The active pipeline's lake table names. */
export function lakeTableNames(): LakeTable[] {
  return lakeTableList().map((t) => t.name);
}

/** A lake table of the active pipeline; throws naming the tables it has. */
export function lakeTable(name: LakeTable): LakeTableDef {
  const t = lakeTableList().find((x) => x.name === name);
  if (!t) throw new Error(`lake: no table ${name} (the lake has ${lakeTableNames().join(', ')})`);
  return t;
}

/** Whether the active pipeline has a lake table of that name. */
export function isLakeTable(name: string): boolean {
  return lakeTableList().some((t) => t.name === name);
}

// ---------------------------------------------------------------------------------------------
// Type mappings

export type GlueType = 'string' | 'bigint' | 'double' | 'boolean' | 'timestamp';

const GLUE_TYPES: Record<LakeType, GlueType> = { string: 'string', int64: 'bigint', double: 'double', boolean: 'boolean', timestamp: 'timestamp' };

export function glueType(type: LakeType): GlueType {
  return GLUE_TYPES[type];
}

/** Glue columns of a table (the shape `@aws-cdk/aws-glue-alpha` and CfnTable both take). */
export function glueColumns(table: LakeTable): { name: string; type: GlueType; comment?: string }[] {
  return lakeTable(table).columns.map((c) => ({ name: c.name, type: glueType(c.type), ...(c.comment ? { comment: c.comment } : {}) }));
}

/** Partition keys of every table: strings, from the event time in UTC (see partitionOf). */
export const PARTITION_KEYS = [
  { name: 'dt', type: 'string' as GlueType, comment: 'event date, UTC, YYYY-MM-DD' },
  { name: 'hour', type: 'string' as GlueType, comment: 'event hour, UTC, HH' },
] as const;

/**
 * What Athena's Hive JSON SerDe needs to read the raw tables' timestamps, which are epoch
 * milliseconds in the JSON: `timestamp.formats = millis`.
 */
export const RAW_JSON_SERDE = {
  serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe',
  parameters: { 'timestamp.formats': 'millis' },
} as const;

/**
 * The Parquet element of one column. Timestamps are INT64 annotated TIMESTAMP_MILLIS (the
 * converted type every reader knows; UTC instants): DuckDB reads them as TIMESTAMP and Athena as
 * timestamp, both UTC wall-clock without a zone, so the same SQL truncates hours the same way.
 */
export function parquetElement(column: LakeColumn): SchemaElement {
  const repetition_type = column.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (column.type) {
    case 'string':
      return { name: column.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type };
    case 'int64':
      return { name: column.name, type: 'INT64', repetition_type };
    case 'double':
      return { name: column.name, type: 'DOUBLE', repetition_type };
    case 'boolean':
      return { name: column.name, type: 'BOOLEAN', repetition_type };
    case 'timestamp':
      return { name: column.name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type };
  }
}

/** The Parquet schema of a table: the root element, then one element per column. */
export function parquetSchema(table: LakeTable): SchemaElement[] {
  const columns = lakeTable(table).columns;
  return [{ name: 'root', num_children: columns.length }, ...columns.map(parquetElement)];
}

export type DuckDBType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';

const DUCKDB_TYPES: Record<LakeType, DuckDBType> = { string: 'VARCHAR', int64: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP' };

export function duckdbType(type: LakeType): DuckDBType {
  return DUCKDB_TYPES[type];
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteString = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * The DuckDB `columns={...}` struct for reading a table's raw JSON with `read_json`. Timestamps
 * are epoch ms numbers in the JSON, so they are read as BIGINT; `duckdbJsonSelect` converts them.
 */
export function duckdbJsonColumns(table: LakeTable): string {
  const cols = lakeTable(table).columns.map((c) => `${quoteString(c.name)}: ${quoteString(c.type === 'timestamp' ? 'BIGINT' : duckdbType(c.type))}`);
  return `{${cols.join(', ')}}`;
}

/** The select list that gives a table's raw JSON the table's types (epoch ms → TIMESTAMP). */
export function duckdbJsonSelect(table: LakeTable): string {
  return lakeTable(table).columns
    .map((c) => (c.type === 'timestamp' ? `epoch_ms(${quoteIdent(c.name)}) AS ${quoteIdent(c.name)}` : quoteIdent(c.name)))
    .join(', ');
}

/** Column definitions for DuckDB DDL, e.g. `CREATE TABLE t (<this>)`. */
export function duckdbColumnDefs(table: LakeTable): string {
  return lakeTable(table).columns.map((c) => `${quoteIdent(c.name)} ${duckdbType(c.type)}${c.nullable ? '' : ' NOT NULL'}`).join(', ');
}

// ---------------------------------------------------------------------------------------------
// Partitions and keys

export interface Partition {
  /** UTC date, YYYY-MM-DD. */
  readonly dt: string;
  /** UTC hour, 00-23. */
  readonly hour: string;
}

const HOUR_MS = 3_600_000;

/** The partition of an instant (epoch ms): its UTC date and hour. */
export function partitionOf(eventTimeMs: number): Partition {
  if (!Number.isFinite(eventTimeMs)) throw new Error(`lake: not a time: ${eventTimeMs}`);
  const iso = new Date(Math.floor(eventTimeMs / HOUR_MS) * HOUR_MS).toISOString();
  return { dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

/** The partition's path segment, `dt=YYYY-MM-DD/hour=HH`. */
export function partitionPath(p: Partition): string {
  return `dt=${p.dt}/hour=${p.hour}`;
}


/** Where the lake writer keeps the records it could not decode, with the reason (never dropped). */
export const ERRORS_PREFIX = 'errors';

/** `errors/<fileId>.json.gz` */
export function errorsKey(fileId: string): string {
  return `${ERRORS_PREFIX}/${fileId}.json.gz`;
}

const EXTENSIONS: Record<LakeFormat, string> = { raw: '.json.gz', parquet: '.parquet' };

const FILE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function key(format: LakeFormat, table: LakeTable, p: Partition, fileId: string): string {
  if (!FILE_ID.test(fileId)) throw new Error(`lake: file id must be [A-Za-z0-9._-], got "${fileId}"`);
  return `${LAKE_PREFIXES[format]}/${table}/${partitionPath(p)}/${fileId}${EXTENSIONS[format]}`;
}

/** `raw/<table>/dt=YYYY-MM-DD/hour=HH/<fileId>.json.gz` */
export function rawKey(table: LakeTable, partition: Partition, fileId: string): string {
  return key('raw', table, partition, fileId);
}

/** `parquet/<table>/dt=YYYY-MM-DD/hour=HH/<fileId>.parquet` */
export function parquetKey(table: LakeTable, partition: Partition, fileId: string): string {
  return key('parquet', table, partition, fileId);
}


/** The folder holding one partition of a table's files of one format. */
export function partitionPrefix(format: LakeFormat, table: LakeTable, partition: Partition): string {
  return `${tablePrefix(format, table)}${partitionPath(partition)}/`;
}

// ---------------------------------------------------------------------------------------------
// Compaction manifests

/**
 * A compaction's commit record, written before its outputs and deleted after its inputs: while it
 * exists, readers that honour it see either the inputs (outputs not all written yet) or the outputs
 * (inputs not all deleted yet), never both, and a rerun finishes the job it describes.
 */
export interface CompactionManifest {
  format: LakeFormat;
  table: LakeTable;
  partition: Partition;
  /** Object keys being replaced. */
  inputs: string[];
  /** The ETag of each input as compaction read it: its delete is conditional on it (absent in older manifests). */
  inputETags?: Record<string, string>;
  /** Object keys replacing them. */
  outputs: string[];
  createdAt: string;
}


/** `compaction/<format>/<table>/dt=YYYY-MM-DD/hour=HH/<name>.json` */
export function compactionManifestKey(format: LakeFormat, table: LakeTable, partition: Partition, name: string): string {
  if (!FILE_ID.test(name)) throw new Error(`lake: manifest name must be [A-Za-z0-9._-], got "${name}"`);
  return `${COMPACTION_PREFIX}${format}/${table}/${partitionPath(partition)}/${name}.json`;
}
