/**
 * Load helpers shared by the benchmarks: valid bid bodies with unique tx_ids, an autocannon run
 * that counts accepted (2xx) responses per second, and waiting for the aggregator to catch up.
 */
import autocannon from 'autocannon';
import { PerSecond, median, sleep } from './stats';

let counter = 0;
const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** A valid client bid with a fresh tx_id, as an object. */
export function bid(campaign = 1 + (counter % 10)): Record<string, unknown> {
  const n = ++counter;
  return {
    tx_id: `b-${runId}-${n}`,
    app_uid: `u${n % 100_000}`,
    campaign_item_id: campaign,
    domain: `site${n % 50}.example`,
    creative_id: `cr${n % 20}`,
    creative_category: `cat${n % 8}`,
    win_price: 10 + (n % 190),
  };
}

/** What the ingestion API puts on the stream for a bid (the client bid, stamped). */
export function stampedBid(): Buffer {
  const now = Date.now();
  return Buffer.from(JSON.stringify({ ...bid(), type: 'bid', received_at: now, event_time: now }));
}

export interface CannonResult {
  /** Accepted (2xx) responses per second, one sample per second of the run. */
  samples: number[];
  /** Median of the per-second samples. */
  medianPerSecond: number;
  accepted: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  seconds: number;
}

/** Runs autocannon against POST `path` with a fresh body per request (bodyFor). */
export async function cannon(options: { url: string; path: string; connections: number; seconds: number; bodyFor: () => string }): Promise<CannonResult> {
  const perSecond = new PerSecond();
  let finished!: (result: autocannon.Result) => void;
  let failed!: (err: Error) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections,
      duration: options.seconds,
      requests: [
        {
          method: 'POST',
          path: options.path,
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => ({ ...req, body: options.bodyFor() }),
        },
      ],
    },
    (err, result) => (err ? failed(err) : finished(result)),
  );
  instance.on('response', (_client, statusCode) => {
    if (statusCode >= 200 && statusCode < 300) perSecond.add();
  });
  perSecond.start();
  const result = await done;
  perSecond.stop();
  const statusCodes: Record<string, number> = {};
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [code, { count }] of Object.entries(stats)) statusCodes[code] = count;
  return {
    samples: perSecond.samples,
    medianPerSecond: median(perSecond.samples),
    accepted: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    latencyMax: result.latency.max,
    seconds: result.duration,
  };
}

interface Health {
  components?: Record<string, { shards?: { millisBehindLatest?: number; checkpoint?: string; pending?: number }[] }>;
}

/** How far the aggregator is behind now: its slowest shard's lag behind the stream's tip, and records read but not yet processed. */
export async function aggregatorLag(apiUrl: string): Promise<{ millisBehind: number; pending: number }> {
  const health = (await (await fetch(`${apiUrl}health`)).json()) as Health;
  const shards = health.components?.aggregator?.shards ?? [];
  return { millisBehind: Math.max(0, ...shards.map((s) => s.millisBehindLatest ?? 0)), pending: shards.reduce((n, s) => n + (s.pending ?? 0), 0) };
}

/**
 * Waits until the aggregator has read to the tip of every shard and its checkpoints stop moving:
 * the backlog a load phase left is processed. Resolves with the time it took, or undefined if it
 * did not catch up within the timeout.
 */
export function waitForAggregator(apiUrl: string, timeoutMs = 60_000): Promise<number | undefined> {
  return waitForConsumer(apiUrl, 'aggregator', timeoutMs);
}

/** The same for any of the platform's stream consumers, by its function name (e.g. `lake-writer-events`). */
export async function waitForConsumer(apiUrl: string, consumer: string, timeoutMs = 60_000): Promise<number | undefined> {
  const started = Date.now();
  let previous = '';
  let stableReads = 0;
  while (Date.now() - started < timeoutMs) {
    try {
      const health = (await (await fetch(`${apiUrl}health`)).json()) as Health;
      const shards = health.components?.[consumer]?.shards ?? [];
      const caughtUp = shards.length > 0 && shards.every((s) => s.millisBehindLatest === 0);
      const checkpoints = JSON.stringify(shards.map((s) => s.checkpoint));
      stableReads = caughtUp && checkpoints === previous ? stableReads + 1 : 0;
      previous = checkpoints;
      if (stableReads >= 2) return Date.now() - started;
    } catch {
      // the platform is busy; ask again
    }
    await sleep(500);
  }
  return undefined;
}
