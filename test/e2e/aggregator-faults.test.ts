/**
 * Exactly once under injected faults: the aggregator handler runs behind the local event source
 * mapping (retries, bisect, partial batch responses) against real emulated Kinesis and DynamoDB,
 * while a fault injector makes DynamoDB and Kinesis calls fail before they reach the service or
 * after it applied them (a lost response: the write happened, the handler saw an error), and makes
 * whole invocations fail after they finished. After each run the aggregate rows equal the ground
 * truth exactly, and the aggregates stream's latest revision of every row equals the stored row.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startEmulator, type Emulator } from '../../local/emulators';
import { ensureStream, ensureTable } from '../../local/provision';
import { StreamPoller, type KinesisHandler } from '../../local/stream-poller';
import { CheckpointStore } from '../../local/checkpoints';
import { DeadLetterStore } from '../../local/dead-letters';
import { waitFor } from '../../local/wait';
import { FaultInjector, injectFaults, withInvocationFaults } from '../../local/faults';
import { generateWorkload, type Workload } from '../../local/workload';
import { streams, tables } from '../../schemas/resources';
import { COUNTERS, type AggregateRow } from '../../schemas/aggregates';
import { StreamWriter } from '../../lambdas/commons/stream-writer';

type Clients = typeof import('../../lambdas/commons/clients');
type Handler = typeof import('../../lambdas/aggregator/handler');

describe('the aggregator under injected faults', () => {
  let dataDir: string;
  let kinesisEmu: Emulator;
  let dynamoEmu: Emulator;
  let kinesis: KinesisClient;
  let db: DynamoDBDocumentClient;
  let clients: Clients;
  let aggregator: Handler;
  const faults = new FaultInjector();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sdp-faults-'));
    [kinesisEmu, dynamoEmu] = await Promise.all([startEmulator('kinesis', dataDir), startEmulator('dynamodb', dataDir)]);
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_KINESIS: kinesisEmu.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEmu.endpoint,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // Every event in this test is on time; lateness has its own tests.
      ALLOWED_LATENESS_SECONDS: String(365 * 24 * 3600),
    });
    kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
    await ensureStream(kinesis, streams.events, 2);
    await ensureStream(kinesis, streams.aggregates, 1);
    const dynamo = new DynamoDBClient({});
    await Promise.all(Object.values(tables).map((t) => ensureTable(dynamo, t)));
    db = DynamoDBDocumentClient.from(dynamo);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    clients = require('../../lambdas/commons/clients');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    aggregator = require('../../lambdas/aggregator/handler');
    injectFaults(clients.dynamo(), faults, 'DynamoDB');
    injectFaults(clients.kinesis(), faults, 'Kinesis');
  });

  afterAll(async () => {
    await Promise.all([kinesisEmu?.stop(), dynamoEmu?.stop()]);
  });

  async function putEvents(workload: Workload, writer: StreamWriter): Promise<void> {
    const now = Date.now();
    const records = workload.events.map((e) => {
      const event = { ...e.body, type: e.type, received_at: now, event_time: e.body.timestamp as number };
      return { partitionKey: e.body.tx_id as string, data: Buffer.from(JSON.stringify(event)) };
    });
    for (let i = 0; i < records.length; i += 500) await writer.put(records.slice(i, i + 500));
  }

  async function scanRows(firstCampaign: number, campaigns: number): Promise<AggregateRow[]> {
    const rows: AggregateRow[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await db.send(new ScanCommand({ TableName: tables.aggregates.name, ExclusiveStartKey: start }));
      rows.push(...((out.Items ?? []) as AggregateRow[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return rows.filter((r) => r.campaign_item_id >= firstCampaign && r.campaign_item_id < firstCampaign + campaigns);
  }

  async function latestPublished(): Promise<Map<string, AggregateRow>> {
    const latest = new Map<string, AggregateRow>();
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: streams.aggregates.name }));
    for (const shard of shards.Shards ?? []) {
      let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: streams.aggregates.name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      for (;;) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10000 }));
        for (const r of out.Records ?? []) {
          const row = JSON.parse(Buffer.from(r.Data!).toString()) as AggregateRow;
          const key = `${row.campaign_item_id}#${row.period}`;
          if ((latest.get(key)?.revision ?? -1) < row.revision) latest.set(key, row);
        }
        iterator = out.NextShardIterator;
        if ((out.Records ?? []).length === 0) break;
      }
    }
    return latest;
  }

  it.each([
    { seed: 1, probability: 0.03, firstCampaign: 1000 },
    { seed: 2, probability: 0.1, firstCampaign: 2000 },
  ])('counts every event exactly once with faults on %p of calls', async ({ seed, probability, firstCampaign }) => {
    const campaigns = 12;
    const workload = generateWorkload({ auctions: 1500, campaigns, firstCampaign, resendRate: 0.1, reorderRate: 0.3, seed, timeSpreadMs: 10 * 60_000 });
    faults.reset(seed, probability);

    const faultyHandler = withInvocationFaults(aggregator.handler as KinesisHandler, faults);

    await putEvents(workload, new StreamWriter(kinesis, streams.events.name));
    faults.enabled = true;

    const consumer = `aggregator-${seed}`;
    const poller = new StreamPoller({
      kinesis,
      streamName: streams.events.name,
      functionName: consumer,
      handler: faultyHandler,
      mapping: { batchSize: 100, maxBatchingWindowSeconds: 0.05, bisectBatchOnError: true, reportBatchItemFailures: true, retryAttempts: 1000 },
      checkpoints: new CheckpointStore(dataDir, consumer),
      deadLetters: new DeadLetterStore(dataDir, consumer),
      region: 'us-east-1',
      idlePollMs: 20,
      retryBaseDelayMs: 5,
    });
    const expectedTotal = [...workload.truth.values()].reduce((s, c) => s + c.bids + c.impressions + c.clicks, 0);
    try {
      await poller.start();
      let counted = 0;
      await waitFor(
        () => `every event to be counted (${counted} of ${expectedTotal}; faults ${JSON.stringify(faults.injected)}; shards ${JSON.stringify(poller.shards())})`,
        async () => {
          const rows = await scanRows(firstCampaign, campaigns);
          counted = rows.reduce((s, r) => s + r.bids + r.impressions + r.clicks, 0);
          return counted >= expectedTotal && poller.idle();
        },
        240_000,
        200,
      );
    } finally {
      await poller.stop();
      faults.enabled = false;
    }

    expect(faults.injected.before + faults.injected.after + faults.injected.invocation).toBeGreaterThan(20);
    expect(poller.deadLettered).toBe(0);
    const rows = await scanRows(firstCampaign, campaigns);
    const counted = new Map<number, { bids: number; impressions: number; clicks: number }>();
    for (const row of rows) {
      const c = counted.get(row.campaign_item_id) ?? { bids: 0, impressions: 0, clicks: 0 };
      c.bids += row.bids;
      c.impressions += row.impressions;
      c.clicks += row.clicks;
      counted.set(row.campaign_item_id, c);
    }
    expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(workload.truth));

    const published = await latestPublished();
    for (const row of rows) {
      const latest = published.get(`${row.campaign_item_id}#${row.period}`);
      expect(latest && { ...pick(latest), revision: latest.revision }).toEqual({ ...pick(row), revision: row.revision });
    }
  }, 300_000);
});

function pick(row: AggregateRow) {
  return Object.fromEntries(COUNTERS.map((c) => [c, row[c]]));
}
