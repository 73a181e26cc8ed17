/**
 * How a pipeline's schemas may evolve while data written with them exists (issue 19 item 4):
 * the schema a pipeline has (PipelineSchema: plain JSON, what a baseline file holds), and the
 * comparison of a declaration with its baseline. Pure: the callers read and write the baselines
 * (lib/pipeline-baselines.ts at synth, `pipelines/<name>.schema.json`; local/pipeline-schemas.ts at
 * `sdp local` start, `<data-dir>/pipeline-schemas.json`).
 *
 * Additive changes are taken at once: a new optional field (a new nullable column: files written
 * before it read it as null), a required field made optional, a new stream, aggregation, measure or
 * lake table. Everything else would make the data already written disagree with the declaration
 * (a column gone or retyped, events deduplicated or grouped by other keys, windows of another
 * length), so it is refused, saying what to do instead: add a new optional field, or declare a new
 * stream (or aggregation) under a new name. A stream or aggregation no longer declared keeps its
 * entry in the baseline (its data is still there), so declaring it again is checked against it.
 */
import type { FieldKind, MeasureKind, Pipeline } from './pipeline';
import { lakeTablesOf, type LakeType } from './lake';

export const SCHEMA_FORMAT = 1;

export interface FieldSchema {
  kind: FieldKind;
  required: boolean;
}

export interface StreamSchema {
  fields: Record<string, FieldSchema>;
  identity: string[];
  partitionKey: string;
  lakeTable: string;
}

export interface MeasureSchema {
  kind: MeasureKind;
  stream: string;
  field: string | null;
}

export interface AggregationSchema {
  stream: string;
  groupBy: string[];
  periodSeconds: number;
  join: { key: string; streams: string[] } | null;
  measures: Record<string, MeasureSchema>;
  lakeTable: string;
}

export interface ColumnSchema {
  type: LakeType;
  nullable: boolean;
}

export interface PipelineSchema {
  format: typeof SCHEMA_FORMAT;
  streams: Record<string, StreamSchema>;
  aggregations: Record<string, AggregationSchema>;
  /** Lake table → column → its type. */
  tables: Record<string, Record<string, ColumnSchema>>;
}

/** The schema a declared pipeline has now. */
export function pipelineSchema(p: Pipeline): PipelineSchema {
  return {
    format: SCHEMA_FORMAT,
    streams: Object.fromEntries(
      p.streams.map((s) => [
        s.name,
        {
          fields: Object.fromEntries(s.fields.map((f) => [f.name, { kind: f.kind, required: f.required }])),
          identity: [...s.identity],
          partitionKey: s.partitionKey,
          lakeTable: s.lakeTable,
        },
      ]),
    ),
    aggregations: Object.fromEntries(
      p.aggregations.map((a) => [
        a.name,
        {
          stream: a.stream,
          groupBy: a.groupBy.map((g) => g.name),
          periodSeconds: a.periodSeconds,
          join: a.join ? { key: a.join.key, streams: [...a.join.streams] } : null,
          measures: Object.fromEntries(a.measures.map((m) => [m.name, { kind: m.kind, stream: m.stream, field: m.field ?? null }])),
          lakeTable: a.lakeTable,
        },
      ]),
    ),
    tables: Object.fromEntries(lakeTablesOf(p).map((t) => [t.name, Object.fromEntries(t.columns.map((c) => [c.name, { type: c.type, nullable: c.nullable }]))])),
  };
}

// ---------------------------------------------------------------------------------------------
// Reading a baseline (a state file: validated, never trusted)

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const FIELD_KINDS: readonly string[] = ['string', 'integer', 'number', 'boolean', 'time', 'other'];
const MEASURE_KINDS: readonly string[] = ['count', 'sum', 'min', 'max'];
const LAKE_TYPES: readonly string[] = ['string', 'int64', 'double', 'boolean', 'timestamp'];

function recordOf<T>(v: unknown, what: string, item: (x: unknown, at: string) => T): Record<string, T> {
  if (!isObject(v)) throw new Error(`${what} is not an object`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, item(x, `${what}.${k}`)]));
}

function need(ok: boolean, what: string): void {
  if (!ok) throw new Error(`${what} is not valid`);
}

