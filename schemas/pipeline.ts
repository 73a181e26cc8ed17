/**
 * Pipelines as declarations: the API in which a user declares their streams and windowed
 * aggregations in one TypeScript file (pipelines/*.ts are the shipped ones). The core derives
 * everything else from a declared pipeline: ingestion routes and validation, stream records,
 * exactly-once aggregation, report routes, lake tables, catalog, audit and console.
 *
 * A **stream** is a kind of event clients post: a zod object schema of the fields a client sends,
 * the fields that make an event's identity (a resend with the same identity is the same event,
 * counted and stored once), the field whose value chooses the Kinesis shard, and the client's
 * optional time field (resolved into `event_time` at ingestion; the receive time when absent or
 * implausible).
 *
 * An **aggregation** counts one stream (its *root*) per group and tumbling event-time window:
 * measures are counts, and sums, minima and maxima of numeric fields; averages and ratios are
 * derived on read. With a *join*, the root's events are joined with at most one event of each
 * joined stream sharing the join key, in any arrival order; the root carries the group key, and a
 * joined event is counted in the group of its root once both have arrived.
 *
 * `definePipeline` checks the declaration whole and throws one error listing every problem, so a
 * mistake is reported when the file is loaded (at synth, at `sdp local` start), not at the first event.
 */
import { z } from 'zod';
import type { LakeColumn, LakeRow } from './lake';
import type { StreamRecord } from './stream-record';
import type { ModelName } from './predictions';

/** A name the platform derives routes, tables and SQL identifiers from. */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Names the platform gives its own fields: no declared field, measure or derived value may take one. */
export const RESERVED_NAMES: readonly string[] = ['type', 'received_at', 'event_time', 'period', 'group', 'revision', 'updated_at', 'late_events', 'aggregation', 'dt', 'hour'];

export type FieldKind = 'string' | 'integer' | 'number' | 'boolean' | 'time' | 'other';

// ---------------------------------------------------------------------------------------------
// Declarations (what a pipeline file writes)

export interface StreamDeclaration {
  /** The fields a client sends. Unknown keys are dropped, never a reason to refuse an event. */
  readonly schema: z.ZodObject;
  /** The fields whose values make an event's identity; each a required string or integer field. */
  readonly identity: readonly string[];
  /**
   * The field whose value picks the stream shard: one of the identity fields, so every copy of an
   * event reaches the one shard whose consumer dedupes it (events of one key stay in order).
   */
  readonly partitionKey: string;
  /** The client's optional time field (ISO 8601 with offset, or epoch ms). Default `timestamp` when the schema has it. */
  readonly eventTime?: string;
  /** The ingestion route, default `/<stream name>`. */
  readonly route?: string;
  /** The lake table's name, default the stream's name: `raw_<table>` and `parquet_<table>`. */
  readonly lakeTable?: string;
  readonly description?: string;
  /** An event to show users (`sdp local`'s "Try: curl ..." line); checked against the schema. */
  readonly example?: Readonly<Record<string, unknown>>;
}

export type MeasureKind = 'count' | 'sum' | 'min' | 'max';

export interface Measure {
  readonly kind: MeasureKind;
  /** The stream whose events it measures: the aggregation's root (default) or a joined stream. */
  readonly stream?: string;
  /** The numeric field summed, minimised or maximised; none for counts. */
  readonly field?: string;
}

/** A value computed on read from two measures: `numerator / denominator`, null when the denominator is 0. */
export interface Derived {
  readonly kind: 'ratio';
  readonly numerator: string;
  readonly denominator: string;
}

export type FieldValue = string | number | boolean;

