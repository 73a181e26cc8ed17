/**
 * Generated traffic for any declared pipeline, from each stream's zod schema: valid values within
 * the field limits (strings, integers, numbers, booleans, times; optional fields sometimes
 * absent), each event's identity unique and some events resent as duplicates, joined streams'
 * events sharing their key with a root event (sometimes arriving before it), group values drawn
 * from a small set so that each row gets several events. Deterministic for a seed. Its ground
 * truth is local/ground-truth.ts's, on the events as received.
 */
import { z } from 'zod';
import type { FieldInfo, Pipeline, StreamSpec } from '../schemas/pipeline';
import { random } from '../lambdas/commons/random';

export interface TrafficEvent {
  /** The stream's name. */
  type: string;
  body: Record<string, unknown>;
}

export interface TrafficOptions {
  /** Distinct events of each stream that is not joined to another (roots, lake-only streams). */
  events: number;
  /** Distinct values of each group field. */
  groups?: number;
  /** Share of events sent a second time. */
  resendRate?: number;
  /** Share of root events that each stream joined to it has an event for. */
  joinRate?: number;
  /** Share of root events whose joined events are sent before it. */
  reorderRate?: number;
  /** Share of events carrying each optional field (the event-time field is always sent). */
  optionalRate?: number;
  /** Event times are spread over this many ms before `now`. */
  timeSpreadMs?: number;
  /**
   * Send the events in a random order (default: each unit of a root and its joined events in
   * turn, a resend right after its copy): resends then arrive anywhere, before their first copy
   * too, as batches retried far apart. The ground truth is the same: copies are alike.
   */
  shuffle?: boolean;
  now?: number;
  seed?: number;
}

export interface Traffic {
  /** In send order, resends included. */
  events: TrafficEvent[];
  /** Distinct events per stream. */
  distinct: Record<string, number>;
}

type Rnd = () => number;

/** A field's schema without its optional/nullable/default wrappers. */
function innerSchema(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) s = (s as z.ZodOptional<z.ZodType>).unwrap();
  return s;
}

/** A finite window of a numeric schema's values: 1,000 wide from 0, or from its bound nearest 0. */
export function numericRange(schema: z.ZodType): { lo: number; hi: number; integer: boolean } {
  const n = innerSchema(schema) as z.ZodNumber;
  const min = n.minValue ?? -Infinity;
  const max = n.maxValue ?? Infinity;
  // Near 0 when the bounds allow it: sums of small values stay exact.
  const lo = Math.min(Math.max(0, min), max);
  return { lo, hi: Math.min(max, lo + 1000), integer: n.isInt === true };
}

/** The length bounds of a string schema. */
export function stringRange(schema: z.ZodType): { min: number; max: number } {
  const s = innerSchema(schema) as z.ZodString;
  return { min: s.minLength ?? 0, max: s.maxLength ?? Infinity };
}

/** A string made valid for a string schema of a known format, else `text` padded or cut to its length bounds. */
function fitString(schema: z.ZodType, text: string, n: number): string {
  const format = (innerSchema(schema) as z.ZodString).format;
  if (format === 'email') return `u${n}@example.com`;
  if (format === 'url') return `https://example.com/${n}`;
  if (format === 'uuid' || format === 'guid') return `00000000-0000-4000-8000-${String(n).padStart(12, '0').slice(-12)}`;
  if (format === 'datetime') return new Date(1_700_000_000_000 + n * 1000).toISOString();
  const { min, max } = stringRange(schema);
  const padded = text.length < min ? text + 'x'.repeat(min - text.length) : text;
  return padded.slice(0, Math.max(min, Math.min(max, padded.length)));
}

/** The `k`th of a small set of values of a group field (k from 0). */
function groupValue(stream: StreamSpec, field: FieldInfo, k: number): unknown {
  const schema = stream.schema.shape[field.name] as z.ZodType;
  if (field.kind === 'boolean') return k % 2 === 0;
  if (field.kind === 'integer' || field.kind === 'number') {
    const { lo, hi } = numericRange(schema);
    return Math.min(hi, Math.ceil(lo) + k);
  }
  return fitString(schema, `${field.name}-${k}`, k);
}

/** A random valid value of a field that is neither a key nor a group field. */
function freeValue(stream: StreamSpec, field: FieldInfo, rnd: Rnd, eventTime: number): unknown {
  const schema = stream.schema.shape[field.name] as z.ZodType;
  switch (field.kind) {
    case 'boolean':
      return rnd() < 0.5;
    case 'time':
      return eventTime;
    case 'integer': {
      const { lo, hi } = numericRange(schema);
      return Math.ceil(lo) + Math.floor(rnd() * (Math.floor(hi) - Math.ceil(lo) + 1));
    }
    case 'number': {
      // Multiples of 1/4: exact in binary, so sums are the same in any order.
      const { lo, hi } = numericRange(schema);
      return Math.min(hi, Math.ceil(lo * 4) / 4 + Math.floor(rnd() * (hi - lo) * 4) / 4);
    }
    default:
      return fitString(schema, `${field.name}${Math.floor(rnd() * 50)}`, Math.floor(rnd() * 50));
  }
}

