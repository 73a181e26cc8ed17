/**
 * Runs the local platform (local/platform.ts, exactly as `sdp local` does) in a child process of a
 * benchmark, and answers the benchmark over the IPC channel: emulator request counts
 * (requestStats) and CPU figures (process CPU time, event-loop utilisation of the main thread and
 * of each emulator's worker thread, the main thread's event-loop delay), and profiles of the main
 * thread over the phases the benchmark chooses. The load generator thus never shares a process with the
 * platform it measures. Started by platform-process.ts; not meant to be run by hand.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { DEFAULT_SHARDS, LocalPlatform } from '../../local/platform';

export type ChildRequest = { id: number; type: 'stats' | 'consumers' | 'cpu' | 'stop' | 'profile-start' | 'profile-stop'; channel?: string; file?: string };
export type ChildMessage =
  | { type: 'ready'; outputs: NonNullable<LocalPlatform['outputs']> }
  | { type: 'failed'; message: string }
  | { type: 'reply'; id: number; value: unknown };

export interface CpuSnapshot {
  at: number;
  /** Process CPU time (all threads), microseconds. */
  cpuUser: number;
  cpuSystem: number;
  /** Event-loop utilisation counters (ms) by thread: main, and one per emulator kind. */
  elu: Record<string, { idle: number; active: number }>;
  /** Main thread event-loop delay since the channel's previous snapshot, ms: how late timers ran. */
  loopDelay: { p50: number; p99: number; max: number };
  /** The process's peak resident set size since it started (all threads), bytes. */
  peakRssBytes: number;
}

const RESOLUTION_MS = 10;
/** One event-loop delay histogram per channel, so overlapping measurements do not reset each other. */
const loopDelays = new Map<string, ReturnType<typeof monitorEventLoopDelay>>();

const [dataDir, shardsArg, emulators] = process.argv.slice(2);
const platform = new LocalPlatform({
  dataDir,
  port: 0,
  shards: Number(shardsArg ?? DEFAULT_SHARDS),
  emulatorSpeedups: emulators !== 'published-emulators',
  log: (line) => process.stderr.write(`${line}\n`),
});

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

/** The platform's worker threads (emulators and stream consumers). */
function emulatorWorkers(): { kind: string; worker: Worker }[] {
  return platform.threads().map((t) => ({ kind: t.name, worker: t.worker }));
}

function cpu(channel = 'default'): CpuSnapshot {
  let loopDelay = loopDelays.get(channel);
  if (!loopDelay) {
    loopDelay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    loopDelay.enable();
    loopDelays.set(channel, loopDelay);
  }
  const usage = process.cpuUsage();
  const pick = (e: EventLoopUtilization) => ({ idle: e.idle, active: e.active });
  const elu: CpuSnapshot['elu'] = { main: pick(performance.eventLoopUtilization()) };
  for (const { kind, worker } of emulatorWorkers()) elu[kind] = pick(worker.performance.eventLoopUtilization());
  // The histogram holds the intervals between its timer's firings: subtract the timer's own period.
  const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4 - RESOLUTION_MS * 100) / 100);
  const fresh = loopDelay.count === 0;
  const delay = fresh ? { p50: 0, p99: 0, max: 0 } : { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
  loopDelay.reset();
  return { at: Date.now(), cpuUser: usage.user, cpuSystem: usage.system, elu, loopDelay: delay, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

/** V8's sampling profiler on the main thread, started and stopped on the benchmark's request. */
let profiler: Session | undefined;
function post(session: Session, method: string, params: object = {}): Promise<unknown> {
  return new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
}

async function profileStart(): Promise<void> {
  if (profiler) return;
  profiler = new Session();
  profiler.connect();
  await post(profiler, 'Profiler.enable');
  await post(profiler, 'Profiler.setSamplingInterval', { interval: 500 });
  await post(profiler, 'Profiler.start');
}

/** Stops profiling and writes the .cpuprofile to `file`. */
async function profileStop(file: string): Promise<void> {
  if (!profiler) return;
  const { profile } = (await post(profiler, 'Profiler.stop')) as { profile: unknown };
  profiler.disconnect();
  profiler = undefined;
  writeFileSync(file, JSON.stringify(profile));
}

let stopping = false;
async function stop(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    await platform.stop().catch((err: Error) => process.stderr.write(`stop failed: ${err.message}\n`));
  }
  process.exit(code);
}

process.on('message', (msg: ChildRequest) => {
  void (async () => {
    if (msg.type === 'stats') send({ type: 'reply', id: msg.id, value: await platform.requestStats() });
    else if (msg.type === 'consumers') send({ type: 'reply', id: msg.id, value: await platform.consumerStatus() });
    else if (msg.type === 'cpu') send({ type: 'reply', id: msg.id, value: cpu(msg.channel) });
    else if (msg.type === 'profile-start') {
      await profileStart();
      send({ type: 'reply', id: msg.id, value: null });
    } else if (msg.type === 'profile-stop') {
      await profileStop(msg.file!);
      send({ type: 'reply', id: msg.id, value: null });
    }
    else if (msg.type === 'stop') {
      send({ type: 'reply', id: msg.id, value: null });
      await stop(0);
    }
  })();
});
// The benchmark went away: do not leave a platform running.
process.on('disconnect', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

platform.start().then(
  (outputs) => send({ type: 'ready', outputs }),
  (err: Error) => {
    send({ type: 'failed', message: err.message });
    process.exit(1);
  },
);
