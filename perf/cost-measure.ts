/**
 * `npm run bench -- cost --measure`: measures, on the local platform, the per-event figures that
 * `sdp cost` multiplies by prices, and writes them to perf/cost-measurements.json (with the commit
 * and the date). The platform runs with SDP_MEASURE_CAPACITY=1 (local/capacity-meter.ts), so the
 * emulators count DynamoDB request units by table and S3 requests by method. Phases:
 *  1. trickle: single events a little over a second apart, each POST timed — the stream consumers'
 *     handler time for batches of about one record, the ingestion request's time for one event;
 *  2. arrays: POSTs of 100 events, one at a time, each timed — the request's time for 100 events;
 *  3. blueprint traffic (`sdp generate`'s workload: wins, clicks, 5 % resends) in arrays of 100:
 *     request units, S3 requests, handler time of full batches, log bytes — per event.
 * Then the streams are read whole (records and bytes per event, by event type) and the lake and
 * the tables are listed (bytes stored per event). Handler times are local wall times on this
 * machine against the emulators, not Lambda's: they say so in the file.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { emulatorClientConfig, emulatorS3Client } from '../local/emulators';
import { generateWorkload } from '../pipelines/adtech/workload';
import { generateTraffic, type TrafficEvent } from '../local/traffic';
import { activePipeline, loadPipelines, pipelineEnv, usePipeline } from '../schemas/active-pipeline';
import { sendEvents } from '../local/send';
import { lakeBucket, streams, tables } from '../schemas/resources';
import type { ConsumerState, ConsumerStatus } from '../local/consumer-worker';
import { MEASURE_CAPACITY_ENV } from '../local/capacity-meter';
import { MEASUREMENTS_FILE, measurementsFile, MeasurementsSchema, type Measurements } from '../local/cost/measurements';
import { PlatformProcess, type RequestStats } from './support/platform-process';
import { progress } from './support/report';

export interface MeasureOptions {
  /** The pipeline measured, a shipped name (default adtech: the blueprint's auctions; others: local/traffic.ts's generated traffic). */
  pipeline?: string;
  /** Auctions of blueprint traffic sent as fast as the platform takes them (large batches). */
  auctions: number;
  /**
   * Auctions of blueprint traffic sent at `pacedRate` events/s (small batches: the local poller
   * reads about four times a second), then as many at `pacedRate × MIDDLE_RATE_FACTOR` (batches of
   * about a hundred: what Lambda, reading once a second, makes of 100 events/s), so the bill at
   * 100 events/s is measured, not interpolated between the small batches and the large.
   */
  pacedAuctions: number;
  pacedRate: number;
  trickleEvents: number;
  arrayRequests: number;
}

const ROOT = join(__dirname, '..');
const ARRAY_SIZE = 100;
const MIDDLE_RATE_FACTOR = 5;
/** Longest wait for the consumers to take in everything sent. */
const DRAIN_TIMEOUT_MS = 120_000;

const delta = (after: RequestStats, before: RequestStats, kind: string, key: string) => (after[kind]?.[key] ?? 0) - (before[kind]?.[key] ?? 0);

async function post(url: string, body: unknown): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`POST ${url} answered ${res.status}`);
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Consumers = Record<string, ConsumerStatus>;
function consumersUp(states: Record<string, ConsumerState>): Consumers {
  for (const [name, s] of Object.entries(states)) if ('down' in s) throw new Error(`consumer ${name} is down: ${s.down}`);
  return states as Consumers;
}

