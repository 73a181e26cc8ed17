/**
 * The ground truth of any declared pipeline (local/ground-truth.ts) and the traffic generated from
 * the schemas (local/traffic.ts): dedupe by identity, joins in any order, filters, windows,
 * lateness, count/sum/min/max; adtech's truth equals the ad-tech workload's own; generated
 * traffic is valid, unique but for its resends, joined on shared keys, with several events per row.
 */
import { z } from 'zod';
import { count, definePipeline, max, min, sum } from '../../schemas/pipeline';
import { clientTimestamp, id } from '../../schemas/fields';
import { identityKey } from '../../schemas/stream-record';
import adtech from '../../pipelines/adtech';
import telemetry from '../../pipelines/telemetry';
import { asRunWithPeriod, groundTruth, streamRecords, totalsPerGroup, type ReceivedEvent } from '../../local/ground-truth';
import { generateTraffic } from '../../local/traffic';
import { generateWorkload } from '../../pipelines/adtech/workload';
import { aggregationOf, streamOf } from '../../schemas/pipeline';

const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);
const HOUR = 3_600_000;

const reading = (event_id: string, device_id: string, metric: string, value: number, at: number, receivedAt = at + 100): ReceivedEvent => ({ type: 'reading', body: { event_id, device_id, metric, value, timestamp: at }, receivedAt });

describe('ground truth', () => {
  it('telemetry: first copy wins, windows of the period, sum/min/max, late events apart, refused events nowhere', () => {
    const records = streamRecords(telemetry, [
      reading('e1', 'd1', 'temp', 20.5, T0 + 1000),
      reading('e1', 'd1', 'temp', 99, T0 + 1000), // a resend: the first copy counts
      reading('e2', 'd1', 'temp', -3, T0 + 59_999),
      reading('e3', 'd1', 'temp', 7, T0 + 60_000), // the next window
      reading('e1', 'd2', 'temp', 1, T0 + 2000), // same event_id, another device: another event
      reading('e4', 'd1', 'temp', 1000, T0 + 3000, T0 + 3000 + 2 * HOUR), // late: counted apart
      { type: 'reading', body: { event_id: 'bad', device_id: 'd1', metric: 'temp', value: 'NaN' }, receivedAt: T0 }, // refused by the route
    ]);
    const rows = groundTruth(telemetry, records).get('devices')!;
    const p0 = T0 / 1000;
    expect(rows).toEqual([
      { aggregation: 'devices', device_id: 'd1', metric: 'temp', period: p0, readings: 2, total: 17.5, minimum: -3, maximum: 20.5, late_events: 1 },
      { aggregation: 'devices', device_id: 'd1', metric: 'temp', period: p0 + 60, readings: 1, total: 7, minimum: 7, maximum: 7, late_events: 0 },
      { aggregation: 'devices', device_id: 'd2', metric: 'temp', period: p0, readings: 1, total: 1, minimum: 1, maximum: 1, late_events: 0 },
    ]);
    const totals = totalsPerGroup(aggregationOf(telemetry, 'devices'), rows);
    expect(totals.get('devices#["d1","temp"]')).toEqual({ aggregation: 'devices', device_id: 'd1', metric: 'temp', readings: 3, total: 24.5, minimum: -3, maximum: 20.5, late_events: 1 });
  });

  it('a join counts joined events in their root\'s group, in any order, once, never without a root, and only roots passing the filter', () => {
    const order = z.object({ order_id: id(), shop: id(), channel: id(), amount: z.number().int(), timestamp: clientTimestamp.optional() });
    const payment = z.object({ order_id: id(), paid: z.number(), timestamp: clientTimestamp.optional() });
    const shop = definePipeline({
      name: 'shop',
      streams: { order: { schema: order, identity: ['order_id'], partitionKey: 'order_id' }, payment: { schema: payment, identity: ['order_id'], partitionKey: 'order_id' } },
      aggregations: {
        sales: {
          stream: 'order', join: { key: 'order_id', streams: ['payment'] }, groupBy: ['shop'], where: { channel: ['web', 'app'] },
          measures: { orders: count(), amount: sum('amount'), payments: count('payment'), paid: sum('paid', 'payment'), smallest: min('paid', 'payment'), largest: max('amount') },
        },
      },
    });
    const ev = (type: string, body: Record<string, unknown>, at: number): ReceivedEvent => ({ type, body: { ...body, timestamp: at }, receivedAt: at + 10 });
    const records = streamRecords(shop, [
      ev('payment', { order_id: 'o1', paid: 10 }, T0 + 5000), // before its order
      ev('order', { order_id: 'o1', shop: 's', channel: 'web', amount: 12 }, T0 + 1000),
      ev('payment', { order_id: 'o1', paid: 999 }, T0 + 6000), // a second payment of o1: its identity is o1, a duplicate
      ev('order', { order_id: 'o2', shop: 's', channel: 'app', amount: 3 }, T0 + 2000),
      ev('payment', { order_id: 'o2', paid: 2.5 }, T0 + 61_000), // counted in its own window
      ev('payment', { order_id: 'o9', paid: 1 }, T0), // no order: counted nowhere
      ev('order', { order_id: 'o3', shop: 's', channel: 'phone', amount: 100 }, T0), // filtered out, with its payment
      ev('payment', { order_id: 'o3', paid: 100 }, T0),
    ]);
    expect(groundTruth(shop, records).get('sales')).toEqual([
      { aggregation: 'sales', shop: 's', period: T0 / 1000, orders: 2, amount: 15, payments: 1, paid: 10, smallest: 10, largest: 12, late_events: 0 },
      { aggregation: 'sales', shop: 's', period: T0 / 1000 + 60, orders: 0, amount: 0, payments: 1, paid: 2.5, smallest: 2.5, late_events: 0 },
    ]);
  });

  it.each([
    ['plain', { auctions: 3000, campaigns: 7, seed: 3, resendRate: 0.2, reorderRate: 0.4 }],
    ['win model', { auctions: 2000, campaigns: 5, seed: 9, winModel: true }],
  ])('adtech: equals the ad-tech workload\'s own truth (%s)', (_name, options) => {
    const now = Date.now();
    const workload = generateWorkload({ ...options, now });
    const received = workload.events.map((e) => ({ ...e, receivedAt: now }));
    const campaigns = aggregationOf(adtech, 'campaigns');
    const totals = totalsPerGroup(campaigns, groundTruth(adtech, streamRecords(adtech, received)).get('campaigns')!);
    const asCounts = new Map([...totals.values()].map((t) => [t.campaign_item_id as number, { bids: t.bids, impressions: t.impressions, clicks: t.clicks }]));
    expect(asCounts).toEqual(workload.truth);
    expect([...totals.values()].every((t) => t.late_events === 0)).toBe(true);
  });
});

