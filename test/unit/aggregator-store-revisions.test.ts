/**
 * The aggregator's row writes against dynalite: a batch that lowers a minimum or raises a maximum
 * takes it with a conditional update after the fenced one, and each of those updates is a revision
 * of the row; every revision goes to the aggregates feed (the lake keeps the feed's history), so
 * the revisions a batch returns are consecutive and end with the row as stored.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { AggregatorStore, rowItemKey } from '../../lambdas/aggregator/store';
import { planBatch, type AggState } from '../../lambdas/aggregator/plan';
import { fence } from '../../lambdas/commons/sequence';
import { ensureTable } from '../../local/provision';
import { tables } from '../../schemas/resources';
import { usePipeline } from '../../schemas/active-pipeline';
import telemetry from '../../pipelines/telemetry';
import { testDynalite } from '../support/dynalite';

const dynalite = testDynalite('sdp-store-revisions-', async (client) => {
  await ensureTable(client, tables.txState);
  await ensureTable(client, tables.aggregates);
});

const T0 = Date.parse('2024-05-01T12:00:10Z');
const reading = (event_id: string, value: number, seq: bigint) => ({
  seq: fence(String(49590338271490256608559692538361571095921575989136588898n + seq)),
  event: { type: 'reading', device_id: 'd1', event_id, metric: 'cpu', value, received_at: T0, event_time: T0 },
});

describe('aggregator rows with minima and maxima', () => {
  beforeAll(() => usePipeline(telemetry));

  it('publishes every revision of a row, the last one as stored', async () => {
    const db = DynamoDBDocumentClient.from(dynalite.client);
    const store = new AggregatorStore(db, tables.txState.name, tables.aggregates.name);
    const settings = { allowedLatenessMs: 3_600_000, expiresAt: 2_000_000_000 };
    const revisions: number[] = [];
    let last: Record<string, unknown> = {};
    // The second batch lowers the minimum and raises the maximum: one fenced update, then two conditional ones.
    const batches = [[reading('e1', 5, 1n), reading('e2', 6, 2n)], [reading('e3', 1, 3n), reading('e4', 9, 4n)], [reading('e5', 4, 5n)]];
    for (const batch of batches) {
      const plan = planBatch(telemetry, batch, new Map<string, AggState>(), settings);
      const rows = await store.applyRows(plan.rows, 'shardId-000000000000', T0);
      revisions.push(...rows.map((r) => r.revision));
      last = rows[rows.length - 1];
    }
    expect(revisions).toEqual([1, 2, 3, 4, 5]);
    const stored = (await db.send(new GetCommand({ TableName: tables.aggregates.name, Key: rowItemKey({ group: 'devices#["d1","cpu"]', period: 1714564800 }) }))).Item!;
    expect(stored).toMatchObject({ readings: 5, total: 25, minimum: 1, maximum: 9, revision: 5 });
    expect(last).toMatchObject({ readings: 5, total: 25, minimum: 1, maximum: 9, revision: 5 });
  });
});