/** A baseline read from JSON; throws naming what is wrong in it. */
export function parsePipelineSchema(json: unknown): PipelineSchema {
  if (!isObject(json)) throw new Error('not a JSON object');
  if (json.format !== SCHEMA_FORMAT) throw new Error(`format ${JSON.stringify(json.format)} is not ${SCHEMA_FORMAT}`);
  const streams = recordOf(json.streams, 'streams', (s, at) => {
    need(isObject(s) && isStrings(s.identity) && typeof s.partitionKey === 'string' && typeof s.lakeTable === 'string', at);
    const o = s as Record<string, unknown>;
    const fields = recordOf(o.fields, `${at}.fields`, (f, fat) => {
      need(isObject(f) && FIELD_KINDS.includes(f.kind as string) && typeof f.required === 'boolean', fat);
      return f as unknown as FieldSchema;
    });
    return { fields, identity: o.identity as string[], partitionKey: o.partitionKey as string, lakeTable: o.lakeTable as string };
  });
  const aggregations = recordOf(json.aggregations, 'aggregations', (a, at) => {
    need(isObject(a) && typeof a.stream === 'string' && isStrings(a.groupBy) && typeof a.periodSeconds === 'number' && typeof a.lakeTable === 'string', at);
    const o = a as Record<string, unknown>;
    const join = o.join;
    need(join === null || (isObject(join) && typeof join.key === 'string' && isStrings(join.streams)), `${at}.join`);
    const measures = recordOf(o.measures, `${at}.measures`, (m, mat) => {
      need(isObject(m) && MEASURE_KINDS.includes(m.kind as string) && typeof m.stream === 'string' && (m.field === null || typeof m.field === 'string'), mat);
      return m as unknown as MeasureSchema;
    });
    return { stream: o.stream as string, groupBy: o.groupBy as string[], periodSeconds: o.periodSeconds as number, join: join as AggregationSchema['join'], measures, lakeTable: o.lakeTable as string };
  });
  const tables = recordOf(json.tables, 'tables', (t, at) =>
    recordOf(t, at, (c, cat) => {
      need(isObject(c) && LAKE_TYPES.includes(c.type as string) && typeof c.nullable === 'boolean', cat);
      return c as unknown as ColumnSchema;
    }),
  );
  return { format: SCHEMA_FORMAT, streams, aggregations, tables };
}

// ---------------------------------------------------------------------------------------------
// Comparing

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const list = (v: readonly string[]) => `[${v.join(', ')}]`;

/** What to do instead of a breaking change, said once after the list. */
export const EVOLUTION_ADVICE =
  'data written with the old schema would no longer match it. Evolve a schema by adding optional fields (or new measures); for any other change declare a new stream or aggregation under a new name (the old one\'s data stays queryable)';

function streamChanges(name: string, was: StreamSchema, now: StreamSchema): string[] {
  const out: string[] = [];
  const at = `stream ${name}`;
  for (const [field, f] of Object.entries(was.fields)) {
    const n = now.fields[field];
    if (!n) out.push(`${at}: field ${field} removed (make it optional instead)`);
    else if (n.kind !== f.kind) out.push(`${at}: field ${field} changed type from ${f.kind} to ${n.kind}`);
    else if (n.required && !f.required) out.push(`${at}: field ${field} made required (events already written may lack it)`);
  }
  for (const [field, f] of Object.entries(now.fields)) {
    if (!was.fields[field] && f.required) out.push(`${at}: new field ${field} is required (events already written lack it: declare it optional)`);
  }
  if (!same(was.identity, now.identity)) out.push(`${at}: identity changed from ${list(was.identity)} to ${list(now.identity)}`);
  if (was.partitionKey !== now.partitionKey) out.push(`${at}: partition key changed from ${was.partitionKey} to ${now.partitionKey}`);
  if (was.lakeTable !== now.lakeTable) out.push(`${at}: lake table changed from ${was.lakeTable} to ${now.lakeTable}`);
  return out;
}

