/**
 * The local platform's serving measurements over a sliding window (schemas/serving.ts says what each
 * figure means): per second of wall time, the calls, their outcomes and a latency histogram, so
 * the last minutes' figures cost the same at 10 or 10,000 calls a second. Latencies are kept in
 * buckets 2 % wide (log scale from 1 µs), so a percentile is exact to within 2 %, as CloudWatch's
 * own percentiles are approximations too.
 */
import { SERVING_WINDOW_SECONDS, servingWindow, type LatencyFigures, type ServingFigures } from '../schemas/serving';

/** How a call ended, as the endpoint's metrics tell them apart. */
export type CallOutcome = 'ok' | 'badInput' | 'modelFailure';

const MIN_MS = 0.001;
const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);

/** The histogram bucket of a latency: its upper bound is MIN_MS × GAMMA^bucket. */
export const bucketOf = (ms: number): number => (ms <= MIN_MS ? 0 : Math.ceil(Math.log(ms / MIN_MS) / LOG_GAMMA));
/** A bucket's upper bound, in ms: never below the latencies in it, at most 2 % above. */
export const bucketValue = (bucket: number): number => MIN_MS * GAMMA ** bucket;

/** The p-th percentile (nearest rank) of a histogram (bucket → count), or null when it is empty. */
export function histogramPercentile(histogram: ReadonlyMap<number, number>, p: number): number | null {
  let total = 0;
  for (const n of histogram.values()) total += n;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket)!;
    if (seen >= rank) return bucketValue(bucket);
  }
  return null;
}

interface Second {
  second: number;
  calls: number;
  badInput: number;
  modelFailures: number;
  histogram: Map<number, number>;
}

/** Calls, outcomes and latency percentiles of a window. */
export interface WindowFigures {
  calls: number;
  badInput: number;
  modelFailures: number;
  latencyMs: LatencyFigures;
}

const round3 = (ms: number | null) => (ms === null ? null : Math.round(ms * 1000) / 1000);

export class ServingWindow {
  /** One slot per second, reused round-robin. */
  private readonly slots: (Second | undefined)[];

  constructor(private readonly maxSeconds = SERVING_WINDOW_SECONDS) {
    this.slots = new Array(maxSeconds);
  }

  record(latencyMs: number, outcome: CallOutcome = 'ok', at = Date.now()): void {
    const second = Math.floor(at / 1000);
    const index = second % this.maxSeconds;
    let slot = this.slots[index];
    if (!slot || slot.second !== second) {
      // A call older than the slot's second (a clock step back) would reset a newer second: dropped.
      if (slot && slot.second > second) return;
      slot = this.slots[index] = { second, calls: 0, badInput: 0, modelFailures: 0, histogram: new Map() };
    }
    slot.calls++;
    if (outcome === 'badInput') slot.badInput++;
    if (outcome === 'modelFailure') slot.modelFailures++;
    const bucket = bucketOf(latencyMs);
    slot.histogram.set(bucket, (slot.histogram.get(bucket) ?? 0) + 1);
  }

  /** The figures of the last `seconds` seconds up to `at`, the current second included. */
  figures(seconds = this.maxSeconds, at = Date.now()): WindowFigures {
    if (seconds > this.maxSeconds) throw new Error(`this window keeps ${this.maxSeconds} s, not ${seconds}`);
    const last = Math.floor(at / 1000);
    const merged = new Map<number, number>();
    const out = { calls: 0, badInput: 0, modelFailures: 0 };
    for (const slot of this.slots) {
      if (!slot || slot.second > last || slot.second <= last - seconds) continue;
      out.calls += slot.calls;
      out.badInput += slot.badInput;
      out.modelFailures += slot.modelFailures;
      for (const [bucket, n] of slot.histogram) merged.set(bucket, (merged.get(bucket) ?? 0) + n);
    }
    return { ...out, latencyMs: { p50: round3(histogramPercentile(merged, 50)), p99: round3(histogramPercentile(merged, 99)) } };
  }
}

/** The serving figures from the model's window (endpoint invocations) and the predict function's. */
export function localServingFigures(model: ServingWindow, predict: ServingWindow, at = Date.now(), seconds = SERVING_WINDOW_SECONDS): ServingFigures {
  const m = model.figures(seconds, at);
  const p = predict.figures(seconds, at);
  return {
    source: 'local',
    window: servingWindow(at, seconds),
    requests: m.calls,
    requestsPerSecond: Math.round((m.calls / seconds) * 1000) / 1000,
    errors: { badInput: m.badInput, modelFailures: m.modelFailures },
    modelLatencyMs: m.latencyMs,
    predict: { calls: p.calls, latencyMs: p.latencyMs },
  };
}