describe('generated traffic', () => {
  it.each([['telemetry', telemetry], ['adtech', adtech]])('%s: valid events, unique identities but for resends, joined events sharing a root key, several events per row', (_name, pipeline) => {
    const now = Date.now();
    const traffic = generateTraffic(pipeline, { events: 400, groups: 4, resendRate: 0.1, seed: 4, now, timeSpreadMs: 10 * 60_000 });
    const identities = new Map<string, string>();
    let resends = 0;
    for (const e of traffic.events) {
      const stream = streamOf(pipeline, e.type);
      expect(stream.schema.safeParse(e.body).success).toBe(true);
      const t = e.body[stream.eventTime!] as number;
      expect(t).toBeGreaterThan(now - 10 * 60_000 - 1000);
      expect(t).toBeLessThanOrEqual(now + 1000);
      const key = `${e.type} ${identityKey(stream, stream.schema.parse(e.body) as Record<string, unknown>)}`;
      const seen = identities.get(key);
      if (seen !== undefined) {
        expect(JSON.stringify(e.body)).toBe(seen);
        resends++;
      } else identities.set(key, JSON.stringify(e.body));
    }
    expect(resends).toBeGreaterThan(traffic.events.length * 0.05);
    expect(Object.values(traffic.distinct).reduce((a, b) => a + b, 0)).toBe(identities.size);
    // Optional fields are sometimes there, sometimes not.
    const optional = pipeline.streams.flatMap((s) => s.fields.filter((f) => !f.required && f.name !== s.eventTime).map((f) => [s.name, f.name] as const));
    for (const [stream, field] of optional) {
      const of = traffic.events.filter((e) => e.type === stream);
      const present = of.filter((e) => field in e.body).length;
      expect({ stream, field, some: present > 0 && present < of.length }).toEqual({ stream, field, some: true });
    }
    const records = streamRecords(pipeline, traffic.events.map((e) => ({ ...e, receivedAt: now })));
    for (const [name, rows] of groundTruth(pipeline, records)) {
      const aggregation = aggregationOf(pipeline, name);
      const counted = rows.reduce((n, r) => n + aggregation.measures.filter((m) => m.kind === 'count').reduce((k, m) => k + (r[m.name] as number), 0), 0);
      const joined = aggregation.join?.streams ?? [];
      // Every root and, through the shared keys, every joined event is counted (joined ones about half the roots).
      expect(counted).toBe([aggregation.stream, ...joined].reduce((n, s) => n + traffic.distinct[s], 0));
      for (const s of joined) expect(traffic.distinct[s]).toBeGreaterThan(traffic.distinct[aggregation.stream] * 0.3);
      expect(totalsPerGroup(aggregation, rows).size).toBeLessThanOrEqual(4 ** aggregation.groupBy.length);
      expect(rows.length).toBeLessThan(traffic.distinct[aggregation.stream] / 2);
    }
  });
});

describe('a platform run with AGGREGATION_PERIOD_SECONDS', () => {
  it('windows every aggregation by that period, and by its declared one when the setting is at its default', () => {
    const records = streamRecords(telemetry, [reading('e1', 'd1', 'temp', 1, T0 + 1000), reading('e2', 'd1', 'temp', 2, T0 + 7000)]);
    const periods = (p: number | undefined) => groundTruth(asRunWithPeriod(telemetry, p), records).get('devices')!.map((r) => r.period);
    expect(periods(5)).toEqual([T0 / 1000, T0 / 1000 + 5]);
    expect(periods(60)).toEqual([T0 / 1000]);
    expect(periods(undefined)).toEqual([T0 / 1000]);
  });
});
