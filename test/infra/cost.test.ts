/**
 * `sdp cost` on the real stack: every resource type the synthesized template holds is either
 * priced by the calculator or known to cost nothing by itself (a new billable type fails this test
 * until it is priced), every stream, table and consumer function the traffic reaches has measured
 * figures in perf/cost-measurements.json, and the bill has the parts the issue names.
 */
import { join } from 'node:path';
import { synthesize } from './synth';
import { FREE_TYPES, PRICED_TYPES, readInventory } from '../../local/cost/inventory';
import { costReport } from '../../local/cost/bill';
import { loadMeasurements, MEASUREMENTS_FILE } from '../../local/cost/measurements';
import type { CfnTemplate } from '../../local/cost/template';
import { reportsWindowContext } from '../../schemas/resources';

const template = synthesize({ bundling: false }).template.toJSON() as CfnTemplate;
const inventory = readInventory(template);
const measurements = loadMeasurements(join(__dirname, '..', '..', MEASUREMENTS_FILE));
const report = (eventsPerSecond: number, eventsPerRequest: number) => costReport(inventory, measurements, { eventsPerSecond, eventsPerRequest }, { region: 'us-east-1', template: 'synthesized', measurementsFile: MEASUREMENTS_FILE });

describe('sdp cost on the synthesized stack', () => {
  it('prices every billable resource type of the template', () => {
    expect(inventory.unpriced).toEqual([]);
    const types = Object.keys(inventory.counts);
    expect(types.filter((t) => !(PRICED_TYPES as readonly string[]).includes(t) && !(t in FREE_TYPES))).toEqual([]);
  });

  it('has measurements for every stream, table and stream consumer the traffic reaches', () => {
    const r = report(100, 100);
    expect(r.warnings.filter((w) => w.startsWith('no measurement'))).toEqual([]);
    for (const s of inventory.streams) expect(measurements.streams[s.name]).toBeDefined();
    for (const t of inventory.tables) expect(measurements.tables[t.name]).toBeDefined();
    for (const f of inventory.functions.filter((fn) => fn.mappings.length > 0 || fn.writesEvents)) expect(measurements.functions[f.name]).toBeDefined();
  });

  it('bills the parts the issue names: shards, alarms per metric, the dashboard, the key, request units, API requests', () => {
    const r = report(100, 100);
    const services = Object.keys(r.byService);
    // No KMS: the alarm topic's key is opt-in (-c sdp:alarmTopicKey=true), the streams use AWS managed keys.
    expect(services).toEqual(expect.arrayContaining(['Kinesis', 'Lambda', 'API Gateway', 'DynamoDB', 'CloudWatch', 'S3']));
    expect(r.components.some((c) => /alarms reading \d+ metrics/.test(c.item))).toBe(true);
    expect(r.idleTotal).toBeGreaterThan(0);
    expect(r.total).toBeGreaterThan(r.idleTotal);
    // Single events cost more than arrays at the same traffic: one API request (and ingestion invocation) each.
    expect(report(100, 1).total).toBeGreaterThan(r.total);
  });

  it('idle: one shard of the events stream kept 24 hours, the alarms and the dashboard; nothing published or trained while nothing happens', () => {
    const idle = report(0, 100);
    const lines = idle.components.filter((c) => c.usd > 0).map((c) => `${c.service}: ${c.item}`);
    expect(lines.filter((l) => l.startsWith('Kinesis'))).toEqual(['Kinesis: events stream: 1 shard(s) × 730 h']);
    expect(lines.some((l) => /custom metrics published/.test(l))).toBe(false);
    expect(lines.some((l) => l.startsWith('SageMaker'))).toBe(false);
    expect(idle.assumptions.find((a) => a.what === 'custom metrics')?.source).toMatch(/metered only when you send metrics/);
    expect(idle.assumptions.find((a) => a.what === 'retraining runs that train')?.value).toMatch(/none at this traffic/);
    // An idle run ends at EnoughAuctions' Default: the transitions to TooFewAuctions, and only the
    // channels step's two calls (one per split); no gate, no promote.
    const machine = inventory.stateMachines[0];
    expect(machine.defaultRun?.states).toEqual([
      'NameRun', 'BuildTrainingSet', 'UnloadTrainingSet', 'DecompressTrainingSet', 'UnloadValidationSet', 'DecompressValidationSet', 'EnoughAuctions', 'TooFewAuctions',
    ]);
    expect(lines).toContain(`Step Functions: ${machine.id}: 30 runs × 8 transitions`);
    expect(lines.filter((l) => /retraining-/.test(l))).toEqual(['Lambda: retraining-channels: 61 invocations (workflow runs)', expect.stringMatching(/^Lambda: retraining-channels: .* GB-s/)]);
    expect(idle.assumptions.find((a) => a.what === 'retraining state transitions per run')?.value).toMatch(/the 8 states from NameRun to TooFewAuctions/);
    // The idle runs' own requests: compaction lists its manifests, raw/ and parquet/ every hour;
    // the idle retraining run's two UNLOADs are billed Athena's 10 MB minimum each.
    expect(lines).toContain('S3: compaction: 2.2 k LIST requests (3 per run)');
    expect(lines).toContain(`Athena: ${machine.id}: 30 runs × 2 queries (10 MB minimum each)`);
    // At traffic the same stack publishes its metrics and retrains every run.
    const busy = report(100, 100);
    expect(busy.components.some((c) => c.item === `${machine.id}: 30 runs × ${machine.states} transitions`)).toBe(true);
    expect(busy.components.some((c) => /retraining-gate: 30 invocations/.test(c.item))).toBe(true);
    expect(busy.components.some((c) => /custom metrics published/.test(c.item))).toBe(true);
    expect(busy.components.some((c) => c.service === 'SageMaker' && c.usd > 0)).toBe(true);
  });
});