export interface AggregationDeclaration {
  /** The root stream: the events grouped and counted, and the carrier of the group key. */
  readonly stream: string;
  /** Root fields whose values name a group (required string, integer or boolean fields). */
  readonly groupBy: readonly string[];
  /** Tumbling window length in seconds, epoch-aligned (default 60). */
  readonly periodSeconds?: number;
  readonly measures: Readonly<Record<string, Measure>>;
  /** Averages and ratios of the measures, computed on read (reports, SQL views). */
  readonly derived?: Readonly<Record<string, Derived>>;
  /** Only root events whose fields hold these values (one value, or any of a list) are counted. */
  readonly where?: Readonly<Record<string, FieldValue | readonly FieldValue[]>>;
  /** Join at most one event of each of `streams` to each root event sharing the value of `key`. */
  readonly join?: { readonly key: string; readonly streams: readonly string[] };
  /** The report route's first segment, default the aggregation's name: `GET /reports/<route>/<group key>`. */
  readonly route?: string;
  /** The lake table of its revision history (every revision of every row), default the aggregation's name. */
  readonly lakeTable?: string;
  readonly description?: string;
}

/**
 * A lake table the pipeline builds from its streams' events (a join, for example): compaction
 * rebuilds it whole for every closed hour of `stream`'s events, from that hour's events of
 * `stream` and the events of `joins` from that hour to an hour past the allowed lateness after it.
 * Its rows are placed in partitions by their `event_time` column, which `columns` must have.
 */
export interface LakeTableDeclaration {
  readonly description: string;
  /** Its columns in order (schemas/lake.ts columnsOfShape and lakeTypeOf derive them from zod fields). */
  readonly columns: readonly LakeColumn[];
  /** The stream it is built for: one file per closed hour holding events of it. */
  readonly stream: string;
  /** Further streams whose events it reads. */
  readonly joins?: readonly string[];
  /** The rows of an hour from the events read (stream records, the earliest received copy of each first). */
  readonly rows: (events: readonly StreamRecord[]) => LakeRow[];
}

export interface PipelineDeclaration {
  readonly name: string;
  readonly description?: string;
  readonly streams: Readonly<Record<string, StreamDeclaration>>;
  readonly aggregations?: Readonly<Record<string, AggregationDeclaration>>;
  /** A lake table holding every event of the pipeline's streams, with its `type` (the stream's name); none by default. */
  readonly eventsTable?: string;
  /** Lake tables built from the events (LakeTableDeclaration), by table name. */
  readonly lakeTables?: Readonly<Record<string, LakeTableDeclaration>>;
  /**
   * The model the pipeline ships, if any (ModelName, schemas/predictions.ts: adtech's model, lambdas/ml,
   * trained from its lake tables). Its parts are wired only when an active pipeline declares it:
   * POST /predictions and GET /models/current, the retraining schedule (a state machine in AWS, the
   * trainer locally), the SageMaker endpoint, the model's alarm, outputs and status panel.
   */
  readonly model?: ModelName;
}


/** A count of the events of `stream` (the root when omitted). */
export const count = (stream?: string): Measure => ({ kind: 'count', ...(stream !== undefined && { stream }) });
/** The sum of a numeric field. */
export const sum = (field: string, stream?: string): Measure => ({ kind: 'sum', field, ...(stream !== undefined && { stream }) });
/** The smallest value of a numeric field. */
export const min = (field: string, stream?: string): Measure => ({ kind: 'min', field, ...(stream !== undefined && { stream }) });
/** The largest value of a numeric field. */
export const max = (field: string, stream?: string): Measure => ({ kind: 'max', field, ...(stream !== undefined && { stream }) });
/** `numerator / denominator` of two measures, on read. */
export const ratio = (numerator: string, denominator: string): Derived => ({ kind: 'ratio', numerator, denominator });
/** The average of a field: its sum measure over its count measure, on read. */
export const average = (sumMeasure: string, countMeasure: string): Derived => ratio(sumMeasure, countMeasure);

// ---------------------------------------------------------------------------------------------
// Declared pipelines (what the core reads)

export interface FieldInfo {
  readonly name: string;
  readonly kind: FieldKind;
  readonly required: boolean;
}

export interface StreamSpec {
  readonly name: string;
  /** The pipeline that declares it. */
  readonly pipeline: string;
  readonly schema: z.ZodObject;
  readonly fields: readonly FieldInfo[];
  readonly identity: readonly string[];
  readonly partitionKey: string;
  readonly eventTime: string | undefined;
  readonly route: string;
  readonly lakeTable: string;
  readonly description: string;
  readonly example: Readonly<Record<string, unknown>> | undefined;
}