/** Waits until every consumer has nothing pending and its delivered records stop changing for `quietMs`. */
async function drained(platform: PlatformProcess, quietMs: number): Promise<Consumers> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let last = '';
  let since = Date.now();
  for (;;) {
    const raw = await platform.consumerStatus();
    // A busy consumer thread may not answer its status in time: ask again, until the deadline.
    const busy = Object.values(raw).find((s): s is { down: string } => 'down' in s && s.down.includes('not answering'));
    if (busy) {
      if (Date.now() > deadline) throw new Error(`a consumer did not answer: ${busy.down}`);
      await sleep(250);
      continue;
    }
    const states = consumersUp(raw);
    const pending = Object.values(states).reduce((n, s) => n + s.shards.reduce((m, sh) => m + sh.pending, 0), 0);
    const key = JSON.stringify(Object.values(states).map((s) => s.recordsDelivered));
    if (key !== last) {
      last = key;
      since = Date.now();
    } else if (pending === 0 && Date.now() - since >= quietMs) return states;
    if (Date.now() > deadline) throw new Error(`the consumers did not drain within ${DRAIN_TIMEOUT_MS / 1000} s`);
    await sleep(250);
  }
}

interface Snapshot {
  invocations: number;
  records: number;
  ms: number;
}
const snapshot = (c: ConsumerStatus | undefined): Snapshot => ({ invocations: c?.invocations ?? 0, records: c?.recordsDelivered ?? 0, ms: c?.handlerMs ?? 0 });
const between = (a: Snapshot, b: Snapshot): Snapshot => ({ invocations: b.invocations - a.invocations, records: b.records - a.records, ms: b.ms - a.ms });

/** Two (records per invocation, ms per invocation) points → fixed ms + ms per record (never negative). */
function fit(small: Snapshot, large: Snapshot): { fixedMs: number; perRecordMs: number; recordsPerInvocation: number } {
  const r1 = small.records / Math.max(1, small.invocations);
  const t1 = small.ms / Math.max(1, small.invocations);
  const r2 = large.records / Math.max(1, large.invocations);
  const t2 = large.ms / Math.max(1, large.invocations);
  const perRecordMs = r2 > r1 ? Math.max(0, (t2 - t1) / (r2 - r1)) : t2 / Math.max(1, r2);
  return { fixedMs: Math.max(0, t1 - perRecordMs * r1), perRecordMs, recordsPerInvocation: r2 };
}

/** Every record of a stream: count, bytes, and bytes by event type (the records' `type` field, when JSON). */
async function readStream(kinesis: KinesisClient, name: string): Promise<{ records: number; bytes: number; byType: Record<string, { n: number; bytes: number }> }> {
  const out = { records: 0, bytes: 0, byType: {} as Record<string, { n: number; bytes: number }> };
  const { StreamDescription } = await kinesis.send(new DescribeStreamCommand({ StreamName: name }));
  for (const shard of StreamDescription?.Shards ?? []) {
    let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) {
        const bytes = (r.Data?.length ?? 0) + Buffer.byteLength(r.PartitionKey ?? '');
        out.records++;
        out.bytes += bytes;
        let type = 'other';
        try {
          const parsed = JSON.parse(Buffer.from(r.Data ?? []).toString('utf8')) as { type?: unknown };
          if (typeof parsed.type === 'string') type = parsed.type;
        } catch {
          // not JSON: counted as "other"
        }
        const t = (out.byType[type] ??= { n: 0, bytes: 0 });
        t.n++;
        t.bytes += bytes;
      }
      if (!page.Records?.length) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

/** DynamoDB's item size: attribute names plus values (strings and numbers by their text). */
function itemBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  const value = (v: AttributeValue): number => {
    if (v.S !== undefined) return Buffer.byteLength(v.S);
    if (v.N !== undefined) return Math.ceil(v.N.length / 2) + 1;
    if (v.B !== undefined) return v.B.length;
    if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
    if (v.SS) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0);
    if (v.NS) return v.NS.reduce((s, x) => s + x.length, 0);
    if (v.L) return 3 + v.L.reduce((s, x) => s + 1 + value(x), 0);
    if (v.M) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + value(x), 0);
    return 0;
  };
  for (const [k, v] of Object.entries(item)) n += Buffer.byteLength(k) + value(v);
  return n;
}

async function tableBytes(dynamo: DynamoDBClient, table: string): Promise<number> {
  let bytes = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) bytes += itemBytes(item);
    start = page.LastEvaluatedKey;
  } while (start);
  return bytes;
}

