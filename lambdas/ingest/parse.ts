/**
 * Turns an ingestion request body into stream events, or into the 4xx answer that names every bad
 * field. Pure: no I/O, the receive time is passed in.
 */
import type { z } from 'zod';
import { clientEventSchemas, type EventType, type StreamEvent } from '../../schemas/events';
import { resolveEventTime, type EventTimePolicy } from './event-time';
import { decodeJsonBody, type RawBody } from '../commons/body';
import type { FieldIssue } from '../commons/http';

export { MAX_BODY_BYTES } from '../commons/body';
export const MAX_EVENTS_PER_REQUEST = 500;

export type ParseResult =
  | { ok: true; events: StreamEvent[] }
  | { ok: false; statusCode: 400 | 413 | 415; message: string; issues?: FieldIssue[] };

export type RawRequest = RawBody;

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'is required';
  return issue.message;
}

export function parseIngestRequest(
  type: EventType,
  request: RawRequest,
  receivedAt: number,
  policy: EventTimePolicy,
): ParseResult {
  const decoded = decodeJsonBody(request);
  if (!decoded.ok) return decoded;
  const body = decoded.value;
  const isArray = Array.isArray(body);
  const items: unknown[] = isArray ? (body as unknown[]) : [body];
  if (items.length === 0) return { ok: false, statusCode: 400, message: 'body is an empty array: send at least one event' };
  if (items.length > MAX_EVENTS_PER_REQUEST) {
    return { ok: false, statusCode: 400, message: `body has ${items.length} events; at most ${MAX_EVENTS_PER_REQUEST} per request` };
  }

  const schema = clientEventSchemas[type];
  const events: StreamEvent[] = [];
  const issues: FieldIssue[] = [];
  items.forEach((item, i) => {
    const index = isArray ? i : undefined;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      issues.push({ index, field: '', message: `each ${type} event must be a JSON object` });
      return;
    }
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push({ index, field: issue.path.join('.'), message: describe(issue) });
      return;
    }
    const event_time = resolveEventTime(parsed.data.timestamp, receivedAt, policy);
    events.push({ ...parsed.data, type, received_at: receivedAt, event_time } as StreamEvent);
  });
  if (issues.length > 0) {
    return { ok: false, statusCode: 400, message: `invalid ${type} event${isArray ? 's' : ''}`, issues };
  }
  return { ok: true, events };
}
