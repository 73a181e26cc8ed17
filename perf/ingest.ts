/**
 * Bench `ingest`: how close the ingestion API comes to the stream's own ceiling.
 *  (a) kinesalite's PutRecords ceiling here: a kinesalite emulator started as the platform starts
 *      it (with its speed-ups), PutRecords of 500 stamped bids from a few concurrent callers,
 *      records/s per second; then the same against kinesalite as published, for comparison; and,
 *      for reference, PutRecords of one record from as many callers as the load has connections
 *      (the single events' own shape), and a bare node:http server under the same load (the most
 *      any Node HTTP API serves here: what the goal's ratio can reach at best);
 *  (b) the local platform (its own emulators; the standalone one is stopped first) under
 *      autocannon: single-event POST /bid, then arrays of 100 events; accepted req/s (median of
 *      per-second samples), latency p50/p99, non-2xx, and the ratio to the ceiling.
 * Goals: single-event req/s ≥ 0.8 × the ceiling for their shape of load (one record per call from as
 * many callers as connections), p99 ≤ 50 ms; the ratio to 500-record calls is information.
 */
import { DEFAULT_SHARDS } from '../local/platform';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startEmulator } from '../local/emulators';
import { ensureStream } from '../local/provision';
import { streams } from '../schemas/resources';
import { PlatformProcess, cpuBetween, ownCores, statsDelta } from './support/platform-process';
import { bid, cannon, stampedBid, waitForAggregator, type CannonResult } from './support/load';
import { progress, type BenchResult, type Figure } from './support/report';
import { PerSecond, machineCores, machineCpu, median, round, sleep, sum } from './support/stats';
import { formatSummary, summariseDir } from './support/profile';

export interface IngestOptions {
  ceilingSeconds: number;
  callers: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  arraySize: number;
  arrayConnections: number;
  shards: number;
  cpuProfile: boolean;
  /** Run kinesalite and dynalite as published, without the platform's speed-ups. */
  publishedEmulators: boolean;
}