export interface MeasureSpec {
  readonly name: string;
  readonly kind: MeasureKind;
  readonly stream: string;
  readonly field: string | undefined;
}

export interface DerivedSpec extends Derived {
  readonly name: string;
}

export interface AggregationSpec {
  readonly name: string;
  readonly pipeline: string;
  readonly stream: string;
  readonly groupBy: readonly FieldInfo[];
  readonly periodSeconds: number;
  readonly measures: readonly MeasureSpec[];
  readonly derived: readonly DerivedSpec[];
  readonly where: Readonly<Record<string, readonly FieldValue[]>>;
  readonly join: { readonly key: string; readonly streams: readonly string[] } | undefined;
  readonly route: string;
  /** The lake table of its revision history. */
  readonly lakeTable: string;
  readonly description: string;
}

/** A table holding every event of one pipeline's streams (PipelineDeclaration.eventsTable). */
export interface EventsTableSpec {
  readonly name: string;
  readonly pipeline: string;
  readonly streams: readonly string[];
}

export interface BuiltTableSpec extends LakeTableDeclaration {
  readonly name: string;
  readonly pipeline: string;
  readonly joins: readonly string[];
}

export interface Pipeline {
  readonly name: string;
  readonly description: string;
  readonly streams: readonly StreamSpec[];
  readonly aggregations: readonly AggregationSpec[];
  /** Lake tables of every event of a pipeline (absent: none). */
  readonly eventsTables?: readonly EventsTableSpec[];
  /** Lake tables built from events (absent: none). */
  readonly builtTables?: readonly BuiltTableSpec[];
  /** The models it declares (absent: none). */
  readonly models?: readonly ModelName[];
}

/** Whether the pipeline (or any of a combined one's) declares a model: there is one kind, so any is it. */
export function hasModel(pipeline: Pipeline): boolean {
  return (pipeline.models ?? []).length > 0;
}

