/**
 * The audit's pure reconciliation (local/audit.ts) for a pipeline other than adtech: per hour and
 * per stream from the stream's records and the lake's counts, and per aggregation measure, row by
 * row: sums to a relative 1e-9, minima and maxima exactly, a row missing on one side.
 */
import telemetry from '../../pipelines/telemetry';
import { aggregatedPerHour, expectedFromStream, expectedRowsFromStream, reconcile, reconcileAggregations, reconcileStreams } from '../../local/audit';
import { streamRecords, type ReceivedEvent } from '../../local/ground-truth';

const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);
const HOUR_PATH = 'dt=2026-12-05/hour=10';
const reading = (event_id: string, value: number, at: number): ReceivedEvent => ({ type: 'reading', body: { event_id, device_id: 'd1', metric: 'temp', value, timestamp: at }, receivedAt: at + 5 });
const records = streamRecords(telemetry, [reading('e1', 1.1, T0), reading('e1', 1.1, T0), reading('e2', 2.2, T0 + 1000), reading('e3', -4, T0 + 61_000)]);
const expectedRows = expectedRowsFromStream(telemetry, records, 3_600_000);

describe('the audit of a declared pipeline', () => {
  it('counts records and distinct events per hour and stream, and what the aggregates should count', () => {
    const expected = expectedFromStream(telemetry, records);
    const lake = new Map([['reading', new Map([[HOUR_PATH, 3]])]]);
    expect(reconcile(expected, aggregatedPerHour(telemetry, expectedRows), aggregatedPerHour(telemetry, expectedRows), lake, lake)).toEqual([
      { hour: HOUR_PATH, streamRecords: 4, expectedAggregated: 3, aggregated: 3, expectedLake: 3, lakeParquet: 3, lakeRaw: 3, ok: true },
    ]);
    expect(reconcileStreams(telemetry, expected, lake, new Map())).toEqual([
      { stream: 'reading', lakeTable: 'readings', streamRecords: 4, expectedLake: 3, lakeParquet: 3, lakeRaw: 0, ok: false },
    ]);
  });

  it('compares every measure row by row: sums to 1e-9, minima and maxima exactly, missing rows as empty', () => {
    const lakeRows = new Map([['devices', expectedRows.get('devices')!.map((r) => ({ ...r }))]]);
    const [first, second] = lakeRows.get('devices')!;
    // Another order of additions: the last bit of a sum may differ.
    const stored = new Map([['devices', [{ ...first, total: (first.total as number) + 1e-15 }, second]]]);
    expect(reconcileAggregations(telemetry, lakeRows, stored).every((r) => r.ok)).toBe(true);

    const tampered = new Map([['devices', [{ ...first, minimum: (first.minimum as number) - 1e-12 }]]]);
    const rows = reconcileAggregations(telemetry, lakeRows, tampered);
    expect(rows).toEqual([
      { aggregation: 'devices', measure: 'readings', expected: 3, aggregated: 2, rowsDiffering: 1, ok: false },
      { aggregation: 'devices', measure: 'total', expected: 1.1 + 2.2 - 4, aggregated: 1.1 + 2.2, rowsDiffering: 1, ok: false },
      { aggregation: 'devices', measure: 'minimum', expected: -4, aggregated: 1.1 - 1e-12, rowsDiffering: 2, ok: false },
      { aggregation: 'devices', measure: 'maximum', expected: 2.2, aggregated: 2.2, rowsDiffering: 1, ok: false },
      { aggregation: 'devices', measure: 'late_events', expected: 0, aggregated: 0, rowsDiffering: 0, ok: true },
    ]);
  });
});