describe('the reports batching window (-c sdp:reportsBatchingWindowSeconds=N)', () => {
  const windowed = readInventory(synthesize({ bundling: false, context: { [reportsWindowContext]: '5' } }).template.toJSON() as CfnTemplate);
  const billOf = (inv: typeof inventory) => costReport(inv, measurements, { eventsPerSecond: 100, eventsPerRequest: 100 }, { region: 'us-east-1', template: 'synthesized', measurementsFile: MEASUREMENTS_FILE });
  const line = (r: ReturnType<typeof billOf>, pattern: RegExp) => r.components.filter((c) => pattern.test(c.item)).reduce((sum, c) => sum + c.usd, 0);

  it("is the aggregator mapping's MaximumBatchingWindowInSeconds, and the bill sees it", () => {
    const aggregator = windowed.functions.find((f) => f.name === 'aggregator')!;
    expect(aggregator.mappings.map((m) => m.windowSeconds)).toEqual([5]);
    expect(inventory.functions.find((f) => f.name === 'aggregator')!.mappings.map((m) => m.windowSeconds)).toEqual([0]);
  });

  // Row and journal units per event are interpolated between the batch sizes the bench measured
  // (28 and ~2,500 records) on a log scale, which overstates them between: the true saving is larger.
  it('at 100 events/s, a 5 s window costs fewer aggregator invocations and row and journal writes, nothing else more', () => {
    const now = billOf(inventory);
    const batched = billOf(windowed);
    expect(line(batched, /^aggregator: .* invocations/)).toBeLessThan(line(now, /^aggregator: .* invocations/) / 4);
    expect(line(batched, /^aggregates: .* write units/)).toBeLessThan(line(now, /^aggregates: .* write units/) * 0.7);
    expect(line(batched, /^aggregator-journal: .* write units/)).toBeLessThan(line(now, /^aggregator-journal: .* write units/) * 0.7);
    expect(batched.total).toBeLessThan(now.total);
  });

  it('refuses a window Lambda does not allow, at synth', () => {
    for (const bad of ['301', '-1', 'soon', '2.5'])
      expect(() => synthesize({ bundling: false, context: { [reportsWindowContext]: bad } })).toThrow(`context ${reportsWindowContext} must be a whole number from 0 to 300, got "${bad}"`);
  });
});
