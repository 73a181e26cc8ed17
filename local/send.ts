/**
 * Sends events to the ingestion API over HTTP, concurrently, in single-event or array requests.
 * Requests answered 429/503 (or failing on the network) are resent after their Retry-After, so a
 * send that resolves delivered every event at least once.
 */
import type { WorkloadEvent } from './workload';

export interface SendOptions {
  /** Events per request: 1 posts single objects, more posts arrays of up to that many of one type. */
  batchSize?: number;
  concurrency?: number;
  /** Give up on a request after this many attempts. */
  maxAttempts?: number;
  /** Pace: at most this many events per second (all workers together). */
  eventsPerSecond?: number;
  /** Sent as x-api-key, for a platform that requires one. */
  apiKey?: string;
  onProgress?: (sent: number) => void;
}

export interface SendResult {
  requests: number;
  retries: number;
  events: number;
}

function requests(events: WorkloadEvent[], batchSize: number): { type: string; body: string; count: number }[] {
  if (batchSize <= 1) return events.map((e) => ({ type: e.type, body: JSON.stringify(e.body), count: 1 }));
  const out: { type: string; body: string; count: number }[] = [];
  let run: WorkloadEvent[] = [];
  const flush = () => {
    if (run.length > 0) out.push({ type: run[0].type, body: JSON.stringify(run.map((e) => e.body)), count: run.length });
    run = [];
  };
  for (const e of events) {
    if (run.length > 0 && (run[0].type !== e.type || run.length >= batchSize)) flush();
    run.push(e);
  }
  flush();
  return out;
}

export async function sendEvents(baseUrl: string, events: WorkloadEvent[], options: SendOptions = {}): Promise<SendResult> {
  const queue = requests(events, options.batchSize ?? 1);
  const maxAttempts = options.maxAttempts ?? 20;
  const result: SendResult = { requests: 0, retries: 0, events: 0 };
  let next = 0;
  let scheduled = 0;
  const started = Date.now();
  const pace = async (count: number) => {
    if (!options.eventsPerSecond) return;
    const due = started + (scheduled / options.eventsPerSecond) * 1000;
    scheduled += count;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  };
  const worker = async () => {
    while (next < queue.length) {
      const req = queue[next++];
      await pace(req.count);
      for (let attempt = 1; ; attempt++) {
        let status = 0;
        let retryAfter = 1;
        let detail = '';
        try {
          const res = await fetch(`${baseUrl}${req.type}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}) }, body: req.body });
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
        await new Promise((r) => setTimeout(r, Math.min(retryAfter * 1000, 200 * attempt)));
      }
      result.events += req.count;
      options.onProgress?.(result.events);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  return result;
}
