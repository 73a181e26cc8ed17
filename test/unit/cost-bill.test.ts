/**
 * The cost calculator (local/cost/): the bill of a small hand-made stack at 10 events/s in
 * requests of 10, every line worked out by hand from the price table's figures; what the template
 * reader finds (parameter defaults, metrics per alarm, unpriced types); the volume tiers; how
 * stream consumers batch; the event-mix option; interpolation of the measured request units.
 */
import { prices, tieredCost } from '../../schemas/prices';
import { batchesPerSecond, computeBill, costReport, emfBytes } from '../../local/cost/bill';
import { readInventory, runsPerMonth } from '../../local/cost/inventory';
import { tableAtBatch } from '../../local/cost/measurements';
import { parseEventMix } from '../../local/cost/report';
import { roundMeasurements, smallTemplate } from '../support/cost-fixture';

const SECONDS = 730 * 3600; // 2,628,000 s in the month

describe('the bill of a small stack', () => {
  const inventory = readInventory(smallTemplate);
  const bill = computeBill(inventory, roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 });
  const line = (text: string) => bill.lines.filter((l) => l.item.includes(text)).reduce((s, l) => s + l.usd, 0);

  it('prices each part by hand', () => {
    // 2 shards (the parameter's default) × $0.015 × 730 h
    expect(line('shard(s)')).toBeCloseTo(2 * 0.015 * 730, 9); // $21.90
    // 10 records/s of 1,000 B: one 25 KB payload unit each; 26.28 M units × $0.014/M
    expect(line('PUT payload units')).toBeCloseTo(26.28 * 0.014, 9); // $0.36792
    // ingest: 1 invocation per request of 10 events: 2.628 M × $0.20/M; 1 GB × 0.1 s × 2.628 M = 262,800 GB-s arm64
    expect(line('ingest: 2.6 M invocations')).toBeCloseTo(2.628 * 0.2, 9); // $0.5256
    expect(line('ingest: 262.8 k GB-s')).toBeCloseTo(262_800 * 0.0000133334, 9); // $3.50401752
    // aggregator: 5 records/s per shard, read once a second: 2 invocations/s = 5.256 M; 0.5 GB × 0.2 s each, x86
    expect(line('aggregator: 5.3 M invocations')).toBeCloseTo(5.256 * 0.2, 9); // $1.0512
    expect(line('aggregator: 525.6 k GB-s')).toBeCloseTo(525_600 * 0.0000166667, 9); // $8.76001752
    // REST API: 2.628 M requests × $3.50/M
    expect(line('REST API')).toBeCloseTo(2.628 * 3.5, 9); // $9.198
    // tx-state: 2 write units and 1 read unit per event, 26.28 M events
    expect(line('write units')).toBeCloseTo(52.56 * 0.625, 9); // $32.85
    expect(line('read units')).toBeCloseTo(26.28 * 0.125, 9); // $3.285
    // alarms: one on a metric, one reading two metrics (its expression is free): 3 × $0.10
    expect(line('alarms')).toBeCloseTo(0.3, 9);
    expect(line('dashboard')).toBe(3);
    expect(line('customer managed key')).toBe(1);
    expect(bill.total).toBeCloseTo(85.74175504, 6);
    expect(bill.eventsPerMonth).toBe(10 * SECONDS);
    expect(bill.warnings).toEqual([]);
  });

  it('idle: the shards, the alarms, the dashboard and the key; per million events all included', () => {
    const report = costReport(inventory, roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 }, { region: 'us-east-1', template: 'fixture', measurementsFile: 'fixture' });
    expect(report.idleTotal).toBeCloseTo(21.9 + 0.3 + 3 + 1, 9); // $26.20
    expect(report.total).toBeCloseTo(85.74175504, 6);
    expect(report.perMillionEvents).toBeCloseTo(85.74175504 / 26.28, 6);
    expect(report.components.find((c) => c.item.includes('shard(s)'))?.idleUsd).toBeCloseTo(21.9, 9);
    expect(report.assumptions.map((a) => a.what)).toEqual(expect.arrayContaining(['free tiers', 'Lambda handler time per invocation', 'DynamoDB request units per event']));
  });

  it('adds shards, and says so, when the traffic needs more than the template has', () => {
    const busy = computeBill(inventory, roundMeasurements, { eventsPerSecond: 3500, eventsPerRequest: 100 });
    // 3,500 records/s of 1,000 B: 3.34 MB/s, so 4 shards (1 MB/s and 1,000 records/s each)
    expect(busy.lines.find((l) => l.item.includes('shard(s)'))?.usd).toBeCloseTo(4 * 0.015 * 730, 9);
    expect(busy.warnings.join('\n')).toMatch(/need 4 shards, the template has 2 \(parameter ShardCount \(default\)\)/);
  });
});

