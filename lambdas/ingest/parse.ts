/**
 * Turns an ingestion request body into stream events, or into the 4xx answer that names every bad
 * field. Pure: no I/O, the receive time is passed in.
 */
import type { z } from 'zod';
import { clientEventSchemas, type EventType, type StreamEvent } from '../../schemas/events';
import { resolveEventTime, type EventTimePolicy } from './event-time';
import type { FieldIssue } from '../commons/http';

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_EVENTS_PER_REQUEST = 500;

export type ParseResult =
  | { ok: true; events: StreamEvent[] }
  | { ok: false; statusCode: 400 | 413 | 415; message: string; issues?: FieldIssue[] };

export interface RawRequest {
  body: string | null;
  isBase64Encoded: boolean;
  contentType: string | undefined;
}

function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === '') return true;
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(mediaType);
}

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
  if (!isJsonContentType(request.contentType)) {
    return { ok: false, statusCode: 415, message: `content-type must be application/json (curl: -H "content-type: application/json"), got "${request.contentType}"` };
  }
  const raw = request.body ?? '';
  const text = request.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    return { ok: false, statusCode: 413, message: `body exceeds ${MAX_BODY_BYTES} bytes` };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return { ok: false, statusCode: 400, message: `body is not valid JSON: ${(err as Error).message}` };
  }
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