/**
 * The traffic of each phase: adtech's blueprint auctions (wins, clicks, 5 % resends), or for
 * another pipeline its generated traffic (local/traffic.ts), as many root events as auctions.
 */
function phaseTraffic(pipeline: string, options: MeasureOptions) {
  const singles = options.trickleEvents + options.arrayRequests * ARRAY_SIZE;
  if (pipeline === 'adtech') {
    const blueprint = (auctions: number, seed: number, resendRate = 0.05) => generateWorkload({ auctions, campaigns: 50, seed, resendRate, winModel: true }).events as TrafficEvent[];
    return { paced: blueprint(options.pacedAuctions, 6), middle: blueprint(options.pacedAuctions, 9), workload: blueprint(options.auctions, 7), extra: blueprint(singles, 8, 0).filter((e) => e.type === 'bid') };
  }
  const generated = (events: number, seed: number, resendRate = 0.05) => generateTraffic(activePipeline(), { events, seed, resendRate, timeSpreadMs: 600_000 }).events;
  const root = activePipeline().streams[0].name;
  return { paced: generated(options.pacedAuctions, 6), middle: generated(options.pacedAuctions, 9), workload: generated(options.auctions, 7), extra: generated(singles, 8, 0).filter((e) => e.type === root) };
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    // The measurements file itself does not make the measured code differ from the commit.
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', `:!${MEASUREMENTS_FILE}`, ':!perf/cost-measurements.*.json'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+uncommitted` : sha;
  } catch {
    return 'unknown';
  }
}