/** The fields a stream's events must share with other events: its group fields, and its join keys. */
interface StreamPlan {
  stream: StreamSpec;
  /** Group fields (of an aggregation rooted here) drawn from a small set. */
  groupFields: Set<string>;
  /** Root and join key of the aggregation that joins this stream to a root, when one does. */
  joinedTo?: { root: string; key: string };
}

function plans(pipeline: Pipeline): StreamPlan[] {
  return pipeline.streams.map((stream) => {
    const groupFields = new Set(pipeline.aggregations.filter((a) => a.stream === stream.name).flatMap((a) => a.groupBy.map((g) => g.name)));
    const joining = pipeline.aggregations.find((a) => a.join?.streams.includes(stream.name));
    // An identity made of group fields alone could not be unique over a small set: those stay unique.
    if (stream.identity.every((f) => groupFields.has(f))) for (const f of stream.identity) groupFields.delete(f);
    return { stream, groupFields, ...(joining && { joinedTo: { root: joining.stream, key: joining.join!.key } }) };
  });
}

/** One valid event of a stream: `n` makes its identity unique, `shared` gives fields it must hold. */
function makeEvent(plan: StreamPlan, n: number, runId: string, rnd: Rnd, eventTime: number, groups: number, optionalRate: number, shared: Record<string, unknown>): Record<string, unknown> {
  const { stream } = plan;
  const body: Record<string, unknown> = {};
  for (const field of stream.fields) {
    if (field.name in shared) body[field.name] = shared[field.name];
    else if (field.name === stream.eventTime) body[field.name] = eventTime;
    else if (!field.required && rnd() >= optionalRate) continue;
    else if (plan.groupFields.has(field.name)) body[field.name] = groupValue(stream, field, Math.floor(rnd() * groups));
    else if (stream.identity.includes(field.name)) {
      const schema = stream.schema.shape[field.name] as z.ZodType;
      body[field.name] = field.kind === 'integer' ? Math.ceil(numericRange(schema).lo) + n : fitString(schema, `${runId}-${n}`, n);
    } else body[field.name] = freeValue(stream, field, rnd, eventTime);
  }
  const parsed = stream.schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`cannot generate a valid ${stream.name} event: field ${issue.path.join('.')} ${issue.message} (value ${JSON.stringify(body[String(issue.path[0])])})`);
  }
  return body;
}

export function generateTraffic(pipeline: Pipeline, options: TrafficOptions): Traffic {
  const rnd = random(options.seed ?? 1);
  const groups = options.groups ?? 5;
  const resendRate = options.resendRate ?? 0.05;
  const joinRate = options.joinRate ?? 0.5;
  const reorderRate = options.reorderRate ?? 0.1;
  const optionalRate = options.optionalRate ?? 0.7;
  const spread = options.timeSpreadMs ?? 60_000;
  const now = options.now ?? Date.now();
  const runId = Math.floor(rnd() * 2 ** 32).toString(36);
  const all = plans(pipeline);
  const distinct: Record<string, number> = Object.fromEntries(pipeline.streams.map((s) => [s.name, 0]));
  const events: TrafficEvent[] = [];
  let n = 0;
  for (const plan of all.filter((p) => !p.joinedTo)) {
    const joined = all.filter((p) => p.joinedTo?.root === plan.stream.name);
    for (let i = 0; i < options.events; i++) {
      const t = Math.floor(now - rnd() * spread);
      const root = makeEvent(plan, n++, runId, rnd, t, groups, optionalRate, {});
      const unit: TrafficEvent[] = [{ type: plan.stream.name, body: root }];
      joined.forEach((j, k) => {
        if (rnd() >= joinRate) return;
        const key = j.joinedTo!.key;
        unit.push({ type: j.stream.name, body: makeEvent(j, n++, runId, rnd, t + 50 * (k + 1), groups, optionalRate, { [key]: root[key] }) });
      });
      if (rnd() < reorderRate) unit.reverse();
      for (const e of unit) {
        distinct[e.type]++;
        events.push(e);
        if (rnd() < resendRate) events.push({ type: e.type, body: { ...e.body } });
      }
    }
  }
  if (options.shuffle) {
    for (let i = events.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [events[i], events[j]] = [events[j], events[i]];
    }
  }
  return { events, distinct };
}

/** One valid event of each stream, every optional field present, joined ones sharing their root's key: bases for tests to mutate. */
export function sampleEvents(pipeline: Pipeline, seed = 1): Record<string, Record<string, unknown>> {
  const { events } = generateTraffic(pipeline, { events: 1, joinRate: 1, resendRate: 0, reorderRate: 0, optionalRate: 1, seed });
  return Object.fromEntries(events.map((e) => [e.type, e.body]));
}
