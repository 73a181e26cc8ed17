/**
 * The aggregator on its own, in this process, for fault tests and the exactness benchmark:
 * kinesalite and dynalite in worker threads, the streams and tables provisioned, the unchanged
 * aggregator handler loaded with a FaultInjector on its DynamoDB and Kinesis clients, and helpers
 * to put a workload on the events stream and read back the rows it produced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { streams, tables } from '../schemas/resources';
import { feedRowOf, type AggregateRow, type AggregationRow } from '../schemas/aggregates';
import { activePipeline, loadPipelines, usePipeline } from '../schemas/active-pipeline';
import { streamOf } from '../schemas/pipeline';
import { partitionKeyOf } from '../schemas/stream-record';
import { StreamWriter } from '../lambdas/commons/stream-writer';
import { startEmulator, type Emulator } from './emulators';
import { ensureStream, ensureTable } from './provision';
import { FaultInjector, injectFaults, throttled, withInvocationFaults } from './faults';
import { StreamPoller, type KinesisHandler, type PollerOptions } from './stream-poller';
import { CheckpointStore } from './checkpoints';
import { DeadLetterStore } from './dead-letters';
import type { Counts, Workload } from '../pipelines/adtech/workload';
import { waitFor } from './wait';

export interface AggregatorRig {
  dataDir: string;
  kinesisEmulator: Emulator;
  dynamoEmulator: Emulator;
  kinesis: KinesisClient;
  db: DynamoDBDocumentClient;
  faults: FaultInjector;
  /** The aggregator handler as deployed. */
  handler: KinesisHandler;
  /** The same handler with whole invocations failing when the injector says so. */
  faultyHandler: KinesisHandler;
  /** Puts a workload's events on the events stream as the ingestion API would (all received now). */
  putWorkload(workload: Workload): Promise<void>;
  /** Puts events of a declared stream (client bodies, `timestamp` in epoch ms) as the ingestion API would (all received now). */
  putEvents(stream: string, bodies: readonly Record<string, unknown>[]): Promise<void>;
  /** A poller feeding `handler` from the events stream like Lambda's event source mapping, fast-paced for tests. */
  poller(consumer: string, handler: KinesisHandler, mapping: Partial<PollerOptions['mapping']>): StreamPoller;
  /** Runs such a poller until it has consumed the stream (within `timeoutMs`), then stops it. */
  consume(consumer: string, handler: KinesisHandler, mapping: Partial<PollerOptions['mapping']>, timeoutMs?: number): Promise<StreamPoller>;
  /** Aggregate rows of campaigns firstCampaign .. firstCampaign + campaigns - 1. */
  campaignRows(firstCampaign: number, campaigns: number): Promise<AggregateRow[]>;
  /** Every stored row of an aggregation, as the feed publishes them. */
  aggregationRows(aggregation: string): Promise<AggregationRow[]>;
  stop(): Promise<void>;
}

/** Sums rows per campaign, to compare with a workload's truth. */
export function countedByCampaign(rows: readonly AggregateRow[]): Map<number, Counts> {
  const counted = new Map<number, Counts>();
  for (const row of rows) {
    const c = counted.get(row.campaign_item_id) ?? { bids: 0, impressions: 0, clicks: 0 };
    c.bids += row.bids;
    c.impressions += row.impressions;
    c.clicks += row.clicks;
    counted.set(row.campaign_item_id, c);
  }
  return counted;
}

/**
 * `pipelines`: the pipelines the aggregator runs (shipped names or files; default the environment's,
 * else ad-tech), loaded before the handler.
 */