export class PipelineError extends Error {
  constructor(readonly pipeline: string, readonly problems: readonly string[]) {
    super(`pipeline ${pipeline} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PipelineError';
  }
}

export const DEFAULT_PERIOD_SECONDS = 60;

function unwrap(schema: z.ZodType): { inner: z.ZodType; optional: boolean } {
  let s = schema;
  let optional = false;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) optional = true;
    else if (!(s instanceof z.ZodDefault)) return { inner: s, optional };
    s = (s as z.ZodOptional<z.ZodType>).unwrap();
  }
}

/** What kind of value a field holds, and whether a client must send it. */
export function fieldInfo(name: string, schema: z.ZodType): FieldInfo {
  const { inner, optional } = unwrap(schema);
  let kind: FieldKind = 'other';
  // By the definition's type, so string formats (z.email(), z.uuid(), ...) are strings too.
  if (inner.def.type === 'string') kind = 'string';
  else if (inner instanceof z.ZodNumber) kind = inner.isInt ? 'integer' : 'number';
  else if (inner instanceof z.ZodBoolean) kind = 'boolean';
  else if (inner instanceof z.ZodUnion) {
    const kinds = new Set(inner.options.map((o) => fieldInfo(name, o as z.ZodType).kind));
    if (kinds.size === 2 && kinds.has('string') && (kinds.has('integer') || kinds.has('number'))) kind = 'time';
  }
  return { name, kind, required: !optional };
}

const KEY_KINDS: ReadonlySet<FieldKind> = new Set(['string', 'integer']);
const GROUP_KINDS: ReadonlySet<FieldKind> = new Set(['string', 'integer', 'boolean']);
const NUMERIC_KINDS: ReadonlySet<FieldKind> = new Set(['integer', 'number']);

function checkName(problems: string[], what: string, name: string): void {
  if (!NAME.test(name)) problems.push(`${what} "${name}" must be lower case letters, digits and _ (starting with a letter, at most 63)`);
  else if (RESERVED_NAMES.includes(name)) problems.push(`${what} "${name}" is a name the platform uses itself (${RESERVED_NAMES.join(', ')})`);
}

function declareStream(pipeline: string, name: string, d: StreamDeclaration, problems: string[]): StreamSpec {
  checkName(problems, 'stream', name);
  const fields = Object.entries(d.schema.shape).map(([field, schema]) => fieldInfo(field, schema as z.ZodType));
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const f of fields) {
    checkName(problems, `stream ${name}: field`, f.name);
    if (f.kind === 'other') problems.push(`stream ${name}: field ${f.name} must be a string, number, boolean or time (nested values are not yet declarable)`);
  }
  const key = (what: string, field: string) => {
    const f = byName.get(field);
    if (!f) problems.push(`stream ${name}: ${what} ${field} is not a field of its schema`);
    else if (!f.required || !KEY_KINDS.has(f.kind)) problems.push(`stream ${name}: ${what} ${field} must be a required string or integer field`);
  };
  if (d.identity.length === 0) problems.push(`stream ${name}: identity needs at least one field`);
  for (const field of d.identity) key('identity field', field);
  key('partition key', d.partitionKey);
  // Copies of one event must reach one shard, whose consumer alone dedupes them, in order.
  if (!d.identity.includes(d.partitionKey)) problems.push(`stream ${name}: partition key ${d.partitionKey} must be one of its identity fields (${d.identity.join(', ')}), so that every copy of an event reaches the same shard`);
  const eventTime = d.eventTime ?? (byName.has('timestamp') ? 'timestamp' : undefined);
  if (eventTime !== undefined) {
    const f = byName.get(eventTime);
    if (!f) problems.push(`stream ${name}: event time field ${eventTime} is not a field of its schema`);
    else if (f.kind !== 'time' || f.required) problems.push(`stream ${name}: event time field ${eventTime} must be optional, an ISO 8601 date-time or epoch milliseconds (use clientTimestamp)`);
  }
  const route = d.route ?? `/${name}`;
  if (!/^\/[a-z0-9_-]+(\/[a-z0-9_-]+)*$/.test(route)) problems.push(`stream ${name}: route ${route} must be a path of lower case segments`);
  const lakeTable = d.lakeTable ?? name;
  checkName(problems, `stream ${name}: lake table`, lakeTable);
  if (d.example !== undefined) {
    const parsed = d.schema.safeParse(d.example);
    if (!parsed.success) problems.push(`stream ${name}: example is not a valid event: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'} ${i.message}`).join('; ')}`);
  }
  return { name, pipeline, schema: d.schema, fields, identity: [...d.identity], partitionKey: d.partitionKey, eventTime, route, lakeTable, description: d.description ?? `${name} events`, example: d.example };
}

function declareAggregation(pipeline: string, name: string, d: AggregationDeclaration, streams: ReadonlyMap<string, StreamSpec>, problems: string[]): AggregationSpec {
  checkName(problems, 'aggregation', name);
  const at = `aggregation ${name}`;
  const root = streams.get(d.stream);
  if (!root) problems.push(`${at}: stream ${d.stream} is not declared`);
  const fieldOf = (stream: StreamSpec | undefined, field: string) => stream?.fields.find((f) => f.name === field);

  const groupBy: FieldInfo[] = [];
  if (d.groupBy.length === 0) problems.push(`${at}: groupBy needs at least one field`);
  for (const field of d.groupBy) {
    const f = fieldOf(root, field);
    if (root && !f) problems.push(`${at}: group field ${field} is not a field of stream ${root.name}`);
    else if (f && (!f.required || !GROUP_KINDS.has(f.kind))) problems.push(`${at}: group field ${field} must be a required string, integer or boolean field`);
    if (f) groupBy.push(f);
  }

  const joined = d.join?.streams ?? [];
  if (d.join) {
    if (joined.length === 0) problems.push(`${at}: join needs at least one stream`);
    for (const s of [d.stream, ...joined]) {
      const spec = streams.get(s);
      if (!spec) { if (s !== d.stream) problems.push(`${at}: joined stream ${s} is not declared`); continue; }
      // At most one event of each stream per join key: the key is the stream's identity.
      if (spec.identity.length !== 1 || spec.identity[0] !== d.join.key) problems.push(`${at}: stream ${s} joins on ${d.join.key}, so its identity must be [${d.join.key}] (one event per key)`);
    }
    if (joined.includes(d.stream)) problems.push(`${at}: the root stream ${d.stream} cannot also be joined`);
  }
  const counted = new Set([d.stream, ...joined]);

  const measures: MeasureSpec[] = [];
  const measureNames = Object.keys(d.measures);
  if (measureNames.length === 0) problems.push(`${at}: declare at least one measure`);
  for (const [measure, m] of Object.entries(d.measures)) {
    checkName(problems, `${at}: measure`, measure);
    if (groupBy.some((g) => g.name === measure)) problems.push(`${at}: measure ${measure} has the name of a group field`);
    const stream = m.stream ?? d.stream;
    if (!counted.has(stream)) problems.push(`${at}: measure ${measure} measures stream ${stream}, which is neither its root nor joined`);
    if (m.kind === 'count') {
      if (m.field !== undefined) problems.push(`${at}: measure ${measure} counts events and takes no field`);
    } else {
      const f = m.field === undefined ? undefined : fieldOf(streams.get(stream), m.field);
      if (!f) problems.push(`${at}: measure ${measure} needs a field of stream ${stream}, got ${m.field ?? 'none'}`);
      else if (!NUMERIC_KINDS.has(f.kind)) problems.push(`${at}: measure ${measure}: ${m.kind} of ${f.name}, which is not numeric`);
    }
    measures.push({ name: measure, kind: m.kind, stream, field: m.field });
  }

  const derived: DerivedSpec[] = [];
  for (const [value, spec] of Object.entries(d.derived ?? {})) {
    checkName(problems, `${at}: derived value`, value);
    if (measureNames.includes(value)) problems.push(`${at}: derived value ${value} has the name of a measure`);
    for (const operand of [spec.numerator, spec.denominator]) {
      if (!measureNames.includes(operand)) problems.push(`${at}: derived value ${value} uses ${operand}, which is not a measure`);
    }
    derived.push({ name: value, ...spec });
  }

  const where: Record<string, readonly FieldValue[]> = {};
  for (const [field, values] of Object.entries(d.where ?? {})) {
    const f = fieldOf(root, field);
    if (root && !f) problems.push(`${at}: filter field ${field} is not a field of stream ${root.name}`);
    where[field] = Array.isArray(values) ? [...(values as readonly FieldValue[])] : [values as FieldValue];
  }

  const periodSeconds = d.periodSeconds ?? DEFAULT_PERIOD_SECONDS;
  if (!Number.isInteger(periodSeconds) || periodSeconds < 1 || periodSeconds > 86_400) problems.push(`${at}: periodSeconds must be a whole number of seconds from 1 to 86400, got ${periodSeconds}`);
  const route = d.route ?? name;
  checkName(problems, `${at}: route`, route);
  const lakeTable = d.lakeTable ?? name;
  checkName(problems, `${at}: lake table`, lakeTable);
  return {
    name, pipeline, stream: d.stream, groupBy, periodSeconds, measures, derived, where,
    join: d.join ? { key: d.join.key, streams: [...joined] } : undefined,
    route, lakeTable, description: d.description ?? `${name}: ${measureNames.join(', ')} per ${d.groupBy.join(', ')} and ${periodSeconds} s window`,
  };
}

function unique(problems: string[], what: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) problems.push(`two ${what}s are named ${n}`);
    seen.add(n);
  }
}

