/**
 * The audit's SQL per aggregation (local/audit-sql.ts), run on DuckDB over stream tables laid out
 * as the lake's (`parquet_<lakeTable>`: the client fields, type, received_at and event_time as
 * timestamps, resends included), answers exactly the ground truth (local/ground-truth.ts) of the
 * same events: dedupe, join in any order, filter, windows, lateness, count/sum/min/max.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { count, definePipeline, max, min, sum, type Pipeline } from '../../schemas/pipeline';
import { clientTimestamp, id } from '../../schemas/fields';
import adtech from '../../pipelines/adtech';
import telemetry from '../../pipelines/telemetry';
import { aggregationSql } from '../../local/audit-sql';
import { groundTruth, streamRecords, type ReceivedEvent, type TruthRow } from '../../local/ground-truth';
import { generateTraffic } from '../../local/traffic';
import type { StreamRecord } from '../../schemas/stream-record';
import { scratchDuckDb } from '../support/duckdb';

const duck = scratchDuckDb('sdp-audit-sql-');
const HOUR = 3_600_000;
const LATENESS_S = 3600;

const order = z.object({ order_id: id(), shop: id(), channel: id(), amount: z.number().int(), timestamp: clientTimestamp.optional() });
const payment = z.object({ order_id: id(), paid: z.number(), timestamp: clientTimestamp.optional() });
const shop = definePipeline({
  name: 'shop',
  streams: { order: { schema: order, identity: ['order_id'], partitionKey: 'order_id', lakeTable: 'orders' }, payment: { schema: payment, identity: ['order_id'], partitionKey: 'order_id' } },
  aggregations: {
    sales: {
      stream: 'order', join: { key: 'order_id', streams: ['payment'] }, groupBy: ['shop', 'channel'], where: { channel: ['channel-0', "chan'nel"] }, periodSeconds: 300,
      measures: { orders: count(), amount: sum('amount'), payments: count('payment'), paid: sum('paid', 'payment'), smallest: min('paid', 'payment'), largest: max('amount') },
    },
  },
});

/** Every copy received, some of them received late: what the lake's tables hold before dedupe. */
function received(pipeline: Pipeline, seed: number): StreamRecord[] {
  const now = Date.UTC(2026, 11, 5, 12, 0, 0);
  const traffic = generateTraffic(pipeline, { events: 300, groups: 3, resendRate: 0.2, seed, now, timeSpreadMs: 30 * 60_000 });
  // Received in send order; the last sixth two hours late (resends of earlier events among them).
  const n = traffic.events.length;
  const events: ReceivedEvent[] = traffic.events.map((e, i) => ({ ...e, receivedAt: now + i * 10 + (i > (5 * n) / 6 ? 2 * HOUR : 0) }));
  return streamRecords(pipeline, events, { maxClockSkewMs: 300_000, maxEventAgeMs: 7 * 24 * HOUR });
}

/** Loads records into `parquet_<lakeTable>` tables, times as timestamps. */
async function load(pipeline: Pipeline, records: readonly StreamRecord[]): Promise<void> {
  for (const stream of pipeline.streams) {
    const file = duck.file('.json');
    writeFileSync(file, records.filter((r) => r.type === stream.name).map((r) => JSON.stringify(r)).join('\n'));
    const columns = [...stream.fields.map((f) => `"${f.name}": '${f.kind === 'integer' ? 'BIGINT' : f.kind === 'number' ? 'DOUBLE' : f.kind === 'boolean' ? 'BOOLEAN' : 'VARCHAR'}'`), `"type": 'VARCHAR'`, `"received_at": 'BIGINT'`, `"event_time": 'BIGINT'`];
    await duck.db.run(`CREATE OR REPLACE TABLE parquet_${stream.lakeTable} AS SELECT * REPLACE (make_timestamp(received_at * 1000) AS received_at, make_timestamp(event_time * 1000) AS event_time) FROM read_json('${file}', format = 'newline_delimited', columns = {${columns.join(', ')}})`);
  }
}

async function sqlRows(pipeline: Pipeline, name: string): Promise<Record<string, unknown>[]> {
  const aggregation = pipeline.aggregations.find((a) => a.name === name)!;
  const reader = await duck.db.runAndReadAll(aggregationSql(pipeline, aggregation, { allowedLatenessSeconds: LATENESS_S }));
  return reader.getRowObjectsJS().map((row) => {
    const out: Record<string, unknown> = { aggregation: name };
    for (const [k, v] of Object.entries(row)) if (v !== null) out[k] = typeof v === 'bigint' ? Number(v) : v;
    return out;
  });
}

/** A truth row as the SQL orders its columns (measures, then late_events). */
const normal = (row: Record<string, unknown> | TruthRow) => JSON.stringify(Object.fromEntries(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1))));

describe('the audit SQL of an aggregation', () => {
  it.each([
    ['telemetry', telemetry, 'devices'],
    ['adtech', adtech, 'campaigns'],
    ['a joined, filtered pipeline', shop, 'sales'],
  ] as const)('equals the ground truth on the lake tables (%s)', async (_name, pipeline, aggregation) => {
    const records = received(pipeline, 21);
    await load(pipeline, records);
    const truth = groundTruth(pipeline, records, LATENESS_S * 1000).get(aggregation)!;
    expect(truth.some((r) => r.late_events > 0)).toBe(true);
    const rows = await sqlRows(pipeline, aggregation);
    expect(rows.map(normal).sort()).toEqual(truth.map(normal).sort());
  });

  it('quotes the values of a filter', () => {
    expect(aggregationSql(shop, shop.aggregations[0], { allowedLatenessSeconds: 60 })).toContain(`r."channel" IN ('channel-0', 'chan''nel')`);
  });
});