export async function startAggregatorRig(options: { shards: number; dataDirPrefix?: string; pipelines?: readonly string[] }): Promise<AggregatorRig> {
  if (options.pipelines) {
    const loaded = loadPipelines(options.pipelines);
    usePipeline(loaded.pipeline, loaded.files);
  }
  const dataDir = mkdtempSync(join(tmpdir(), options.dataDirPrefix ?? 'sdp-aggregator-'));
  const [kinesisEmulator, dynamoEmulator] = await Promise.all([startEmulator('kinesis', dataDir), startEmulator('dynamodb', dataDir)]);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_KINESIS: kinesisEmulator.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEmulator.endpoint,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // Generated events are on time: the rig is about exactly once; lateness has its own tests.
    ALLOWED_LATENESS_SECONDS: String(365 * 24 * 3600),
  });
  const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
  await ensureStream(kinesis, streams.events, options.shards);
  await ensureStream(kinesis, streams.aggregates, 1);
  const dynamo = new DynamoDBClient({});
  await Promise.all(Object.values(tables).map((t) => ensureTable(dynamo, t)));
  const db = DynamoDBDocumentClient.from(dynamo);

  // The handler and its clients read the environment when loaded, so they are loaded after it is set.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const clients = require('../lambdas/commons/clients') as typeof import('../lambdas/commons/clients');
  const handler = (require('../lambdas/aggregator/handler') as typeof import('../lambdas/aggregator/handler')).handler as KinesisHandler;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const faults = new FaultInjector();
  // A DynamoDB call failing before it is applied fails as a provisioned table past its capacity does (throttled).
  injectFaults(clients.dynamo(), faults, 'DynamoDB', throttled);
  injectFaults(clients.kinesis(), faults, 'Kinesis');
  const writer = new StreamWriter(kinesis, streams.events.name);
  const scan = async (): Promise<Record<string, unknown>[]> => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await db.send(new ScanCommand({ TableName: tables.aggregates.name, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  };

  const poller: AggregatorRig['poller'] = (consumer, handler, mapping) =>
    new StreamPoller({
      kinesis,
      streamName: streams.events.name,
      functionName: consumer,
      handler,
      mapping: { batchSize: 100, maxBatchingWindowSeconds: 0.05, bisectBatchOnError: true, reportBatchItemFailures: true, retryAttempts: 1000, ...mapping },
      checkpoints: new CheckpointStore(dataDir, consumer),
      deadLetters: new DeadLetterStore(dataDir, consumer),
      region: 'us-east-1',
      idlePollMs: 20,
      retryBaseDelayMs: 5,
    });

  return {
    dataDir,
    kinesisEmulator,
    dynamoEmulator,
    kinesis,
    db,
    faults,
    handler,
    faultyHandler: withInvocationFaults(handler, faults),
    async putWorkload(workload) {
      const now = Date.now();
      const records = workload.events.map((e) => {
        const event = { ...e.body, type: e.type, received_at: now, event_time: e.body.timestamp as number };
        return { partitionKey: e.body.tx_id as string, data: Buffer.from(JSON.stringify(event)) };
      });
      for (let i = 0; i < records.length; i += 500) await writer.put(records.slice(i, i + 500));
    },
    async putEvents(streamName, bodies) {
      const stream = streamOf(activePipeline(), streamName);
      const now = Date.now();
      const records = bodies.map((body) => {
        const event = { ...body, type: stream.name, received_at: now, event_time: (body.timestamp as number | undefined) ?? now };
        return { partitionKey: partitionKeyOf(stream, event), data: Buffer.from(JSON.stringify(event)) };
      });
      for (let i = 0; i < records.length; i += 500) await writer.put(records.slice(i, i + 500));
    },
    poller,
    async consume(consumer, handler, mapping, timeoutMs = 240_000) {
      const running = poller(consumer, handler, mapping);
      try {
        await running.start();
        await waitFor(() => `the stream to be consumed (shards ${JSON.stringify(running.shards())})`, async () => running.idle(), timeoutMs, 200);
      } finally {
        await running.stop();
      }
      return running;
    },
    async campaignRows(firstCampaign, campaigns) {
      const rows = (await scan()) as unknown as AggregateRow[];
      return rows.filter((r) => r.campaign_item_id >= firstCampaign && r.campaign_item_id < firstCampaign + campaigns);
    },
    async aggregationRows(aggregation) {
      return (await scan()).filter((item) => item.aggregation === aggregation).map(feedRowOf);
    },
    async stop() {
      await Promise.all([kinesisEmulator.stop(), dynamoEmulator.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
