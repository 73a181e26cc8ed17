/**
 * Bench `pipeline`: generated traffic end to end on the local platform (in its own process), each
 * run on a fresh platform: the workload sent as fast as it is accepted, --runs times (the median run
 * is kept), then offered at a steady --freshness-rate (default half the throughput goal), since
 * freshness under a load above capacity only measures the backlog. `--rate N` makes one run at N events/s.
 *  - sustained events/s: distinct events / (first send → every campaign's report exact), in the
 *    unthrottled run (goal ≥ 5,000);
 *  - freshness: a probe bid every --probe-ms to a dedicated campaign, timed from POST start to the
 *    first report read that counts it (p50/p99; goal p99 ≤ 2 s at the steady rate);
 *  - DynamoDB requests per stream record on the aggregator path (emulator request counts:
 *    BatchGetItem + BatchWriteItem + UpdateItem + GetItem (+ PutItem, DeleteItem), Query excluded as
 *    it is the report polling) / records on the stream (goal ≤ 0.25).
 * Probes are exact, not estimated: all probe tx_ids hash to the same shard and each probe is posted
 * only after the previous one was accepted, so the stream holds them in probe order and the
 * shard's in-order processing makes "the report counts n probe bids" mean "probes 1..n are in".
 */
import { DEFAULT_SHARDS } from '../local/platform';
import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { generateWorkload, type WorkloadEvent } from '../pipelines/adtech/workload';
import { readReport } from './support/reports';
import { sendEvents, type SendOptions, type SendResult } from '../local/send';
import { streams } from '../schemas/resources';
import { PlatformProcess, cpuBetween, ownCores, statsDelta } from './support/platform-process';
import type { CpuSnapshot } from './support/platform-child';
import { progress, type BenchResult, type Figure } from './support/report';
import { machineCores, machineCpu, percentile, round, sleep, sum } from './support/stats';
import { formatSummary, summariseDir } from './support/profile';
import { waitForConsumer } from './support/load';
import { runDeclaredPipeline } from './pipeline-declared';

export interface PipelineOptions {
  /** The pipeline run: adtech (this file's workload, probes and campaign truth) or any other by name or file (pipeline-declared.ts). */
  pipeline: string;
  events: number;
  campaigns: number;
  batchSize: number;
  concurrency: number;
  /** Reorder events by type within windows of this many events so arrays fill up (0: keep the order). */
  groupWindow: number;
  probeMs: number;
  /** Offered load in events/s (0: as fast as the API accepts them). */
  rate: number;
  /** With rate 0, a further run at this many events/s measures freshness (0: none). */
  freshnessRate: number;
  /** With rate 0, unthrottled runs, each on a fresh platform; the median run's figures are kept. */
  runs: number;
  /** Seconds of probes before the load starts: the freshness floor of an idle platform. */
  idleProbeSeconds: number;
  timeoutSeconds: number;
  shards: number;
  cpuProfile: boolean;
  /** Run kinesalite and dynalite as published, without the platform's speed-ups. */
  publishedEmulators: boolean;
}

export const pipelineDefaults: PipelineOptions = {
  pipeline: 'adtech',
  events: 100_000,
  campaigns: 10,
  batchSize: 100,
  concurrency: 8,
  groupWindow: 300,
  probeMs: 100,
  rate: 0,
  freshnessRate: 2500,
  runs: 3,
  idleProbeSeconds: 3,
  timeoutSeconds: 150,
  shards: DEFAULT_SHARDS,
  cpuProfile: false,
  publishedEmulators: false,
};

/** The issue's goals: sustained events/s end to end, freshness p99, DynamoDB requests per record. */
const THROUGHPUT_GOAL = 5000;
const FRESHNESS_P99_GOAL_MS = 2000;
const REQUESTS_PER_RECORD_GOAL = 0.25;
/** How long a run waits, after the reports, for the lake writer to catch up (information only). */
const LAKE_WAIT_MS = 180_000;

const FIRST_CAMPAIGN = 1;
const PROBE_CAMPAIGN = 990_001;
/** DynamoDB operations the aggregator may make; Query and table management are not on its path. */
const AGGREGATOR_OPS = ['BatchGetItem', 'BatchWriteItem', 'UpdateItem', 'GetItem', 'PutItem', 'DeleteItem'];

/**
 * Sorts each window of events by type (stable). sendEvents now fills each type's arrays on its own
 * (local/send-plan.ts), so this no longer changes how full arrays are, only the order in which the
 * types are sent; kept so the bench's runs stay comparable with earlier ones (--group-window 1 turns
 * it off). Impressions and clicks may arrive before their bid, which the aggregator joins anyway.
 */