export async function measureCosts(options: MeasureOptions): Promise<Measurements> {
  const pipelineName = options.pipeline ?? 'adtech';
  const outFile = measurementsFile(pipelineName);
  if (pipelineName !== 'adtech') {
    const { pipeline, files } = loadPipelines([pipelineName]);
    usePipeline(pipeline, files);
    Object.assign(process.env, pipelineEnv());
  }
  const routes = Object.fromEntries(activePipeline().streams.map((s) => [s.name, s.route.replace(/^\//, '')]));
  process.env[MEASURE_CAPACITY_ENV] = '1';
  const logBytes: Record<string, number> = {};
  let countLogs = false;
  const log = (line: string) => {
    if (!countLogs) return;
    try {
      const service = (JSON.parse(line) as { service?: unknown }).service;
      if (typeof service === 'string') logBytes[service] = (logBytes[service] ?? 0) + Buffer.byteLength(line) + 1;
    } catch {
      // the platform's own lines: not a function's logs
    }
  };
  progress(`cost: measuring pipeline ${pipelineName}`);
  progress('cost: starting the local platform (1 shard, as the template) with capacity metering');
  const platform = await PlatformProcess.start({ shards: 1, log });
  try {
    const api = platform.outputs.UrlForAPI.replace(/\/?$/, '/');
    const { paced, middle, workload, extra } = phaseTraffic(pipelineName, options);

    // 1. trickle: single events a little over a second apart.
    progress(`cost: trickle of ${options.trickleEvents} single events, 1.2 s apart`);
    const start = consumersUp(await platform.consumerStatus());
    const singleMs: number[] = [];
    for (const e of extra.slice(0, options.trickleEvents)) {
      singleMs.push(await post(`${api}${routes[e.type]}`, e.body));
      await sleep(1200);
    }
    const afterTrickle = await drained(platform, 6000);

    // 2. arrays of 100, one request at a time.
    progress(`cost: ${options.arrayRequests} arrays of ${ARRAY_SIZE}, one at a time`);
    const arrayMs: number[] = [];
    const arrays = extra.slice(options.trickleEvents);
    for (let i = 0; i < options.arrayRequests; i++) arrayMs.push(await post(`${api}${routes[arrays[0].type]}`, arrays.slice(i * ARRAY_SIZE, (i + 1) * ARRAY_SIZE).map((e) => e.body)));
    await drained(platform, 6000);

    // 3. blueprint traffic in arrays of 100: paced (small batches), then as fast as taken (large batches).
    countLogs = true;
    const phase = async (events: TrafficEvent[], eventsPerSecond: number | undefined) => {
      progress(`cost: blueprint traffic, ${events.length} events in arrays of ${ARRAY_SIZE}${eventsPerSecond ? ` at ${eventsPerSecond} events/s` : ', as fast as taken'}`);
      const stats = await platform.requestStats();
      const consumers = consumersUp(await platform.consumerStatus());
      const sent = await sendEvents(api, events, { batchSize: ARRAY_SIZE, concurrency: 4, eventsPerSecond, routes });
      const after = await drained(platform, 7000);
      return { sent, statsBefore: stats, statsAfter: await platform.requestStats(), before: consumers, after };
    };
    const small = await phase(paced, options.pacedRate);
    const medium = await phase(middle, options.pacedRate * MIDDLE_RATE_FACTOR);
    const large = await phase(workload, undefined);
    countLogs = false;
    const beforeLoad = small.before;
    const afterLoad = large.after;
    const statsBefore = small.statsBefore;
    const statsAfter = large.statsAfter;
    const phases = [small, medium, large];
    const loadEvents = phases.reduce((n, p) => n + p.sent.events, 0);
    const allEvents = options.trickleEvents + options.arrayRequests * ARRAY_SIZE + loadEvents;

    // Streams, tables and the lake, read whole.
    progress('cost: reading the streams, tables and lake');
    const kinesis = new KinesisClient(emulatorClientConfig(platform.outputs.KinesisEndpoint));
    const dynamo = new DynamoDBClient(emulatorClientConfig(platform.outputs.DynamoDBEndpoint));
    const s3 = emulatorS3Client(platform.outputs.S3Endpoint);
    const streamFigures: Measurements['streams'] = {};
    for (const s of Object.values(streams)) {
      const read = await readStream(kinesis, s.name);
      const byType = Object.fromEntries(Object.entries(read.byType).filter(([t]) => t !== 'other').map(([t, v]) => [t, v.bytes / v.n]));
      streamFigures[s.name] = { recordsPerEvent: read.records / allEvents, bytesPerRecord: read.records ? read.bytes / read.records : 0, ...(Object.keys(byType).length ? { bytesPerRecordByType: byType } : {}) };
    }
    const tableFigures: Measurements['tables'] = {};
    const consumerFunctions: Record<string, string[]> = { aggregator: ['aggregator'], 'lake-writer': ['lake-writer-events', 'lake-writer-aggregates'] };
    // Records per invocation of a function's first consumer (its events stream) over a phase.
    const batchOf = (p: typeof small) =>
      Object.fromEntries(Object.entries(consumerFunctions).map(([fn, [c]]) => {
        const d = between(snapshot(p.before[c]), snapshot(p.after[c]));
        return [fn, d.records / Math.max(1, d.invocations)];
      }));
    for (const t of Object.values(tables)) {
      const sample = (p: typeof small) => {
        const per = (key: string) => delta(p.statsAfter, p.statsBefore, 'dynamodb', key) / p.sent.events;
        return {
          batchRecords: batchOf(p),
          writeUnitsPerEvent: per(`units:write:${t.name}`),
          readUnitsPerEvent: per(`units:read:${t.name}`),
          itemWritesPerEvent: per(`items:write:${t.name}`),
          itemReadsPerEvent: per(`items:read:${t.name}`),
          queriesPerEvent: per(`queries:${t.name}`),
        };
      };
      tableFigures[t.name] = { samples: phases.map(sample), storedBytesPerEvent: (await tableBytes(dynamo, t.name)) / allEvents };
    }
    let lakeBytes = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: lakeBucket.name, ContinuationToken: token }));
      for (const o of page.Contents ?? []) lakeBytes += o.Size ?? 0;
      token = page.NextContinuationToken;
    } while (token);
    const s3Delta = (method: string) => delta(statsAfter, statsBefore, 's3', `s3:${method}`) / loadEvents;
    const lakeWriterCalls = consumerFunctions['lake-writer'].reduce((n, c) => n + between(snapshot(beforeLoad[c]), snapshot(afterLoad[c])).invocations, 0);
    const perCall = (method: string) => delta(statsAfter, statsBefore, 's3', `s3:${method}`) / Math.max(1, lakeWriterCalls);
    // Keyed as `sdp cost` names buckets: by the environment variable handing them to functions (LAKE_BUCKET_NAME → lake).
    const bucketFigures: Measurements['buckets'] = {
      [lakeBucket.env.replace(/_BUCKET_NAME$/, '').toLowerCase()]: {
        putsPerEvent: s3Delta('PUT') + s3Delta('POST'),
        getsPerEvent: s3Delta('GET'),
        otherRequestsPerEvent: s3Delta('HEAD') + s3Delta('DELETE'),
        bytesPerEvent: lakeBytes / allEvents,
        perInvocation: { function: 'lake-writer', puts: perCall('PUT') + perCall('POST'), gets: perCall('GET'), other: perCall('HEAD') + perCall('DELETE') },
      },
    };

    // Functions: handler time per invocation, fitted on the trickle (about one record) and the load (full batches).
    const functionFigures: Measurements['functions'] = {};
    for (const [fn, consumers] of Object.entries(consumerFunctions)) {
      const sum = (states: Consumers) => consumers.map((c) => snapshot(states[c])).reduce((a, b) => ({ invocations: a.invocations + b.invocations, records: a.records + b.records, ms: a.ms + b.ms }));
      const trickle = between(sum(start), sum(afterTrickle));
      const load = between(sum(beforeLoad), sum(afterLoad));
      functionFigures[fn] = { ...fit(trickle, load), logBytesPerInvocation: (logBytes[fn] ?? 0) / Math.max(1, load.invocations), logBytesPerRecord: 0 };
    }
    const single = median(singleMs);
    const array = median(arrayMs);
    const perEvent = Math.max(0, (array - single) / (ARRAY_SIZE - 1));
    const ingestRequests = phases.reduce((n, p) => n + p.sent.requests, 0);
    functionFigures.ingest = { fixedMs: Math.max(0, single - perEvent), perRecordMs: perEvent, recordsPerInvocation: loadEvents / Math.max(1, ingestRequests), logBytesPerInvocation: (logBytes.ingest ?? 0) / Math.max(1, ingestRequests), logBytesPerRecord: 0 };

    const byType: Record<string, number> = Object.fromEntries(activePipeline().streams.map((s) => [s.name, 0]));
    const blueprint = [...paced, ...middle, ...workload];
    for (const e of blueprint) byType[e.type]++;
    const measurements: Measurements = MeasurementsSchema.parse({
      measuredAt: new Date().toISOString(),
      commit: commit(),
      command: `npm run bench -- cost --measure${pipelineName === 'adtech' ? '' : ` --pipeline ${pipelineName}`}`,
      note: `local platform on this machine (${process.platform}, ${process.arch}): request units, records, bytes and S3 requests are counted as AWS bills them; handler times are local wall times against the emulators (ingest: POST round trip), not Lambda's`,
      workload: {
        events: allEvents,
        ...(pipelineName === 'adtech' && { auctions: options.auctions + 2 * options.pacedAuctions }),
        eventsPerRequest: loadEvents / Math.max(1, ingestRequests),
        mix: Object.fromEntries(Object.entries(byType).map(([t, n]) => [t, n / blueprint.length])),
      },
      streams: streamFigures,
      tables: tableFigures,
      buckets: bucketFigures,
      functions: functionFigures,
    });
    writeFileSync(join(ROOT, outFile), `${JSON.stringify(measurements, null, 2)}\n`);
    progress(`cost: wrote ${outFile}`);
    return measurements;
  } finally {
    await platform.stop();
    delete process.env[MEASURE_CAPACITY_ENV];
  }
}
