/**
 * `sdp cost` per pipeline: telemetry's measurements (perf/cost-measurements.telemetry.json, from
 * `npm run bench -- cost --measure --pipeline telemetry`) read as a reading's costs — one state
 * write per distinct reading, row updates fewer than readings, no bids so no retraining; which file
 * a stack's pipelines are billed with; --event-mix against the measured streams.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeBill } from '../../local/cost/bill';
import { readInventory } from '../../local/cost/inventory';
import { loadMeasurements, measurementsFile, tableAtBatch } from '../../local/cost/measurements';
import { parseEventMix } from '../../local/cost/report';
import { runCost } from '../../local/cost/run';
import { smallTemplate } from '../support/cost-fixture';

const ROOT = join(__dirname, '..', '..');

describe("telemetry's measurements", () => {
  const m = loadMeasurements(join(ROOT, measurementsFile('telemetry')));

  it('were measured on readings alone, with no auctions', () => {
    expect(m.command).toBe('npm run bench -- cost --measure --pipeline telemetry');
    expect(m.workload.mix).toEqual({ reading: 1 });
    expect(m.workload.auctions).toBeUndefined();
    expect(Object.keys(m.streams.events.bytesPerRecordByType ?? {})).toEqual(['reading']);
  });

  it('DynamoDB per reading: one state write (resends excepted), fewer row updates than readings', () => {
    for (const s of m.tables['tx-state'].samples) {
      // 5 % of the readings are resends: their state write is refused, not repeated
      expect(s.itemWritesPerEvent).toBeGreaterThan(0.9);
      expect(s.itemWritesPerEvent).toBeLessThanOrEqual(1);
    }
    // arrays of 100 at 100 readings/s: about 100 records per aggregator invocation, each row updated once per batch
    const at100 = tableAtBatch(m.tables.aggregates.samples, 'aggregator', 100);
    expect(at100.itemWritesPerEvent).toBeGreaterThan(0);
    expect(at100.itemWritesPerEvent).toBeLessThan(1);
  });

  it('priced: every reading billed, no bids so no training', () => {
    const bill = computeBill(readInventory(smallTemplate), m, { eventsPerSecond: 100, eventsPerRequest: 100 });
    expect(bill.warnings).toEqual([]);
    expect(bill.lines.some((l) => l.service === 'SageMaker')).toBe(false);
    const writes = bill.lines.find((l) => l.item.includes('write units'));
    expect(writes?.usd).toBeGreaterThan(0);
  });

  it('--event-mix names the measured streams', () => {
    expect(parseEventMix('reading=3', Object.keys(m.workload.mix))).toEqual({ reading: 1 });
    expect(() => parseEventMix('bid=1', Object.keys(m.workload.mix))).toThrow('--event-mix: unknown event type "bid" (reading)');
  });
});

describe("the measurements a stack's pipelines are billed with", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-cost-pipelines-'));
  const template = join(dir, 'template.json');
  writeFileSync(template, JSON.stringify(smallTemplate));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bill = (pipelines: string[]) => runCost(ROOT, { region: 'us-east-1', template, eventsPerSecond: 100, eventsPerRequest: 100, pipelines });

  it("a single pipeline: its own file (adtech's is perf/cost-measurements.json)", () => {
    expect(bill(['adtech']).measurements.file).toBe('perf/cost-measurements.json');
    expect(bill(['telemetry']).measurements.file).toBe('perf/cost-measurements.telemetry.json');
  });

  it('a pipeline never measured: a one-line error naming the command that measures it', () => {
    expect(() => bill(['other'])).toThrow('no measurements for pipeline other: run npm run bench -- cost --measure --pipeline other');
  });

  it("several: the first's figures, and the report says so", () => {
    const report = bill(['adtech', 'telemetry']);
    expect(report.measurements.file).toBe('perf/cost-measurements.json');
    expect(report.warnings[0]).toBe("the stack runs adtech, telemetry; the per-event figures are adtech's (measured alone): every event is billed as one of adtech's, at the measured mix or --event-mix");
  });
});
