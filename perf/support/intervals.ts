/**
 * Request outcomes over intervals of a load run: record() each response (its status, 0 for a
 * network error, and its latency), take() closes the interval and summarises it. The summary is
 * pure (summarise), so a table of intervals can be built and tested without a clock.
 */
import { percentile } from './stats';

export interface Outcome {
  status: number;
  ms: number;
  /** For status 0: why there was no answer (a socket error code, 'timeout'). */
  error?: string;
}

export interface IntervalSummary {
  seconds: number;
  requests: number;
  /** 2xx: the event is on the stream. */
  accepted: number;
  /** 429 and 503 with Retry-After: backpressure; the client resends. */
  rejected: number;
  /** Other 5xx, and network errors (no answer). */
  errors: number;
  /** The errors by kind: the status, or the network error's code. */
  errorKinds: Record<string, number>;
  /** Other 4xx: the request itself was wrong (a bug of the generator or the API). */
  clientErrors: number;
  /** Accepted requests per second. */
  acceptedPerSecond: number;
  /** Latency percentiles of the accepted requests, ms (NaN when none). */
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export const isRejected = (status: number) => status === 429 || status === 503;
export const isError = (status: number) => status === 0 || (status >= 500 && status !== 503);

/** Summarises the outcomes of an interval of `seconds`. Pure. */
export function summarise(outcomes: readonly Outcome[], seconds: number): IntervalSummary {
  const latencies: number[] = [];
  let rejected = 0;
  let errors = 0;
  let clientErrors = 0;
  const errorKinds: Record<string, number> = {};
  for (const o of outcomes) {
    if (o.status >= 200 && o.status < 300) latencies.push(o.ms);
    else if (isRejected(o.status)) rejected++;
    else if (isError(o.status)) {
      errors++;
      const kind = o.status === 0 ? (o.error ?? 'no answer') : String(o.status);
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    } else clientErrors++;
  }
  latencies.sort((a, b) => a - b);
  return {
    seconds,
    requests: outcomes.length,
    accepted: latencies.length,
    rejected,
    errors,
    errorKinds,
    clientErrors,
    acceptedPerSecond: seconds > 0 ? latencies.length / seconds : Number.NaN,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length ? latencies[latencies.length - 1] : Number.NaN,
  };
}

/** Collects outcomes as they happen; take() returns the interval since the previous take(). */
export class Recorder {
  private outcomes: Outcome[] = [];
  private since = performance.now();
  /** Every outcome since the recorder was made, for whole-run figures. */
  readonly all: Outcome[] = [];

  record(status: number, ms: number, error?: string): void {
    const o = error === undefined ? { status, ms } : { status, ms, error };
    this.outcomes.push(o);
    this.all.push(o);
  }

  take(): IntervalSummary {
    const now = performance.now();
    const summary = summarise(this.outcomes, (now - this.since) / 1000);
    this.outcomes = [];
    this.since = now;
    return summary;
  }
}
