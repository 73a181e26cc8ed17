/**
 * The data lake's tables, defined once: their columns (derived from the zod event schemas in
 * events.ts and the aggregate row in aggregates.ts, never listed again by hand), how each column
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
import { bidSchema, impressionSchema, streamEventSchema, type EventType } from './events';
import { COUNTERS, type AggregateRow } from './aggregates';
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
export { COMPACTION_PREFIX, LAKE_PREFIXES, LAKE_TABLES, sqlTableName, tablePrefix, type LakeFormat, type LakeTable } from './lake-names';

export interface LakeTableDef {
  readonly name: LakeTable;
  readonly description: string;
  readonly columns: readonly LakeColumn[];
  /** The timestamp column whose UTC date and hour place a row in its partition. */
  readonly partitionBy: string;
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

/** Stream-record columns per event type, as the ingestion API writes them (streamEventSchema). */
function streamColumns(): Record<EventType, LakeColumn[]> {
  const out = {} as Record<EventType, LakeColumn[]>;
  for (const option of streamEventSchema.options) {
    const type = option.shape.type.value as EventType;
    out[type] = columnsOfShape(option.shape as Record<string, z.ZodType>);
  }
  return out;
}

/** Orders columns: `type` first, then the event's fields in schema order, then event_time, received_at. */
const TIMESTAMP_ORDER = ['event_time', 'received_at'];
function ordered(columns: LakeColumn[]): LakeColumn[] {
  const rank = (c: LakeColumn) => (c.name === 'type' ? -1 : TIMESTAMP_ORDER.includes(c.name) ? TIMESTAMP_ORDER.indexOf(c.name) + 1 : 0);
  return columns.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map(({ c }) => c);
}

/** Union of the event types' columns: a column is nullable unless every type has it, required. */
function unionColumns(perType: LakeColumn[][]): LakeColumn[] {
  const byName = new Map<string, { column: LakeColumn; count: number }>();
  for (const columns of perType) {
    for (const c of columns) {
      const seen = byName.get(c.name);
      if (!seen) {
        byName.set(c.name, { column: c, count: 1 });
        continue;
      }
      if (seen.column.type !== c.type) throw new Error(`lake: field ${c.name} has types ${seen.column.type} and ${c.type} across event types`);
      seen.count++;
      seen.column = { ...seen.column, nullable: seen.column.nullable || c.nullable };
    }
  }
  return [...byName.values()].map(({ column, count }) => (count === perType.length ? column : { ...column, nullable: true }));
}

const perType = streamColumns();
const perTypeTable = (type: EventType) => ordered(perType[type].filter((c) => c.name !== 'type'));

const bcnsColumns = ordered(unionColumns([perType.bid, perType.impression, perType.click]));

/**
 * Lake types of the aggregate row's fields. Typed against AggregateRow, so a field added there
 * does not compile until it has a lake type here.
 */
const aggregateRowTypes: { [K in keyof AggregateRow]-?: LakeType } = {
  campaign_item_id: 'int64',
  period: 'int64',
  revision: 'int64',
  updated_at: 'timestamp',
  ...(Object.fromEntries(COUNTERS.map((c) => [c, 'int64'])) as Record<(typeof COUNTERS)[number], 'int64'>),
};

const aggregatesColumns: LakeColumn[] = [
  { name: 'campaign_item_id', type: aggregateRowTypes.campaign_item_id, nullable: false },
  { name: 'period', type: aggregateRowTypes.period, nullable: false, comment: 'window start, epoch seconds (as in the reports API)' },
  { name: 'period_start', type: 'timestamp', nullable: false, comment: 'window start as a timestamp' },
  { name: 'period_seconds', type: 'int64', nullable: false, comment: 'window length in seconds' },
  ...COUNTERS.map((c) => ({ name: c, type: aggregateRowTypes[c], nullable: false })),
  { name: 'revision', type: aggregateRowTypes.revision, nullable: false, comment: 'grows by one with every change of the row; the highest is current' },
  { name: 'updated_at', type: aggregateRowTypes.updated_at, nullable: false },
];