describe('other shapes of the stack', () => {
  it('an on-demand stream: stream-hours, GB written (records rounded up to 1 KB) and GB read per consumer', () => {
    const stream = { ...smallTemplate.Resources.Stream, Properties: { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, RetentionPeriodHours: 24 } };
    const bill = computeBill(readInventory({ ...smallTemplate, Resources: { ...smallTemplate.Resources, Stream: stream } }), roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 });
    const usd = (text: string) => bill.lines.find((l) => l.item.includes(text))?.usd;
    const gb = (10 * SECONDS * 1024) / 1024 ** 3; // 1,000 B records billed as 1 KB: 25.06 GB
    expect(usd('on-demand stream-hours')).toBeCloseTo(0.04 * 730, 9); // $29.20
    expect(usd('GB written')).toBeCloseTo(gb * 0.08, 9);
    expect(usd('GB read by 1 consumer')).toBeCloseTo(gb * 0.04, 9);
    expect(bill.lines.some((l) => l.item.includes('shard'))).toBe(false);
  });

  it('an HTTP API writing the stream directly: its own request price, no ingestion function billed', () => {
    const { Ingest: _ingest, Post: _post, Api: _api, ...rest } = smallTemplate.Resources;
    const resources = {
      ...rest,
      HttpApi: { Type: 'AWS::ApiGatewayV2::Api', Properties: { ProtocolType: 'HTTP' } },
      PutRecord: { Type: 'AWS::ApiGatewayV2::Integration', Properties: { ApiId: { Ref: 'HttpApi' }, IntegrationType: 'AWS_PROXY', IntegrationSubtype: 'Kinesis-PutRecord' } },
      Aggregator: { ...rest.Aggregator, Properties: { ...rest.Aggregator.Properties, Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'aggregator', TX_STATE_TABLE_NAME: { Ref: 'TxState' }, EVENTS_STREAM_NAME: { Ref: 'Stream' } } } } },
    };
    const inventory = readInventory({ ...smallTemplate, Resources: resources });
    expect(inventory.apis).toEqual([expect.objectContaining({ id: 'HttpApi', kind: 'HTTP', directToStream: true })]);
    const bill = computeBill(inventory, roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 });
    expect(bill.lines.find((l) => l.item.includes('HTTP API'))?.usd).toBeCloseTo(2.628 * 1.0, 9); // $1.00 per million
    expect(bill.lines.some((l) => l.item.startsWith('ingest'))).toBe(false);
  });
});

describe('a bucket written per batch', () => {
  it('bills its PUTs per invocation of the function writing it, its storage per event', () => {
    const aggregator = smallTemplate.Resources.Aggregator;
    const resources = {
      ...smallTemplate.Resources,
      Lake: { Type: 'AWS::S3::Bucket', Properties: {} },
      Aggregator: { ...aggregator, Properties: { ...aggregator.Properties, Environment: { Variables: { ...aggregator.Properties!.Environment.Variables, LAKE_BUCKET_NAME: { Ref: 'Lake' } } } } },
    };
    const m = { ...roundMeasurements, buckets: { lake: { putsPerEvent: 0.01, getsPerEvent: 0, otherRequestsPerEvent: 0, bytesPerEvent: 1024, perInvocation: { function: 'aggregator', puts: 3, gets: 0, other: 0 } } } };
    const bill = computeBill(readInventory({ ...smallTemplate, Resources: resources }), m, { eventsPerSecond: 10, eventsPerRequest: 10 });
    const usd = (text: string) => bill.lines.find((l) => l.item.includes(text))?.usd;
    // 2 aggregator invocations/s (one per shard per second): 5.256 M × 3 PUTs × $0.005 per 1,000
    expect(usd('PUT/LIST requests')).toBeCloseTo(5.256e6 * 3 * 0.000005, 9); // $78.84
    // 26.28 M events × 1 KB = 25.06 GB at $0.023
    expect(usd('GB added this month')).toBeCloseTo(((26.28e6 * 1024) / 1024 ** 3) * 0.023, 9);
  });
});

