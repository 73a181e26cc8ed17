/**
 * Turns an ingestion request body into stream records of a declared stream (schemas/pipeline.ts),
 * or into the 4xx answer that names every bad field. Each record is the client's fields as the
 * stream's schema validated them, plus `type` (the stream's name), `received_at` and `event_time`
 * (schemas/stream-record.ts). Pure: no I/O, the receive time is passed in.
 */
import type { z } from 'zod';
import type { StreamSpec } from '../../schemas/pipeline';
import { streamOf } from '../../schemas/pipeline';
import { activePipeline } from '../../schemas/active-pipeline';
import type { StreamRecord } from '../../schemas/stream-record';
import { resolveEventTime, type EventTimePolicy } from './event-time';
import { decodeJsonBody, type RawBody } from '../commons/body';
import type { FieldIssue } from '../commons/http';

export { MAX_BODY_BYTES } from '../commons/body';
export const MAX_EVENTS_PER_REQUEST = 500;

export type ParseResult<E = StreamRecord> =
  | { ok: true; events: E[] }
  | { ok: false; statusCode: 400 | 413 | 415; message: string; issues?: FieldIssue[] };

export type RawRequest = RawBody;

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'is required';
  return issue.message;
}

/** The client's event time field, as the stream's schema parsed it. */
function clientTime(stream: StreamSpec, data: Record<string, unknown>): string | number | undefined {
  if (stream.eventTime === undefined) return undefined;
  const value = data[stream.eventTime];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/** `stream` is a declared stream, or the name of one of the active pipeline's streams. */
export function parseIngestRequest(
  streamOrName: StreamSpec | string,
  request: RawRequest,
  receivedAt: number,
  policy: EventTimePolicy,
): ParseResult {
  const stream = typeof streamOrName === 'string' ? streamOf(activePipeline(), streamOrName) : streamOrName;
  const type = stream.name;
  const decoded = decodeJsonBody(request);
  if (!decoded.ok) return decoded;
  const body = decoded.value;
  const isArray = Array.isArray(body);
  const items: unknown[] = isArray ? (body as unknown[]) : [body];
  if (items.length === 0) return { ok: false, statusCode: 400, message: 'body is an empty array: send at least one event' };
  if (items.length > MAX_EVENTS_PER_REQUEST) {
    return { ok: false, statusCode: 400, message: `body has ${items.length} events; at most ${MAX_EVENTS_PER_REQUEST} per request` };
  }

  const events: StreamRecord[] = [];
  const issues: FieldIssue[] = [];
  items.forEach((item, i) => {
    const index = isArray ? i : undefined;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      issues.push({ index, field: '', message: `each ${type} event must be a JSON object` });
      return;
    }
    const parsed = stream.schema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push({ index, field: issue.path.join('.'), message: describe(issue) });
      return;
    }
    const data = parsed.data as Record<string, unknown>;
    const event_time = resolveEventTime(clientTime(stream, data), receivedAt, policy);
    events.push({ ...data, type, received_at: receivedAt, event_time });
  });
  if (issues.length > 0) {
    return { ok: false, statusCode: 400, message: `invalid ${type} event${isArray ? 's' : ''}`, issues };
  }
  return { ok: true, events };
}
