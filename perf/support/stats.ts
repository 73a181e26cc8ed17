/** Small statistics helpers for the benchmarks: percentiles over samples, medians, formatting, machine load. */
import { readFileSync } from 'node:fs';

/** The p-th percentile (0..100) of the samples, nearest-rank; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rounds to a few significant digits for printing and for the JSON line. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const scale = 10 ** Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}

/** Collects per-second counts: add() as things happen, tick() once a second. */
export class PerSecond {
  private current = 0;
  readonly samples: number[] = [];
  private timer?: NodeJS.Timeout;

  add(n = 1): void {
    this.current += n;
  }

  start(): void {
    this.current = 0;
    this.timer = setInterval(() => {
      this.samples.push(this.current);
      this.current = 0;
    }, 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Busy and total CPU time of the whole machine so far (from /proc/stat), in seconds; undefined off Linux. */
export function machineCpu(): { busy: number; at: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: (user + nice + system + irq + softirq + steal) / 100, at: Date.now() };
  } catch {
    return undefined;
  }
}

/** Cores the whole machine kept busy between two machineCpu() readings. */
export function machineCores(a: ReturnType<typeof machineCpu>, b: ReturnType<typeof machineCpu>): number {
  if (!a || !b || b.at === a.at) return Number.NaN;
  return (b.busy - a.busy) / ((b.at - a.at) / 1000);
}
