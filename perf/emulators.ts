/**
 * Bench `emulators`: the ceilings of the emulator operations the aggregator path is built from,
 * each emulator started as the platform starts it (a worker thread, data on disk):
 * dynalite BatchWriteItem (25 join states, as the aggregator writes them), BatchGetItem (100 keys,
 * consistent), the aggregator's conditional UpdateItem on aggregate rows, and kinesalite
 * PutRecords and GetRecords; each twice in one run, the emulators as published and then with the
 * platform's speed-ups. With --cpu-prof the sped-up emulator threads run under V8's profiler and
 * the bench prints where their time went. No goals: these figures explain the other benches'.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startEmulator, type Emulator } from '../local/emulators';
import { DEFAULT_SHARDS } from '../local/platform';
import type { EmulatorKind, EmulatorMessage, EmulatorWorkerData } from '../local/emulator-worker';
import { ensureStream, ensureTable } from '../local/provision';
import { streams, tables } from '../schemas/resources';
import { stampedBid } from './support/load';
import { progress, type BenchResult, type Figure } from './support/report';
import { PerSecond, median, round } from './support/stats';
import { formatSummary, summariseDir } from './support/profile';

export interface EmulatorsOptions {
  seconds: number;
  cpuProfile: boolean;
}

export const emulatorsDefaults: EmulatorsOptions = { seconds: 5, cpuProfile: false };

interface Running {
  endpoint: string;
  worker?: Worker;
  stop(): Promise<void>;
}

/** As startEmulator (local/emulators.ts), but with the worker under V8's CPU profiler. */
function startProfiled(kind: EmulatorKind, dataDir: string, profileDir: string, speedups: boolean): Promise<Running> {
  const workerData: EmulatorWorkerData = { kind, path: join(dataDir, kind), port: 0, speedups };
  const worker = new Worker(join(__dirname, '..', 'local', 'emulator-worker.ts'), {
    workerData,
    execArgv: ['--require', require.resolve('tsx/cjs'), '--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  });
  return new Promise((resolve, reject) => {
    worker.on('message', (msg: EmulatorMessage) => {
      if (msg.type === 'listening') resolve({ endpoint: `http://127.0.0.1:${msg.port}`, worker, stop: async () => void (await worker.terminate()) });
      else if (msg.type === 'failed') reject(new Error(msg.message));
    });
    worker.once('error', reject);
  });
}

async function start(kind: EmulatorKind, dataDir: string, profileDir: string | undefined, speedups: boolean): Promise<Running> {
  if (profileDir) return startProfiled(kind, dataDir, profileDir, speedups);
  const emulator: Emulator = await startEmulator(kind, dataDir, 0, speedups);
  return { endpoint: emulator.endpoint, worker: (emulator as unknown as { worker?: Worker }).worker, stop: () => emulator.stop() };
}

const clientConfig = (endpoint: string) => ({
  region: 'us-east-1',
  endpoint,
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
});

interface Measured {
  perSecond: number;
  samples: number[];
  /** Share of the time the emulator's thread was busy. */
  busy: number;
  /** Main-thread (SDK client) busy time per call, ms: what each call costs the caller. */
  clientMsPerCall: number;
}

/** Runs `callers` loops of `op` (which returns how many units it did) for `seconds`; units/s median. */
async function measure(name: string, seconds: number, callers: number, worker: Worker | undefined, op: () => Promise<number>): Promise<Measured> {
  const perSecond = new PerSecond();
  const end = Date.now() + seconds * 1000;
  let calls = 0;
  perSecond.start();
  const elu = worker?.performance.eventLoopUtilization();
  const mainElu = performance.eventLoopUtilization();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < end) {
        perSecond.add(await op());
        calls++;
      }
    }),
  );
  perSecond.stop();
  const clientMsPerCall = performance.eventLoopUtilization(mainElu).active / calls;
  const busy = elu ? worker!.performance.eventLoopUtilization(elu).utilization : Number.NaN;
  progress(`${name}: per second ${perSecond.samples.join(', ')} (emulator thread busy ${Math.round(busy * 100)}%, client ${clientMsPerCall.toFixed(2)} ms per call)`);
  return { perSecond: median(perSecond.samples), samples: perSecond.samples, busy, clientMsPerCall };
}

