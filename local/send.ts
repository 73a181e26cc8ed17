/**
 * Sends events to the ingestion API over HTTP in single-event or array requests, at most
 * `concurrency` requests in flight, each array of one type to its type's route, paced as planned
 * by send-plan.ts (batch size, rate, longest wait in a type's buffer).
 * Requests answered 429/503 (or failing on the network) are resent after their Retry-After, so a
 * send that resolves delivered every event at least once.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { planRequests, requestBody, type OutgoingEvent } from './send-plan';

export interface SendOptions {
  /** Events per request: 1 posts single objects, more posts arrays of up to that many of one type. */
  batchSize?: number;
  /** Most requests in flight at once. */
  concurrency?: number;
  /** Longest an event waits in its type's buffer for a full batch (default DEFAULT_MAX_DELAY_MS). */
  maxDelayMs?: number;
  /** Give up on a request after this many attempts. */
  maxAttempts?: number;
  /** Pace: events released at this many per second, evenly over time (all workers together). */
  eventsPerSecond?: number;
  /** The route (path from the API's root, no leading slash) of each type not posted to its own name. */
  routes?: Readonly<Record<string, string>>;
  /** Sent as x-api-key, for a platform that requires one. */
  apiKey?: string;
  onProgress?: (sent: number) => void;
}

export interface SendResult {
  requests: number;
  retries: number;
  events: number;
}

export async function sendEvents(baseUrl: string, events: readonly OutgoingEvent[], options: SendOptions = {}): Promise<SendResult> {
  const batchSize = options.batchSize ?? 1;
  const queue = planRequests(events, { batchSize, eventsPerSecond: options.eventsPerSecond, maxDelayMs: options.maxDelayMs });
  const maxAttempts = options.maxAttempts ?? 20;
  const result: SendResult = { requests: 0, retries: 0, events: 0 };
  let next = 0;
  const started = performance.now();
  const waitUntilDue = async (dueMs: number) => {
    const wait = started + dueMs - performance.now();
    if (wait > 0) await sleep(wait);
  };
  const worker = async () => {
    while (next < queue.length) {
      const planned = queue[next++];
      await waitUntilDue(planned.dueMs);
      const req = { type: planned.type, body: requestBody(planned, batchSize), count: planned.events.length };
      for (let attempt = 1; ; attempt++) {
        let status = 0;
        let retryAfter = 1;
        let detail = '';
        try {
          const res = await fetch(`${baseUrl}${options.routes?.[req.type] ?? req.type}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}) }, body: req.body });
          status = res.status;
          retryAfter = Number(res.headers.get('retry-after') ?? 1);
          detail = await res.text();
        } catch (err) {
          detail = (err as Error).message;
        }
        result.requests++;
        if (status === 200) break;
        if (status >= 400 && status < 500 && status !== 429) throw new Error(`POST /${req.type} answered ${status}: ${detail}`);
        if (attempt >= maxAttempts) throw new Error(`POST /${req.type} failed ${attempt} times; last: ${status || 'network error'} ${detail}`);
        result.retries++;
        await sleep(Math.min(retryAfter * 1000, 200 * attempt));
      }
      result.events += req.count;
      options.onProgress?.(result.events);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  return result;
}