/** The bid's columns in an auction row, renamed where the auction gives them a clearer name. */
const AUCTION_RENAMES: Readonly<Record<string, string>> = { win_price: 'bid_price' };

function auctionsColumns(): LakeColumn[] {
  const bid = columnsOfShape(bidSchema.shape).map((c) => ({ ...c, name: AUCTION_RENAMES[c.name] ?? c.name }));
  const clearing = lakeTypeOf('win_price', impressionSchema.shape.win_price);
  const eventTime = perType.bid.find((c) => c.name === 'event_time')!;
  return [
    ...bid,
    { name: 'won', type: 'boolean', nullable: false, comment: 'an impression within 5 minutes of the bid (lambdas/ml/outcome.ts)' },
    { name: 'clearing_price', type: clearing.type, nullable: true, comment: "the impression's win_price" },
    { name: 'clicked', type: 'boolean', nullable: false, comment: 'a click was seen for the bid' },
    { ...eventTime, comment: "the bid's event time" },
    { name: 'impression_time', type: 'timestamp', nullable: true, comment: "the impression's event time" },
    { name: 'click_time', type: 'timestamp', nullable: true, comment: "the click's event time" },
  ];
}

export const lakeTables: Readonly<Record<LakeTable, LakeTableDef>> = {
  bcns: { name: 'bcns', description: 'every beacon event (bids, impressions, clicks) with its type', columns: bcnsColumns, partitionBy: 'event_time' },
  bids: { name: 'bids', description: 'bid events', columns: perTypeTable('bid'), partitionBy: 'event_time' },
  impressions: { name: 'impressions', description: 'impression events', columns: perTypeTable('impression'), partitionBy: 'event_time' },
  clicks: { name: 'clicks', description: 'click events', columns: perTypeTable('click'), partitionBy: 'event_time' },
  aggregates: { name: 'aggregates', description: 'every revision of every (campaign, window) row', columns: aggregatesColumns, partitionBy: 'period_start' },
  auctions: { name: 'auctions', description: 'one row per bid joined with its outcome (won, clearing price, clicked)', columns: auctionsColumns(), partitionBy: 'event_time' },
};

/** The lake table of each event type (besides bcns, which holds them all). */
export const EVENT_TABLES: Readonly<Record<EventType, LakeTable>> = { bid: 'bids', impression: 'impressions', click: 'clicks' };

// ---------------------------------------------------------------------------------------------
// Type mappings

export type GlueType = 'string' | 'bigint' | 'double' | 'boolean' | 'timestamp';

const GLUE_TYPES: Record<LakeType, GlueType> = { string: 'string', int64: 'bigint', double: 'double', boolean: 'boolean', timestamp: 'timestamp' };

export function glueType(type: LakeType): GlueType {
  return GLUE_TYPES[type];
}

/** Glue columns of a table (the shape `@aws-cdk/aws-glue-alpha` and CfnTable both take). */
export function glueColumns(table: LakeTable): { name: string; type: GlueType; comment?: string }[] {
  return lakeTables[table].columns.map((c) => ({ name: c.name, type: glueType(c.type), ...(c.comment ? { comment: c.comment } : {}) }));
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
  const columns = lakeTables[table].columns;
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
  const cols = lakeTables[table].columns.map((c) => `${quoteString(c.name)}: ${quoteString(c.type === 'timestamp' ? 'BIGINT' : duckdbType(c.type))}`);
  return `{${cols.join(', ')}}`;
}

/** The select list that gives a table's raw JSON the table's types (epoch ms → TIMESTAMP). */
export function duckdbJsonSelect(table: LakeTable): string {
  return lakeTables[table].columns
    .map((c) => (c.type === 'timestamp' ? `epoch_ms(${quoteIdent(c.name)}) AS ${quoteIdent(c.name)}` : quoteIdent(c.name)))
    .join(', ');
}

/** Column definitions for DuckDB DDL, e.g. `CREATE TABLE t (<this>)`. */
export function duckdbColumnDefs(table: LakeTable): string {
  return lakeTables[table].columns.map((c) => `${quoteIdent(c.name)} ${duckdbType(c.type)}${c.nullable ? '' : ' NOT NULL'}`).join(', ');
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