export const ingestDefaults: IngestOptions = {
  ceilingSeconds: 10,
  callers: 4,
  seconds: 15,
  warmupSeconds: 3,
  connections: 50,
  arraySize: 100,
  arrayConnections: 16,
  shards: DEFAULT_SHARDS,
  cpuProfile: false,
  publishedEmulators: false,
};

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** (a) kinesalite's own PutRecords ceiling, records/s. */
async function measureCeiling(options: IngestOptions, speedups: boolean, shape = { callers: options.callers, records: 500 }) {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-bench-kinesalite-'));
  const emulator = await startEmulator('kinesis', dir, 0, speedups);
  try {
    const client = new KinesisClient({
      region: 'us-east-1',
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
    });
    await ensureStream(client, streams.events, options.shards);
    const worker = (emulator as unknown as { worker?: Worker }).worker;
    const perSecond = new PerSecond();
    let rejected = 0;
    let calls = 0;
    let measuring = false;
    const warmupMs = 1000;
    const end = Date.now() + warmupMs + options.ceilingSeconds * 1000;
    const caller = async () => {
      while (Date.now() < end) {
        const Records = Array.from({ length: shape.records }, () => {
          const data = stampedBid();
          return { Data: data, PartitionKey: JSON.parse(data.toString()).tx_id as string };
        });
        const out = await client.send(new PutRecordsCommand({ StreamName: streams.events.name, Records }));
        const failed = out.FailedRecordCount ?? 0;
        if (measuring) {
          calls++;
          rejected += failed;
          perSecond.add(Records.length - failed);
        }
      }
    };
    progress(`ceiling: ${shape.callers} callers × PutRecords(${shape.records}) against a standalone kinesalite (${speedups ? "with the platform's speed-ups" : 'as published'}) for ${options.ceilingSeconds} s (+1 s warm-up)`);
    const running = Promise.all(Array.from({ length: shape.callers }, caller));
    await sleep(warmupMs);
    measuring = true;
    perSecond.start();
    const cpuStart = process.cpuUsage();
    const cpuAt = Date.now();
    const machineStart = machineCpu();
    const eluStart = worker?.performance.eventLoopUtilization();
    await running;
    perSecond.stop();
    const kinesaliteBusy = eluStart ? worker!.performance.eventLoopUtilization(eluStart).utilization : Number.NaN;
    const benchCores = ownCores(cpuStart, cpuAt);
    const machine = machineCores(machineStart, machineCpu());
    const samples = perSecond.samples;
    progress(`ceiling: per-second records ${samples.join(', ')}`);
    return { recordsPerSecond: median(samples), samples, rejected, calls, kinesaliteBusy, benchCores, otherCores: machine - benchCores };
  } finally {
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Single-event POSTs against a bare node:http server in its own process, as the platform is loaded. */
async function measureBareHttp(options: IngestOptions): Promise<CannonResult> {
  const child = fork(join(__dirname, 'support', 'bare-http-child.ts'), [], { execArgv: ['--require', require.resolve('tsx/cjs')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (msg: { port: number }) => resolve(msg.port));
      child.once('exit', (code) => reject(new Error(`bare HTTP server exited with ${code}`)));
    });
    progress(`bare node:http server: ${options.connections} connections for ${options.ceilingSeconds} s`);
    return await cannon({ url: `http://127.0.0.1:${port}`, path: '/bid', connections: options.connections, seconds: options.ceilingSeconds, bodyFor: () => JSON.stringify(bid()) });
  } finally {
    child.disconnect();
  }
}

interface Phase {
  result: CannonResult;
  cpu: ReturnType<typeof cpuBetween>;
  benchCores: number;
  /** Cores the rest of the machine (neither the platform nor this bench) used meanwhile. */
  otherCores: number;
  putRecords: number;
  drainMs: number | undefined;
}

async function loadPhase(platform: PlatformProcess, name: string, options: IngestOptions, connections: number, bodyFor: () => string, profileFile?: string): Promise<Phase> {
  const url = platform.outputs.UrlForAPI;
  progress(`${name}: warm-up ${options.warmupSeconds} s, ${connections} connections`);
  await cannon({ url, path: '/bid', connections, seconds: options.warmupSeconds, bodyFor });
  const drainWarmup = await waitForAggregator(url, 30_000);
  progress(`${name}: warm-up backlog processed ${drainWarmup === undefined ? '(not within 30 s)' : `in ${(drainWarmup / 1000).toFixed(1)} s`}; measuring ${options.seconds} s`);
  const [cpuBefore, statsBefore] = [await platform.cpu(name), await platform.requestStats()];
  const cpuStart = process.cpuUsage();
  const cpuAt = Date.now();
  const machineStart = machineCpu();
  if (profileFile) await platform.profileStart();
  const result = await cannon({ url, path: '/bid', connections, seconds: options.seconds, bodyFor });
  if (profileFile) await platform.profileStop(profileFile);
  const benchCores = ownCores(cpuStart, cpuAt);
  const machine = machineCores(machineStart, machineCpu());
  const [cpuAfter, statsAfter] = [await platform.cpu(name), await platform.requestStats()];
  const putRecords = statsDelta(statsBefore, statsAfter).kinesis?.PutRecords ?? 0;
  progress(`${name}: accepted per second ${result.samples.join(', ')}; non-2xx ${result.non2xx}; waiting for the aggregator to catch up`);
  const drainMs = await waitForAggregator(url, 90_000);
  const cpu = cpuBetween(cpuBefore, cpuAfter);
  return { result, cpu, benchCores, otherCores: machine - benchCores - cpu.processCores, putRecords, drainMs };
}

function cpuLine(label: string, phase: Phase): string {
  const busy = Object.entries(phase.cpu.busy).map(([t, b]) => `${t} ${pct(b)}`).join(', ');
  const delay = phase.cpu.mainLoopDelayMs;
  return `${label}: platform process ${phase.cpu.processCores.toFixed(2)} cores (event loops busy: ${busy}; main loop delay p50 ${delay.p50} ms, p99 ${delay.p99} ms, max ${delay.max} ms); bench/autocannon ${phase.benchCores.toFixed(2)} cores; rest of the machine ${phase.otherCores.toFixed(2)} cores`;
}

export async function runIngest(options: IngestOptions): Promise<BenchResult> {
  // The goal's ceiling is the stream as the platform runs it; kinesalite as published is shown beside it.
  const ceiling = await measureCeiling(options, !options.publishedEmulators);
  const published = options.publishedEmulators ? ceiling : await measureCeiling(options, false);
  progress(`ceiling: ${Math.round(ceiling.recordsPerSecond)} records/s (median; as published ${Math.round(published.recordsPerSecond)}); standalone kinesalite stopped`);
  const singleRecord = await measureCeiling(options, !options.publishedEmulators, { callers: options.connections, records: 1 });
  const bare = await measureBareHttp(options);

  const profileDir = options.cpuProfile ? mkdtempSync(join(tmpdir(), 'sdp-bench-prof-')) : undefined;
  progress(`starting the local platform (${options.shards} shards)${profileDir ? `; profiling its main thread over the measured phases into ${profileDir}` : ''}`);
  const platform = await PlatformProcess.start({ shards: options.shards, emulatorSpeedups: !options.publishedEmulators });
  let single: Phase;
  let arrays: Phase;
  try {
    single = await loadPhase(platform, 'single events', options, options.connections, () => JSON.stringify(bid()), profileDir && join(profileDir, 'main-thread-single-events.cpuprofile'));
    arrays = await loadPhase(
      platform,
      `arrays of ${options.arraySize}`,
      options,
      options.arrayConnections,
      () => JSON.stringify(Array.from({ length: options.arraySize }, () => bid())),
      profileDir && join(profileDir, 'main-thread-arrays.cpuprofile'),
    );
  } finally {
    await platform.stop();
  }

  const s = single.result;
  const a = arrays.result;
  const arrayEvents = a.medianPerSecond * options.arraySize;
  const ratioToSingleRecord = s.medianPerSecond / singleRecord.recordsPerSecond;
  const ratioToBatched = s.medianPerSecond / ceiling.recordsPerSecond;
  const figures: Figure[] = [
    { key: 'kinesalite_ceiling', label: 'kinesalite PutRecords ceiling', value: ceiling.recordsPerSecond, unit: 'records/s', note: `median of ${ceiling.samples.length} s, ${options.callers} callers × 500 records; kinesalite ${options.publishedEmulators ? 'as published' : "with the platform's speed-ups"}` },
    ...(published === ceiling ? [] : [{ key: 'kinesalite_published_ceiling', label: '  kinesalite as published', value: published.recordsPerSecond, unit: 'records/s', note: `same calls; single events ${round(s.medianPerSecond / published.recordsPerSecond)} × this` }]),
    { key: 'kinesalite_single_record', label: '  one record per call', value: singleRecord.recordsPerSecond, unit: 'records/s', note: `${options.connections} callers × PutRecords(1), the single events' shape; single events ${round(ratioToSingleRecord)} × this` },
    { key: 'bare_http_req_per_s', label: 'bare node:http server, same load', value: bare.medianPerSecond, unit: 'req/s', note: `answers a constant; the most any Node HTTP API does here: ${round(bare.medianPerSecond / ceiling.recordsPerSecond)} × the ceiling; p99 ${bare.latencyP99} ms` },
    { key: 'single_req_per_s', label: 'POST /bid single event', value: s.medianPerSecond, unit: 'req/s', note: `2xx only, median of ${s.samples.length} per-second samples, ${options.connections} connections` },
    { key: 'single_ratio', label: '  ratio to one record per call', value: ratioToSingleRecord, unit: '×', goal: { op: '>=', target: 0.8, text: '≥ 0.8 × ceiling' }, note: "the ceiling for the single events' shape of load (perf/README.md)" },
    { key: 'single_ratio_to_batched', label: '  ratio to 500-record calls', value: ratioToBatched, unit: '×', note: `kinesalite's ceiling with full calls; a bare node:http server reaches ${round(bare.medianPerSecond / ceiling.recordsPerSecond)} × it here` },
    { key: 'single_p50_ms', label: '  latency p50', value: s.latencyP50, unit: 'ms' },
    { key: 'single_p99_ms', label: '  latency p99', value: s.latencyP99, unit: 'ms', goal: { op: '<=', target: 50 } },
    { key: 'single_non2xx', label: '  non-2xx responses', value: s.non2xx, unit: 'responses', note: Object.keys(s.statusCodes).length ? `status codes ${JSON.stringify(s.statusCodes)}` : '' },
    { key: 'array_events_per_s', label: `POST /bid arrays of ${options.arraySize}`, value: arrayEvents, unit: 'events/s', note: `${round(a.medianPerSecond)} req/s median, ${options.arrayConnections} connections; ratio to ceiling ${round(arrayEvents / ceiling.recordsPerSecond)}` },
    { key: 'array_p99_ms', label: '  latency p99', value: a.latencyP99, unit: 'ms' },
    { key: 'array_non2xx', label: '  non-2xx responses', value: a.non2xx, unit: 'responses' },
  ];
  const recordsPerPut = (accepted: number, puts: number) => (puts > 0 ? (accepted / puts).toFixed(1) : 'n/a');
  const notes = [
    `ceiling phase: kinesalite worker event loop busy ${pct(ceiling.kinesaliteBusy)}, bench process (SDK client + kinesalite) ${ceiling.benchCores.toFixed(2)} cores, rest of the machine ${ceiling.otherCores.toFixed(2)} cores; ${ceiling.calls} PutRecords calls, ${ceiling.rejected} records rejected`,
    cpuLine('single-event phase', single),
    `single-event phase: ${single.putRecords} PutRecords calls for ${s.accepted} accepted events (${recordsPerPut(s.accepted, single.putRecords)} records per call); errors ${s.errors}, timeouts ${s.timeouts}; aggregator backlog processed ${single.drainMs === undefined ? 'not within 90 s' : `${(single.drainMs / 1000).toFixed(1)} s after the phase`}`,
    cpuLine('array phase', arrays),
    `array phase: ${arrays.putRecords} PutRecords calls for ${a.accepted * options.arraySize} accepted events (${recordsPerPut(a.accepted * options.arraySize, arrays.putRecords)} records per call); aggregator backlog processed ${arrays.drainMs === undefined ? 'not within 90 s' : `${(arrays.drainMs / 1000).toFixed(1)} s after the phase`}`,
  ];
  if (profileDir) {
    for (const summary of summariseDir(profileDir, 10)) notes.push(...formatSummary(summary));
    notes.push(`profiles kept in ${profileDir}`);
  }
  return {
    bench: 'ingest',
    figures,
    notes,
    details: {
      options,
      singleRecordCeiling: { samples: singleRecord.samples, calls: singleRecord.calls },
      bareHttp: { samples: bare.samples, latencyP99Ms: bare.latencyP99 },
      ceiling: { samples: ceiling.samples, rejected: ceiling.rejected, kinesaliteBusy: round(ceiling.kinesaliteBusy), benchCores: round(ceiling.benchCores), otherCores: round(ceiling.otherCores) },
      single: { samples: s.samples, statusCodes: s.statusCodes, latencyMaxMs: s.latencyMax, putRecords: single.putRecords, cpu: single.cpu, benchCores: round(single.benchCores), otherCores: round(single.otherCores), drainMs: single.drainMs, accepted: s.accepted },
      arrays: { samples: a.samples, statusCodes: a.statusCodes, latencyP50Ms: a.latencyP50, putRecords: arrays.putRecords, cpu: arrays.cpu, benchCores: round(arrays.benchCores), otherCores: round(arrays.otherCores), drainMs: arrays.drainMs, acceptedEvents: a.accepted * options.arraySize },
      totalAccepted: sum([s.accepted, a.accepted * options.arraySize]),
    },
  };
}