function aggregationChanges(name: string, was: AggregationSchema, now: AggregationSchema): string[] {
  const out: string[] = [];
  const at = `aggregation ${name}`;
  if (was.stream !== now.stream) out.push(`${at}: stream changed from ${was.stream} to ${now.stream}`);
  if (!same(was.groupBy, now.groupBy)) out.push(`${at}: group changed from ${list(was.groupBy)} to ${list(now.groupBy)}`);
  if (was.periodSeconds !== now.periodSeconds) out.push(`${at}: period changed from ${was.periodSeconds} s to ${now.periodSeconds} s`);
  if (!same(was.join, now.join)) out.push(`${at}: join changed`);
  if (was.lakeTable !== now.lakeTable) out.push(`${at}: lake table changed from ${was.lakeTable} to ${now.lakeTable}`);
  for (const [measure, m] of Object.entries(was.measures)) {
    const n = now.measures[measure];
    if (!n) out.push(`${at}: measure ${measure} removed`);
    else if (!same(m, n)) out.push(`${at}: measure ${measure} changed from ${describe(m)} to ${describe(n)}`);
  }
  return out;
}

const describe = (m: MeasureSchema) => `${m.kind}(${m.field ?? ''}) of ${m.stream}`;

function tableChanges(name: string, was: Record<string, ColumnSchema>, now: Record<string, ColumnSchema>, newColumnsMayBeRequired: boolean): string[] {
  const out: string[] = [];
  for (const [column, c] of Object.entries(was)) {
    const n = now[column];
    if (!n) out.push(`lake table ${name}: column ${column} removed`);
    else if (n.type !== c.type) out.push(`lake table ${name}: column ${column} changed type from ${c.type} to ${n.type}`);
    else if (!n.nullable && c.nullable) out.push(`lake table ${name}: column ${column} made required`);
  }
  if (newColumnsMayBeRequired) return out;
  for (const [column, c] of Object.entries(now)) if (!was[column] && !c.nullable) out.push(`lake table ${name}: new column ${column} is required (files already written lack it)`);
  return out;
}

/**
 * The breaking changes from `baseline` to `current`, each a line naming what changed (no
 * duplicates: a field's change is named once, not again as its column's). Empty when `current` is
 * the baseline or an additive change of it.
 */
export function breakingChanges(baseline: PipelineSchema, current: PipelineSchema): string[] {
  const out: string[] = [];
  for (const [name, s] of Object.entries(current.streams)) if (baseline.streams[name]) out.push(...streamChanges(name, baseline.streams[name], s));
  for (const [name, a] of Object.entries(current.aggregations)) if (baseline.aggregations[name]) out.push(...aggregationChanges(name, baseline.aggregations[name], a));
  // Tables: what the fields and measures above do not already say (events and built tables, retyped measures' columns).
  // A new measure is additive: its column reads null in the revisions written before it.
  const said = new Set(out.map((line) => line.match(/(?:field|measure) (\w+)/)?.[1]).filter((x): x is string => x !== undefined));
  const aggregationTables = new Set(Object.values(current.aggregations).map((a) => a.lakeTable));
  for (const [name, t] of Object.entries(current.tables)) {
    if (!baseline.tables[name]) continue;
    out.push(...tableChanges(name, baseline.tables[name], t, aggregationTables.has(name)).filter((line) => !said.has(line.match(/column (\w+)/)?.[1] ?? '')));
  }
  return out;
}

/** The baseline after `current` is taken: `current`, plus what the baseline has that it no longer declares (its data stays). */
export function evolvedBaseline(baseline: PipelineSchema | undefined, current: PipelineSchema): PipelineSchema {
  if (!baseline) return current;
  return {
    format: SCHEMA_FORMAT,
    streams: { ...baseline.streams, ...current.streams },
    aggregations: { ...baseline.aggregations, ...current.aggregations },
    tables: { ...baseline.tables, ...current.tables },
  };
}

export class SchemaEvolutionError extends Error {
  constructor(readonly where: string, readonly changes: readonly string[]) {
    super(`${where}: the pipeline's schema changed in ways that break the data already written (${changes.join('; ')}): ${EVOLUTION_ADVICE}`);
    this.name = 'SchemaEvolutionError';
  }
}

/**
 * Checks `current` against a baseline (undefined: none yet). Throws SchemaEvolutionError (one
 * line, naming `where` the baseline is) on a breaking change; else returns the baseline to store
 * and whether it differs from the one read (absent, or an additive change).
 */
export function checkEvolution(baseline: PipelineSchema | undefined, current: PipelineSchema, where: string): { next: PipelineSchema; changed: boolean } {
  if (baseline) {
    const changes = breakingChanges(baseline, current);
    if (changes.length > 0) throw new SchemaEvolutionError(where, changes);
  }
  const next = evolvedBaseline(baseline, current);
  return { next, changed: !baseline || !same(baseline, next) };
}
