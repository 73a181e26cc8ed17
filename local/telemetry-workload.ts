/**
 * Generated device telemetry (pipelines/telemetry.ts, stream `reading`) with its ground truth, for
 * tests: readings of devices' metrics, some resent (same device and event id, so the same reading),
 * in a shuffled order; the truth is the `devices` aggregation's rows per (device, metric, window):
 * readings, total, minimum and maximum. Values are multiples of 0.5, so every sum is exact in
 * binary and decimal arithmetic alike, whatever order it is added in. Deterministic for a seed.
 */
import { random } from '../lambdas/commons/random';
import { groupKey } from '../schemas/aggregates';

export interface TelemetryOptions {
  readings: number;
  devices?: number;
  metrics?: readonly string[];
  /** Device ids are `${devicePrefix}-<n>`, so workloads of one test do not share rows. */
  devicePrefix?: string;
  /** Share of readings sent a second time. */
  resendRate?: number;
  /** Event times are spread over this many ms before `now`. */
  timeSpreadMs?: number;
  now?: number;
  periodSeconds?: number;
  seed?: number;
}

export interface TelemetryRow {
  device_id: string;
  metric: string;
  period: number;
  readings: number;
  total: number;
  minimum: number;
  maximum: number;
}

export interface TelemetryWorkload {
  /** Reading bodies in send order, resends included (`timestamp` in epoch ms). */
  readings: Record<string, unknown>[];
  /** Per row, keyed `${groupKey}#${period}`: what the aggregates must hold. */
  truth: Map<string, TelemetryRow>;
  /** Distinct readings. */
  distinct: number;
}

export function telemetryRowKey(device: string, metric: string, period: number): string {
  return `${groupKey('devices', [device, metric])}#${period}`;
}

export function generateTelemetry(options: TelemetryOptions): TelemetryWorkload {
  const rnd = random(options.seed ?? 1);
  const devices = options.devices ?? 20;
  const metrics = options.metrics ?? ['temperature', 'humidity', 'pressure'];
  const prefix = options.devicePrefix ?? 'dev';
  const now = options.now ?? Date.now();
  const spread = options.timeSpreadMs ?? 10 * 60_000;
  const period = options.periodSeconds ?? 60;
  const readings: Record<string, unknown>[] = [];
  const truth = new Map<string, TelemetryRow>();
  for (let i = 0; i < options.readings; i++) {
    const device_id = `${prefix}-${Math.floor(rnd() * devices)}`;
    const metric = metrics[Math.floor(rnd() * metrics.length)];
    const value = Math.round((rnd() * 200 - 100) * 2) / 2 || 0; // never -0
    const timestamp = now - Math.floor(rnd() * spread);
    const reading = { event_id: `r-${i}`, device_id, metric, value, unit: 'u', timestamp };
    readings.push(reading);
    if (rnd() < (options.resendRate ?? 0.1)) readings.push({ ...reading });
    const start = Math.floor(timestamp / 1000 / period) * period;
    const key = telemetryRowKey(device_id, metric, start);
    const row = truth.get(key);
    if (!row) truth.set(key, { device_id, metric, period: start, readings: 1, total: value, minimum: value, maximum: value });
    else Object.assign(row, { readings: row.readings + 1, total: row.total + value, minimum: Math.min(row.minimum, value), maximum: Math.max(row.maximum, value) });
  }
  for (let i = readings.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [readings[i], readings[j]] = [readings[j], readings[i]];
  }
  return { readings, truth, distinct: options.readings };
}