/** Checks a pipeline declaration whole and returns what the core reads; throws PipelineError listing every problem. */
export function definePipeline(declaration: PipelineDeclaration): Pipeline {
  const problems: string[] = [];
  checkName(problems, 'pipeline', declaration.name);
  const streams = Object.entries(declaration.streams).map(([name, d]) => declareStream(declaration.name, name, d, problems));
  if (streams.length === 0) problems.push('declare at least one stream');
  const byName = new Map(streams.map((s) => [s.name, s]));
  const aggregations = Object.entries(declaration.aggregations ?? {}).map(([name, d]) => declareAggregation(declaration.name, name, d, byName, problems));
  const eventsTables: EventsTableSpec[] = [];
  if (declaration.eventsTable !== undefined) {
    checkName(problems, 'events table', declaration.eventsTable);
    eventsTables.push({ name: declaration.eventsTable, pipeline: declaration.name, streams: streams.map((s) => s.name) });
  }
  const builtTables = Object.entries(declaration.lakeTables ?? {}).map(([name, d]) => declareBuiltTable(declaration.name, name, d, byName, problems));
  const pipeline: Pipeline = { name: declaration.name, description: declaration.description ?? declaration.name, streams, aggregations, eventsTables, builtTables,
    ...(declaration.model !== undefined && { models: [declaration.model] }) };
  checkUnique(problems, pipeline);
  if (problems.length > 0) throw new PipelineError(declaration.name, problems);
  return pipeline;
}

