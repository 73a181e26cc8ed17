/**
 * The record the ingestion API puts on the events stream for a declared stream's event, and what
 * its consumers decode: the client's fields as validated, plus `type` (the stream's name),
 * `received_at` and `event_time` (epoch ms). Identity keys are derived here once, so the
 * aggregator's state and the lake writer's memory of what it wrote agree on what "the same event" is.
 */
import { z } from 'zod';
import type { Pipeline, StreamSpec } from './pipeline';

export interface StreamRecord {
  /** The declared stream's name, from the route the event was posted to. */
  type: string;
  /** When the API received the event, epoch milliseconds. */
  received_at: number;
  /** When the event happened, epoch ms: the client's time if plausible, else received_at. */
  event_time: number;
  [field: string]: unknown;
}

const recordSchemas = new WeakMap<StreamSpec, z.ZodType>();

/** The zod schema of a stream's records (its client schema with the server's fields). */
export function recordSchema(stream: StreamSpec): z.ZodType {
  let schema = recordSchemas.get(stream);
  if (!schema) recordSchemas.set(stream, (schema = stream.schema.extend({ type: z.literal(stream.name), received_at: z.number(), event_time: z.number() })));
  return schema;
}

/** A decoded stream record of one of the pipeline's streams; throws, naming the problem, on anything else. */
export function decodeStreamRecord(pipeline: Pipeline, json: unknown): { stream: StreamSpec; record: StreamRecord } {
  const type = (json as { type?: unknown } | null)?.type;
  const stream = pipeline.streams.find((s) => s.name === type);
  if (!stream) throw new Error(`stream record of type ${JSON.stringify(type)}: not a stream of pipeline ${pipeline.name} (${pipeline.streams.map((s) => s.name).join(', ')})`);
  return { stream, record: recordSchema(stream).parse(json) as StreamRecord };
}

/** The values of `fields` on a record, in order, as one string key (JSON: unambiguous whatever the values hold). */
export function keyOf(record: Readonly<Record<string, unknown>>, fields: readonly string[]): string {
  return JSON.stringify(fields.map((f) => record[f]));
}

/** An event's identity within its stream: the values of its identity fields. */
export function identityKey(stream: StreamSpec, record: Readonly<Record<string, unknown>>): string {
  return keyOf(record, stream.identity);
}

/** The Kinesis partition key of an event: its partition key field's value, as text. */
export function partitionKeyOf(stream: StreamSpec, record: Readonly<Record<string, unknown>>): string {
  return String(record[stream.partitionKey]);
}