export function groupByType(events: readonly WorkloadEvent[], window: number): WorkloadEvent[] {
  if (window <= 1) return [...events];
  const order: Record<string, number> = { bid: 0, impression: 1, click: 2 };
  const out: WorkloadEvent[] = [];
  for (let i = 0; i < events.length; i += window) {
    out.push(...events.slice(i, i + window).sort((a, b) => order[a.type] - order[b.type]));
  }
  return out;
}

/**
 * Sends at a steady offered rate: a slice of rate/10 events every 100 ms, each slice sent with
 * sendEvents without waiting for the previous one, so slow answers do not lower the offered rate.
 */
async function sendAtRate(api: string, events: WorkloadEvent[], rate: number, options: SendOptions): Promise<SendResult> {
  const slice = Math.max(1, Math.round(rate / 10));
  const started = performance.now();
  const pending: Promise<SendResult>[] = [];
  let sent = 0;
  for (let i = 0; i * slice < events.length; i++) {
    const wait = started + i * 100 - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      sendEvents(api, events.slice(i * slice, (i + 1) * slice), { ...options, onProgress: undefined }).then((r) => {
        sent += r.events;
        options.onProgress?.(sent);
        return r;
      }),
    );
  }
  const results = await Promise.all(pending);
  return { requests: sum(results.map((r) => r.requests)), retries: sum(results.map((r) => r.retries)), events: sum(results.map((r) => r.events)) };
}

function kinesisClient(endpoint: string): KinesisClient {
  return new KinesisClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true }) }),
  });
}