function declareBuiltTable(pipeline: string, name: string, d: LakeTableDeclaration, streams: ReadonlyMap<string, StreamSpec>, problems: string[]): BuiltTableSpec {
  checkName(problems, 'lake table', name);
  const joins = [...(d.joins ?? [])];
  for (const s of [d.stream, ...joins]) if (!streams.has(s)) problems.push(`lake table ${name}: stream ${s} is not declared`);
  const time = d.columns.find((c) => c.name === 'event_time');
  if (time?.type !== 'timestamp' || time.nullable) problems.push(`lake table ${name}: needs a required event_time timestamp column (its rows' partition)`);
  return { ...d, name, pipeline, joins };
}

/** Every lake table name a pipeline declares (stream, aggregation, events and built tables). */
export function declaredLakeTables(p: Pipeline): string[] {
  return [...(p.eventsTables ?? []).map((t) => t.name), ...p.streams.map((s) => s.lakeTable), ...p.aggregations.map((a) => a.lakeTable), ...(p.builtTables ?? []).map((t) => t.name)];
}

function checkUnique(problems: string[], p: Pipeline): void {
  unique(problems, 'stream route', p.streams.map((s) => s.route));
  unique(problems, 'lake table', declaredLakeTables(p));
  unique(problems, 'report route', p.aggregations.map((a) => a.route));
}

/** Several pipelines run as one: their streams and aggregations side by side, names unique across them. */
export function combinePipelines(pipelines: readonly Pipeline[]): Pipeline {
  if (pipelines.length === 1) return pipelines[0];
  const problems: string[] = [];
  const streams = pipelines.flatMap((p) => p.streams);
  const aggregations = pipelines.flatMap((p) => p.aggregations);
  unique(problems, 'stream', streams.map((s) => s.name));
  unique(problems, 'aggregation', aggregations.map((a) => a.name));
  const name = pipelines.map((p) => p.name).join('+');
  const combined: Pipeline = {
    name, description: pipelines.map((p) => p.description).join('; '), streams, aggregations,
    eventsTables: pipelines.flatMap((p) => p.eventsTables ?? []), builtTables: pipelines.flatMap((p) => p.builtTables ?? []),
    models: [...new Set(pipelines.flatMap((p) => p.models ?? []))],
  };
  checkUnique(problems, combined);
  if (problems.length > 0) throw new PipelineError(name, problems);
  return combined;
}

/** The stream of a name; throws naming the declared ones. */
export function streamOf(pipeline: Pipeline, name: string): StreamSpec {
  const s = pipeline.streams.find((x) => x.name === name);
  if (!s) throw new Error(`no stream ${name} in pipeline ${pipeline.name} (it has ${pipeline.streams.map((x) => x.name).join(', ')})`);
  return s;
}

/** The aggregation of a name; throws naming the declared ones. */
export function aggregationOf(pipeline: Pipeline, name: string): AggregationSpec {
  const a = pipeline.aggregations.find((x) => x.name === name);
  if (!a) throw new Error(`no aggregation ${name} in pipeline ${pipeline.name} (it has ${pipeline.aggregations.map((x) => x.name).join(', ') || 'none'})`);
  return a;
}

/** The streams an aggregation reads: its root, then the joined ones. */
export function streamsOf(aggregation: AggregationSpec): readonly string[] {
  return [aggregation.stream, ...(aggregation.join?.streams ?? [])];
}