describe('reading a template', () => {
  it('finds what it bills, and names the types it cannot price', () => {
    const inventory = readInventory({ ...smallTemplate, Resources: { ...smallTemplate.Resources, Db: { Type: 'AWS::RDS::DBInstance' } } });
    expect(inventory.streams).toEqual([{ id: 'Stream', name: 'events', mode: 'PROVISIONED', shards: 2, shardsFrom: 'parameter ShardCount (default)', retentionHours: 24 }]);
    expect(inventory.functions.map((f) => [f.name, f.apiIds, f.writesEvents, f.mappings.length])).toEqual([
      ['ingest', ['Api'], true, 0],
      ['aggregator', [], false, 1],
    ]);
    expect(inventory.tables.map((t) => t.name)).toEqual(['tx-state']);
    expect(inventory.alarms.map((a) => a.metrics)).toEqual([1, 2]);
    expect(inventory.unpriced).toEqual(['AWS::RDS::DBInstance']);
  });

  it('counts schedule runs in a 730-hour month', () => {
    expect(runsPerMonth('rate(1 hour)')).toBe(730);
    expect(runsPerMonth('rate(1 day)')).toBeCloseTo(730 / 24, 9);
    expect(runsPerMonth('rate(15 minutes)')).toBe(730 * 4);
    expect(runsPerMonth('cron(0 3 * * ? *)')).toBeCloseTo(730 / 24, 9);
  });
});

describe('pricing rules', () => {
  it('bills API requests by volume tier', () => {
    // 400 M REST requests: 333 M at $3.50/M, 67 M at $2.80/M
    expect(tieredCost(prices.apiGateway.restRequests, 400e6)).toBeCloseTo(333 * 3.5 + 67 * 2.8, 6);
    expect(tieredCost(prices.apiGateway.httpRequests, 100e6)).toBeCloseTo(100, 9);
  });

  it('batches a shard about once a second, more often when a batch fills', () => {
    expect(batchesPerSecond(0, 100, 0)).toBe(0);
    expect(batchesPerSecond(0.5, 100, 0)).toBe(0.5); // fewer records than polls: one batch each
    expect(batchesPerSecond(100, 3000, 0)).toBe(1);
    expect(batchesPerSecond(100, 5000, 5)).toBeCloseTo(0.2, 9); // a 5 s window
    expect(batchesPerSecond(9000, 3000, 0)).toBe(3);
  });

  it("sizes a function's EMF metrics record as Powertools serializes it", () => {
    expect([emfBytes(1), emfBytes(8)]).toEqual([209, 692]);
  });

  it('every price names its source and the day it was read', () => {
    const walk = (v: unknown): { source?: string; read?: string; quote?: string }[] =>
      v && typeof v === 'object' ? ('unit' in v ? [v as never] : Object.values(v).flatMap(walk)) : [];
    const all = walk(prices);
    expect(all.length).toBeGreaterThan(30);
    for (const p of all) expect([p.source, p.read, p.quote].every((s) => typeof s === 'string' && s.length > 0)).toBe(true);
  });
});

describe('--event-mix', () => {
  it('takes shares and normalizes them', () => {
    expect(parseEventMix('bid=2,impression=1,click=1')).toEqual({ bid: 0.5, impression: 0.25, click: 0.25 });
  });
  it.each([
    ['bid=1,view=1', '--event-mix: unknown event type "view" (bid, impression, click)'],
    ['bid=-1', '--event-mix: bid must be a share, 0 or more (e.g. bid=0.5)'],
    ['bid=0', '--event-mix: the shares add up to 0'],
  ])('refuses %s', (text, message) => {
    expect(() => parseEventMix(text)).toThrow(message);
  });
});

describe('request units at a batch size', () => {
  const sample = (batch: number, wru: number) => ({ batchRecords: { aggregator: batch }, writeUnitsPerEvent: wru, readUnitsPerEvent: 0, itemWritesPerEvent: wru, itemReadsPerEvent: 0, queriesPerEvent: 0 });
  const samples = [sample(10, 1), sample(1000, 0.1)];
  it('interpolates on a log scale between the measured batch sizes, and takes the nearest outside them', () => {
    expect(tableAtBatch(samples, 'aggregator', 100).writeUnitsPerEvent).toBeCloseTo(0.55, 9);
    expect(tableAtBatch(samples, 'aggregator', 5).writeUnitsPerEvent).toBe(1);
    expect(tableAtBatch(samples, 'aggregator', 5000).writeUnitsPerEvent).toBe(0.1);
  });
});
