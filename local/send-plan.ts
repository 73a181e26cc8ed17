/**
 * How a sender cuts events into requests and when it sends each one (pure: no I/O, no clock).
 *
 * Events are released at a steady pace (`eventsPerSecond`; all at once when unset) and go into one
 * buffer per type, since each type has its own route. A buffer becomes a request when it holds
 * `batchSize` events, or when its oldest event has waited `maxDelayMs` (so a rare type is not
 * held back while the others fill), or at the end. Each request carries the time,
 * in ms from the start, at which it is due: the sender never sends it earlier, which paces the
 * events over time instead of in bursts.
 */
/** An event to send: its stream's name (whose route it is posted to) and its body. */
export interface OutgoingEvent {
  type: string;
  body: Record<string, unknown>;
}

export interface PlanOptions {
  /** Events per request (1: single events, posted as objects rather than arrays). */
  batchSize: number;
  /** Events released per second; unset or 0: every event at once. */
  eventsPerSecond?: number;
  /** Longest an event waits in its type's buffer for the buffer to fill. */
  maxDelayMs?: number;
}

export interface PlannedRequest<E extends OutgoingEvent = OutgoingEvent> {
  type: string;
  events: E[];
  /** Ms from the start before which the request is not sent. */
  dueMs: number;
}

export const DEFAULT_MAX_DELAY_MS = 100;

export function planRequests<E extends OutgoingEvent>(events: readonly E[], options: PlanOptions): PlannedRequest<E>[] {
  const batchSize = Math.max(1, Math.floor(options.batchSize));
  const rate = options.eventsPerSecond && options.eventsPerSecond > 0 ? options.eventsPerSecond : 0;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const releaseMs = (i: number) => (rate ? (i * 1000) / rate : 0);
  const buffers = new Map<string, { events: E[]; firstMs: number }>();
  const out: PlannedRequest<E>[] = [];
  const flush = (type: string, dueMs: number) => {
    const buffer = buffers.get(type);
    if (!buffer || buffer.events.length === 0) return;
    out.push({ type, events: buffer.events, dueMs });
    buffers.delete(type);
  };
  for (let i = 0; i < events.length; i++) {
    const now = releaseMs(i);
    // Buffers whose oldest event has waited long enough go first, oldest first.
    const expired = [...buffers].filter(([, b]) => b.firstMs + maxDelayMs <= now).sort((a, b) => a[1].firstMs - b[1].firstMs);
    for (const [type, b] of expired) flush(type, b.firstMs + maxDelayMs);
    const e = events[i];
    const buffer = buffers.get(e.type) ?? { events: [], firstMs: now };
    buffer.events.push(e);
    buffers.set(e.type, buffer);
    if (buffer.events.length >= batchSize) flush(e.type, now);
  }
  const end = releaseMs(Math.max(0, events.length - 1));
  for (const [type, b] of [...buffers].sort((a, b) => a[1].firstMs - b[1].firstMs)) flush(type, Math.min(end, b.firstMs + maxDelayMs));
  return out;
}

/** A planned request's body: the event itself for batch size 1, else an array of the events. */
export function requestBody(request: PlannedRequest, batchSize: number): string {
  return batchSize <= 1 && request.events.length === 1 ? JSON.stringify(request.events[0].body) : JSON.stringify(request.events.map((e) => e.body));
}