type Results = Record<'batchWrite' | 'batchGet' | 'update' | 'putRecords' | 'getRecords', Measured>;

/** Every operation against one variant of the emulators: as published, or with our speed-ups. */
async function measureVariant(options: EmulatorsOptions, dir: string, profileDir: string | undefined, speedups: boolean): Promise<Results> {
  const variant = speedups ? 'sped up' : 'as published';
  const results: Partial<Results> = {};
  const dynalite = await start('dynamodb', join(dir, variant), profileDir, speedups);
  try {
    const raw = new DynamoDBClient(clientConfig(dynalite.endpoint));
    await Promise.all([ensureTable(raw, tables.txState), ensureTable(raw, tables.aggregates)]);
    const db = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
    const now = Date.now();
    let n = 0;
    const written: string[] = [];
    const seq = () => String(++n).padStart(64, '0');
    progress(`[${variant}] dynalite BatchWriteItem: 4 callers × 25 join states, ${options.seconds} s`);
    results.batchWrite = await measure('BatchWriteItem', options.seconds, 4, dynalite.worker, async () => {
      const items = Array.from({ length: 25 }, () => {
        const state_key = `campaigns#["t-${n}-${Math.random().toString(36).slice(2, 8)}"]`;
        written.push(state_key);
        const s = seq();
        return { PutRequest: { Item: { state_key, seq: s, slots: { bid: { time: now, seq: s, group: [n % 10] }, impression: { time: now + 50, seq: s } }, expires_at: Math.floor(now / 1000) + 604800 } } };
      });
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [tables.txState.name]: items } }));
      return items.length - (out.UnprocessedItems?.[tables.txState.name]?.length ?? 0);
    });
    progress(`[${variant}] dynalite BatchGetItem: 4 callers × 100 keys (consistent), ${options.seconds} s`);
    let k = 0;
    results.batchGet = await measure('BatchGetItem', options.seconds, 4, dynalite.worker, async () => {
      const keys = Array.from({ length: 100 }, () => ({ state_key: written[k++ % written.length] }));
      const out = await db.send(new BatchGetCommand({ RequestItems: { [tables.txState.name]: { Keys: keys, ConsistentRead: true } } }));
      return out.Responses?.[tables.txState.name]?.length ?? 0;
    });
    progress(`[${variant}] dynalite UpdateItem (the aggregator's fenced ADD on 20 rows): 16 callers, ${options.seconds} s`);
    let u = 0;
    results.update = await measure('UpdateItem', options.seconds, 16, dynalite.worker, async () => {
      const i = u++;
      await db.send(
        new UpdateCommand({
          TableName: tables.aggregates.name,
          Key: { group: `campaigns#[${i % 20}]`, period: 1_700_000_000 },
          UpdateExpression: 'ADD bids :b, impressions :i, clicks :c, revision :one SET #fence = :last, updated_at = :now',
          ConditionExpression: 'attribute_not_exists(#fence) OR #fence < :last',
          ExpressionAttributeNames: { '#fence': 'fence_shardId-000000000000' },
          ExpressionAttributeValues: { ':b': 30, ':i': 15, ':c': 3, ':one': 1, ':last': seq(), ':now': Date.now() },
          ReturnValues: 'ALL_NEW',
        }),
      ).catch((err: Error) => {
        if (err.name !== 'ConditionalCheckFailedException') throw err;
      });
      return 1;
    });
    db.destroy();
  } finally {
    await dynalite.stop();
  }

  const kinesalite = await start('kinesis', join(dir, variant), profileDir, speedups);
  try {
    const kinesis = new KinesisClient(clientConfig(kinesalite.endpoint));
    await ensureStream(kinesis, streams.events, DEFAULT_SHARDS);
    progress(`[${variant}] kinesalite PutRecords: 4 callers × 500 stamped bids, ${options.seconds} s`);
    results.putRecords = await measure('PutRecords', options.seconds, 4, kinesalite.worker, async () => {
      const Records = Array.from({ length: 500 }, () => ({ Data: stampedBid(), PartitionKey: `p-${Math.random()}` }));
      const out = await kinesis.send(new PutRecordsCommand({ StreamName: streams.events.name, Records }));
      return Records.length - (out.FailedRecordCount ?? 0);
    });
    const shardId = (await kinesis.send(new ListShardsCommand({ StreamName: streams.events.name }))).Shards![0].ShardId!;
    let iterator: string | undefined;
    progress(`[${variant}] kinesalite GetRecords(1000) of one shard, one reader as the poller reads a shard, ${options.seconds} s`);
    results.getRecords = await measure('GetRecords', options.seconds, 1, kinesalite.worker, async () => {
      iterator ??= (await kinesis.send(new GetShardIteratorCommand({ StreamName: streams.events.name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      iterator = out.Records?.length ? out.NextShardIterator : undefined; // at the tip: start over
      return out.Records?.length ?? 0;
    });
    kinesis.destroy();
  } finally {
    await kinesalite.stop();
  }
  return results as Results;
}

// What the ceilings imply for the aggregator, per 1000 stream records of the generated workload
// (about 0.6 auctions per record: one join state read and written per auction, ~20 row updates).
const perK = { statesWritten: 600, keysRead: 600, updates: 20, records: 1000 };
const impliedCeiling = (r: Results) => perK.records / (perK.statesWritten / r.batchWrite.perSecond + perK.keysRead / r.batchGet.perSecond + perK.updates / r.update.perSecond);

export async function runEmulators(options: EmulatorsOptions): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-bench-emulators-'));
  const profileDir = options.cpuProfile ? mkdtempSync(join(tmpdir(), 'sdp-bench-prof-')) : undefined;
  let published: Results;
  let sped: Results;
  try {
    published = await measureVariant(options, dir, undefined, false);
    sped = await measureVariant(options, dir, profileDir, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const clientMsPerK = sped.getRecords.clientMsPerCall + (perK.keysRead / 100) * sped.batchGet.clientMsPerCall + (perK.statesWritten / 25) * sped.batchWrite.clientMsPerCall + perK.updates * sped.update.clientMsPerCall;
  const row = (key: keyof Results, label: string, unit: string, how: string): Figure => ({
    key: `${key}_per_s`,
    label,
    value: sped[key].perSecond,
    unit,
    note: `${how}; as published ${round(published[key].perSecond)} (${round(sped[key].perSecond / published[key].perSecond)}×); thread busy ${Math.round(sped[key].busy * 100)}%; client ${sped[key].clientMsPerCall.toFixed(2)} ms/call`,
  });
  const figures: Figure[] = [
    row('batchWrite', 'dynalite BatchWriteItem', 'items/s', '25 join states per call, 4 callers'),
    row('batchGet', 'dynalite BatchGetItem', 'keys/s', '100 keys per call, 4 callers'),
    row('update', 'dynalite UpdateItem (fenced ADD)', 'ops/s', '16 callers on 20 rows'),
    row('putRecords', 'kinesalite PutRecords', 'records/s', '500 records per call, 4 callers'),
    row('getRecords', 'kinesalite GetRecords', 'records/s', 'Limit 1000, one reader'),
    { key: 'implied_aggregator_client_ms_per_1k', label: 'SDK client main-thread time per 1000 records', value: clientMsPerK, unit: 'ms', note: '≈ 1 GetRecords(1000) + 6 BatchGet(100) + 24 BatchWrite(25) + 20 UpdateItem' },
    { key: 'implied_aggregator_ceiling', label: 'aggregator ceiling implied by dynalite', value: impliedCeiling(sped), unit: 'records/s', note: `one dynalite thread: 0.6 state writes + 0.6 key reads + 0.02 row updates per record; as published ${round(impliedCeiling(published))}` },
  ];
  const notes = ['Each emulator is measured as published and then with the speed-ups the platform runs it with (local/kinesalite-sequences.ts, local/dynalite-speedups.ts), one after the other in this run.'];
  if (profileDir) {
    for (const summary of summariseDir(profileDir, 12)) notes.push(...formatSummary(summary));
    notes.push(`profiles (sped-up variant) kept in ${profileDir} (dynalite first, then kinesalite, by start time in the file name)`);
  }
  const perVariant = (r: Results) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { samples: v.samples, busy: round(v.busy), clientMsPerCall: round(v.clientMsPerCall) }]));
  return { bench: 'emulators', figures, notes, details: { options, published: perVariant(published), spedUp: perVariant(sped) } };
}