/** Kinesis routes a record by the MD5 of its partition key, read as a 128-bit unsigned integer. */
function hashKey(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** Probe tx_ids that all land on `shard`, so the stream keeps them in the order they are posted. */
function probeIds(shard: Shard, prefix: string): () => string {
  const lo = BigInt(shard.HashKeyRange!.StartingHashKey!);
  const hi = BigInt(shard.HashKeyRange!.EndingHashKey!);
  let i = 0;
  return () => {
    i++;
    for (let salt = 0; ; salt++) {
      const id = `${prefix}-${i}-${salt}`;
      const h = hashKey(id);
      if (h >= lo && h <= hi) return id;
    }
  };
}

/** Counts the records on the stream (every shard, from the start): what the aggregator processed. */
async function streamRecords(kinesis: KinesisClient): Promise<number> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streams.events.name }))).Shards ?? [];
  let total = 0;
  for (const shard of shards) {
    let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: streams.events.name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      total += out.Records?.length ?? 0;
      if ((out.Records?.length ?? 0) === 0 && out.MillisBehindLatest === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return total;
}

class Prober {
  readonly postStart: number[] = [];
  readonly seenAt: number[] = [];
  private counted = 0;
  private running = true;
  private readonly loops: Promise<void>[] = [];
  postFailures = 0;
  readErrors = 0;
  /** Set when probing cannot go on (a probe refused for good, or more probes counted than sent). */
  failure?: Error;

  constructor(
    private readonly apiUrl: string,
    private readonly reportsUrl: string,
    private readonly nextId: () => string,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const fail = (err: Error) => {
      this.failure ??= err;
      this.running = false;
    };
    this.loops.push(this.postLoop().catch(fail), this.readLoop().catch(fail));
  }

  /** One probe at a time: the next is posted only after the previous was accepted. */
  private async postLoop(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      const body = JSON.stringify({ tx_id: this.nextId(), app_uid: 'probe', campaign_item_id: PROBE_CAMPAIGN });
      let accepted = false;
      for (let attempt = 0; attempt < 20 && !accepted; attempt++) {
        try {
          const res = await fetch(`${this.apiUrl}bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          await res.arrayBuffer();
          accepted = res.status === 200;
        } catch {
          // retried below
        }
        if (!accepted) {
          this.postFailures++;
          await sleep(50);
        }
      }
      if (!accepted) throw new Error('a probe bid was refused 20 times');
      this.postStart.push(started);
      await sleep(Math.max(0, this.intervalMs - (performance.now() - started)));
    }
  }

  private async readLoop(): Promise<void> {
    while ((this.running || this.counted < this.postStart.length) && !this.failure) {
      try {
        const report = await readReport(this.reportsUrl, PROBE_CAMPAIGN);
        const now = performance.now();
        while (this.counted < Math.min(report.bids, this.postStart.length)) this.seenAt[this.counted++] = now;
        // One probe may be on the stream (and counted) before its POST has answered.
        if (report.bids > this.postStart.length + 1) throw new Error(`the probe campaign counts ${report.bids} bids, but only ${this.postStart.length} probes were sent`);
      } catch (err) {
        if ((err as Error).message.startsWith('the probe campaign')) throw err;
        this.readErrors++;
      }
      await sleep(25);
    }
  }

  /** Stops both loops at once (the run failed). */
  abort(): void {
    this.failure ??= new Error('probing aborted');
    this.running = false;
  }

  /** Stops posting, then waits (up to timeoutMs) until every posted probe is counted. */
  async finish(timeoutMs: number): Promise<void> {
    this.running = false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const timedOutFirst = await Promise.race([Promise.all(this.loops).then(() => false), timedOut]);
    clearTimeout(timer);
    if (timedOutFirst) {
      this.failure ??= new Error(`${this.postStart.length - this.counted} probes not counted ${timeoutMs / 1000} s after the last was sent`);
      await Promise.all(this.loops);
    }
    if (this.failure) throw this.failure;
  }

  latencies(): number[] {
    return this.seenAt.map((seen, i) => seen - this.postStart[i]);
  }
}

async function runOnce(options: PipelineOptions): Promise<BenchResult> {
  const impressionRate = 0.5;
  const clickRate = 0.2;
  const resendRate = 0.05;
  const perAuction = (1 + impressionRate + impressionRate * clickRate) * (1 + resendRate);
  const workload = generateWorkload({
    auctions: Math.max(1, Math.round(options.events / perAuction)),
    campaigns: options.campaigns,
    firstCampaign: FIRST_CAMPAIGN,
    impressionRate,
    clickRate,
    resendRate,
    seed: 42,
  });
  const events = groupByType(workload.events, options.groupWindow);
  const distinct = workload.totals.bids + workload.totals.impressions + workload.totals.clicks;
  const campaigns = [...workload.truth.keys()].sort((a, b) => a - b);
  progress(`workload: ${workload.events.length} events to send (${distinct} distinct, rest resends) over ${campaigns.length} campaigns`);

  const profileDir = options.cpuProfile ? mkdtempSync(join(tmpdir(), 'sdp-bench-prof-')) : undefined;
  progress(`starting the local platform (${options.shards} shards)${profileDir ? `; profiling its main thread during sends and during the drain into ${profileDir}` : ''}`);
  const platform = await PlatformProcess.start({ shards: options.shards, emulatorSpeedups: !options.publishedEmulators });
  const { UrlForAPI: api, UrlForReports: reports } = platform.outputs;
  const kinesis = kinesisClient(platform.outputs.KinesisEndpoint);
  let prober: Prober | undefined;
  try {
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streams.events.name }))).Shards ?? [];
    prober = new Prober(api, reports, probeIds(shards[0], `probe-${Date.now().toString(36)}`), options.probeMs);

    const statsBefore = await platform.requestStats();
    prober.start();
    progress(`probing the idle platform for ${options.idleProbeSeconds} s`);
    await sleep(options.idleProbeSeconds * 1000);
    const idleProbes = prober.postStart.length;

    progress(`sending the workload${options.rate > 0 ? ` at ${options.rate} events/s` : ' as fast as it is accepted'}`);
    const cpuBefore = await platform.cpu('run');
    if (profileDir) await platform.profileStart();
    const ownStart = process.cpuUsage();
    const t0 = performance.now();
    const wallStart = Date.now();
    const machineStart = machineCpu();

    let sendEnd = 0;
    let lastLogged = 0;
    const sendOptions: SendOptions = {
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      onProgress: (sent) => {
        if (sent - lastLogged >= workload.events.length / 10) {
          lastLogged = sent;
          progress(`sent ${sent}/${workload.events.length} events`);
        }
      },
    };
    const sending = (options.rate > 0 ? sendAtRate(api, events, options.rate, sendOptions) : sendEvents(api, events, sendOptions)).then((result) => {
      sendEnd = performance.now();
      progress(`all ${result.events} events accepted in ${((sendEnd - t0) / 1000).toFixed(1)} s (${result.requests} requests, ${(result.events / result.requests).toFixed(1)} events per request, ${result.retries} retried)`);
      return result;
    });
    let sendError: unknown;
    sending.catch((err: unknown) => (sendError = err));

    // Completion: every campaign's report shows exactly its ground truth.
    let doneAt = 0;
    let lastCounted = 0;
    let drain: { at: number; counted: number; cpu: CpuSnapshot; end?: CpuSnapshot } | undefined;
    let lastLog = performance.now();
    const deadline = t0 + options.timeoutSeconds * 1000;
    while (!doneAt) {
      if (sendError) throw sendError;
      if (prober.failure) throw prober.failure;
      if (performance.now() > deadline) throw new Error(`reports not exact within ${options.timeoutSeconds} s; counted ${lastCounted} of ${distinct} events`);
      await sleep(sendEnd ? 200 : 1000);
      const read = await Promise.all(campaigns.map((c) => readReport(reports, c)));
      const at = performance.now();
      lastCounted = sum(read.map((r) => r.bids + r.impressions + r.clicks));
      const over = read.find((r) => {
        const t = workload.truth.get(r.campaign_item_id)!;
        return r.bids > t.bids || r.impressions > t.impressions || r.clicks > t.clicks;
      });
      if (over) throw new Error(`campaign ${over.campaign_item_id} counts more than was sent: ${JSON.stringify(over)} vs ${JSON.stringify(workload.truth.get(over.campaign_item_id))}`);
      const exact = read.every((r) => {
        const t = workload.truth.get(r.campaign_item_id)!;
        return r.bids === t.bids && r.impressions === t.impressions && r.clicks === t.clicks;
      });
      if (exact && sendEnd) doneAt = at;
      // The drain: from the first report read after the last send until exact, only the aggregator works.
      if (sendEnd && !drain) {
        drain = { at, counted: lastCounted, cpu: await platform.cpu('drain') };
        if (profileDir) {
          await platform.profileStop(join(profileDir, 'main-thread-while-sending.cpuprofile'));
          await platform.profileStart();
        }
      }
      if (doneAt && drain && !drain.end) {
        drain.end = await platform.cpu('drain');
        if (profileDir) await platform.profileStop(join(profileDir, 'main-thread-aggregator-alone.cpuprofile'));
      }
      if (at - lastLog > 5000) {
        lastLog = at;
        progress(`reports count ${lastCounted}/${distinct} distinct events; ${prober.seenAt.length}/${prober.postStart.length} probes seen`);
      }
    }
    const sendResult = await sending;
    progress(`reports exact after ${((doneAt - t0) / 1000).toFixed(1)} s; waiting for the last probes`);
    await prober.finish(30_000);
    const recheck = await Promise.all(campaigns.map((c) => readReport(reports, c)));
    const drifted = recheck.find((r) => {
      const t = workload.truth.get(r.campaign_item_id)!;
      return r.bids !== t.bids || r.impressions !== t.impressions || r.clicks !== t.clicks;
    });
    if (drifted) throw new Error(`campaign ${drifted.campaign_item_id} changed after it was exact: ${JSON.stringify(drifted)}`);

    const cpuAfter = await platform.cpu('run');
    const benchCores = ownCores(ownStart, wallStart);
    const machine = machineCores(machineStart, machineCpu());
    const statsAfter = await platform.requestStats();
    const delta = statsDelta(statsBefore, statsAfter);
    progress('counting the records on the stream');
    const records = await streamRecords(kinesis);
    progress('waiting for the lake writer to reach the end of the events stream');
    const lakeAt = (await waitForConsumer(platform.outputs.UrlForAPI, 'lake-writer-events', LAKE_WAIT_MS)) === undefined ? Number.NaN : performance.now();

    const seconds = (doneAt - t0) / 1000;
    const all = prober.latencies();
    const idle = all.slice(0, idleProbes);
    const latencies = all.slice(idleProbes);
    const dynamo = delta.dynamodb ?? {};
    const aggregatorRequests = sum(AGGREGATOR_OPS.map((op) => dynamo[op] ?? 0));
    const perRecord = aggregatorRequests / records;
    const cpu = cpuBetween(cpuBefore, cpuAfter);
    const drainCpu = drain?.end && doneAt - drain.at > 500 ? cpuBetween(drain.cpu, drain.end) : undefined;
    // Only a real backlog measures the aggregator's capacity; a second's worth of stragglers does not.
    const backlog = drain ? distinct - drain.counted : 0;
    const measurable = drain !== undefined && backlog >= Math.max(5000, distinct * 0.05) && doneAt - drain.at >= 2000;
    const drainRate = measurable ? backlog / ((doneAt - drain!.at) / 1000) : Number.NaN;
    const sentRecords = workload.events.length + prober.postStart.length;

    const paced = options.rate > 0;
    const figures: Figure[] = [
      { key: 'sustained_events_per_s', label: 'sustained events/s (distinct, end to end)', value: distinct / seconds, unit: 'events/s', ...(paced ? {} : { goal: { op: '>=', target: THROUGHPUT_GOAL } }), note: `${distinct} distinct events in ${seconds.toFixed(1)} s from first send to exact reports` },
      { key: 'ingest_events_per_s', label: '  ingestion alone', value: workload.events.length / ((sendEnd - t0) / 1000), unit: 'events/s', note: `${workload.events.length} events in ${sendResult.requests} requests (${(sendResult.events / sendResult.requests).toFixed(1)}/request), ${options.rate > 0 ? `offered at ${options.rate} events/s` : `concurrency ${options.concurrency}, unthrottled`}` },
      { key: 'drain_s', label: '  reports exact after last send', value: (doneAt - sendEnd) / 1000, unit: 's' },
      { key: 'aggregator_drain_events_per_s', label: '  aggregator alone (backlog after last send)', value: drainRate, unit: 'events/s', note: measurable ? `${backlog} distinct events counted in ${((doneAt - drain!.at) / 1000).toFixed(1)} s with no ingestion` : `not measured: only ${backlog} events were left after the last send` },
      { key: 'lake_caught_up_s', label: '  lake writer at the stream\'s tip after last send', value: (lakeAt - sendEnd) / 1000, unit: 's', note: Number.isNaN(lakeAt) ? `not within ${LAKE_WAIT_MS / 1000} s` : 'a background thread locally (local/threads.ts): it catches up after a burst' },
      { key: 'freshness_idle_p50_ms', label: 'freshness p50, idle platform', value: percentile(idle, 50), unit: 'ms', note: `${idle.length} probes before the load; p99 ${Math.round(percentile(idle, 99))} ms` },
      { key: 'freshness_p50_ms', label: 'freshness p50 under load (probe POST → report)', value: percentile(latencies, 50), unit: 'ms', note: `${latencies.length} probes from first send until reports exact, one per ≥ ${options.probeMs} ms` },
      { key: 'freshness_p99_ms', label: 'freshness p99 under load', value: percentile(latencies, 99), unit: 'ms', ...(paced ? { goal: { op: '<=', target: FRESHNESS_P99_GOAL_MS } } : {}), note: `max ${Math.round(Math.max(...latencies))} ms` },
      { key: 'dynamodb_requests_per_event', label: 'DynamoDB requests per stream record', value: perRecord, unit: 'req/record', goal: { op: '<=', target: REQUESTS_PER_RECORD_GOAL }, note: `${aggregatorRequests} requests / ${records} records on the stream` },
      { key: 'platform_peak_rss_mb', label: 'platform peak memory (RSS)', value: cpuAfter.peakRssBytes / 2 ** 20, unit: 'MB', note: 'the platform process (API, emulators, consumers), from its start to the end of the run' },
    ];
    const perK = (op: string) => `${op} ${dynamo[op] ?? 0} (${round(((dynamo[op] ?? 0) / records) * 1000)}/1k)`;
    const busy = Object.entries(cpu.busy).map(([t, b]) => `${t} ${Math.round(b * 100)}%`).join(', ');
    const delay = cpu.mainLoopDelayMs;
    const notes = [
      `DynamoDB requests (aggregator path): ${AGGREGATOR_OPS.filter((op) => dynamo[op]).map(perK).join(', ')}; Query ${dynamo.Query ?? 0} (report polling, excluded)`,
      `records: ${records} on the stream; ${sentRecords} sent (${workload.events.length} workload incl. ${workload.events.length - distinct} resends, ${prober.postStart.length} probes); ${sendResult.retries} requests retried after 429/503, ${prober.postFailures} probe posts retried`,
      `kinesis requests: ${Object.entries(delta.kinesis ?? {}).map(([op, n]) => `${op} ${n}`).join(', ')}`,
      `CPU over the run: platform process ${cpu.processCores.toFixed(2)} cores (event loops busy: ${busy}; main loop delay p50 ${delay.p50} ms, p99 ${delay.p99} ms, max ${delay.max} ms); bench process (sender, probes, report polling) ${benchCores.toFixed(2)} cores; rest of the machine ${(machine - benchCores - cpu.processCores).toFixed(2)} cores`,
    ];
    if (drainCpu) {
      const drainBusy = Object.entries(drainCpu.busy).map(([t, b]) => `${t} ${Math.round(b * 100)}%`).join(', ');
      notes.push(`CPU while the aggregator worked alone: platform process ${drainCpu.processCores.toFixed(2)} cores (event loops busy: ${drainBusy}; main loop delay p99 ${drainCpu.mainLoopDelayMs.p99} ms, max ${drainCpu.mainLoopDelayMs.max} ms)`);
    }
    if (profileDir) {
      for (const summary of summariseDir(profileDir, 12)) notes.push(...formatSummary(summary));
      notes.push(`profiles kept in ${profileDir}`);
    }
    return {
      bench: 'pipeline',
      figures,
      notes,
      details: {
        options,
        distinctEvents: distinct,
        sentEvents: workload.events.length,
        probes: all.length,
        idleFreshnessMs: { p50: round(percentile(idle, 50)), p99: round(percentile(idle, 99)) },
        streamRecords: records,
        seconds: round(seconds),
        sendSeconds: round((sendEnd - t0) / 1000),
        dynamodb: dynamo,
        kinesis: delta.kinesis ?? {},
        cpu,
        drainCpu,
        benchCores: round(benchCores),
        otherCores: round(machine - benchCores - cpu.processCores),
        freshnessMs: { p50: round(percentile(latencies, 50)), p90: round(percentile(latencies, 90)), p99: round(percentile(latencies, 99)), max: round(Math.max(...latencies)) },
      },
    };
  } finally {
    prober?.abort();
    kinesis.destroy();
    await platform.stop();
  }
}

/** The paced run's figures and notes, told apart from the unthrottled run's. */
function pacedPart(result: BenchResult, rate: number): Pick<BenchResult, 'figures' | 'notes'> {
  const prefix = `at ${rate.toLocaleString('en-US')} events/s: `;
  const kept = new Set(['sustained_events_per_s', 'lake_caught_up_s', 'freshness_idle_p50_ms', 'freshness_p50_ms', 'freshness_p99_ms', 'dynamodb_requests_per_event', 'platform_peak_rss_mb']);
  return {
    figures: result.figures.filter((f) => kept.has(f.key)).map((f) => ({ ...f, key: `paced_${f.key}`, label: `${prefix}${f.label.trim()}` })),
    notes: (result.notes ?? []).map((line) => `${prefix}${line}`),
  };
}

/**
 * Runs the unthrottled workload `options.runs` times, each on a fresh platform, and keeps the run
 * whose sustained events/s is the median: one run on a shared machine can land on a neighbour's burst.
 */
async function medianUnthrottledRun(options: PipelineOptions, totalRuns: number): Promise<BenchResult> {
  const results: BenchResult[] = [];
  for (let i = 0; i < options.runs; i++) {
    progress(`run ${i + 1} of ${totalRuns}: the workload sent as fast as it is accepted`);
    results.push(await runOnce(options));
  }
  const rate = (r: BenchResult) => r.figures.find((f) => f.key === 'sustained_events_per_s')!.value;
  const sorted = [...results].sort((a, b) => rate(a) - rate(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (results.length === 1) return median;
  const all = results.map((r) => Math.round(rate(r)).toLocaleString('en-US')).join(', ');
  return {
    ...median,
    figures: median.figures.map((f) => (f.key === 'sustained_events_per_s' ? { ...f, label: `${f.label}, median of ${results.length} runs`, note: `runs: ${all} events/s; figures below are the median run's. ${f.note ?? ''}` } : f)),
    details: { ...median.details, sustainedRuns: results.map(rate) },
  };
}

export async function runPipeline(options: PipelineOptions): Promise<BenchResult> {
  if (options.pipeline !== 'adtech') return runDeclaredPipeline(options);
  if (options.rate > 0) return runOnce(options);
  const totalRuns = options.runs + (options.freshnessRate > 0 ? 1 : 0);
  const unthrottled = await medianUnthrottledRun(options, totalRuns);
  if (options.freshnessRate === 0) return unthrottled;
  progress(`run ${totalRuns} of ${totalRuns}: the same workload offered at ${options.freshnessRate} events/s on a fresh platform, for freshness at a load it sustains`);
  const paced = await runOnce({ ...options, rate: options.freshnessRate });
  const part = pacedPart(paced, options.freshnessRate);
  return {
    bench: 'pipeline',
    figures: [...unthrottled.figures, ...part.figures],
    notes: [...(unthrottled.notes ?? []), ...(part.notes ?? [])],
    details: { unthrottled: unthrottled.details, paced: paced.details },
  };
}
