/**
 * Starts the local platform's worker threads (emulators, stream consumers, scheduled jobs): their
 * TypeScript sources loaded through tsx, with a young generation sized for streaming work, and
 * profiled when SDP_THREAD_PROFILE_DIR names a folder.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pipelineEnv } from '../schemas/active-pipeline';

const tsxHook = require.resolve('tsx/cjs');
const threadPriority = join(__dirname, 'thread-priority.ts');

/**
 * The emulators and the consumers allocate short-lived request, item and record objects at a high
 * rate, and many are still in flight when a scavenge runs. With V8's default young generation
 * (48 MB) the busiest thread scavenged about 15 times a second, 5-25 ms each, plus the helper
 * threads' share; twice the size scavenges a third as often. Side by side in one run of
 * `npm run bench -- pipeline`, three alternating pairs: 4,623 → 5,047 events/s (medians).
 */
export const YOUNG_GENERATION_MB = 96;

/**
 * With SDP_THREAD_PROFILE_DIR set, each thread writes a V8 CPU profile of its whole life there when
 * it ends (open it in Chrome DevTools, or summarise it with perf/support/profile.ts).
 */
function profileArgs(): string[] {
  const dir = process.env.SDP_THREAD_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/**
 * How a thread's work ranks when every core is busy. On one machine every thread shares the same
 * two cores, unlike Lambda functions and AWS's managed services, which each have their own. First
 * come the threads every API request waits on (the main thread and the emulators); then the
 * aggregator, whose lag is the reports' freshness; last the lake writer and the scheduled jobs,
 * which catch up once a burst is over. Measured side by side, alternating runs:
 * - the lake writer moved to the background (`npm run bench -- pipeline --freshness-rate 0`, two
 *   pairs of 3-run medians): 5,667 → 6,288 and 5,405 → 6,865 events/s end to end;
 * - the aggregator moved behind the API, niceness 0 → 5 (`npm run bench -- ingest`, 5 and 4 runs):
 *   single-event POSTs median 3,207 → 4,309 req/s, p99 median 47 → 35.5 ms (one run at 0 missed
 *   the 50 ms goal); the price, `npm run bench -- pipeline`, two pairs of 3-run medians:
 *   6,605 → 6,205 and 6,977 → 5,953 events/s end to end (goal 5,000), freshness p99 at 2,500
 *   events/s unchanged (655 → 621 and 604 → 644 ms). At 10, like the lake writer, the pipeline
 *   fell to 5,847 and 5,285 events/s.
 */
export const NICENESS = { serving: 0, aggregating: 5, background: 10 } as const;
export type ThreadPriority = keyof typeof NICENESS;

/**
 * Starts `module` (a path relative to this folder) in a worker thread with `workerData`, at
 * `priority` (default serving; thread-priority.ts applies it).
 */
export function startThread(module: string, workerData: unknown, options: { priority?: ThreadPriority } = {}): Worker {
  return new Worker(join(__dirname, module), {
    workerData,
    execArgv: ['--require', tsxHook, '--require', threadPriority, ...profileArgs()],
    // pipelineEnv(): the thread's handlers run the process's pipeline (schemas/active-pipeline.ts).
    env: { ...process.env, ...pipelineEnv(), SDP_THREAD_NICENESS: String(NICENESS[options.priority ?? 'serving']) },
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
}

/** A part (a thread, an emulator) that did not answer within its deadline. */
export class NotAnsweringError extends Error {}

/** `promise`, or a NotAnsweringError naming `what` once `ms` pass first. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NotAnsweringError(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** One line saying what was thrown, whatever it is. */
function describeThrown(thrown: unknown): string {
  const text = thrown instanceof Error ? thrown.message || thrown.name : typeof thrown === 'string' ? thrown : JSON.stringify(thrown) ?? String(thrown);
  return text.split('\n')[0];
}

/**
 * Calls `onEnd` once when `worker` ends, whenever that is, with a one-line reason: the error it
 * threw (an uncaught exception or unhandled rejection ends a worker thread) or its exit code. It
 * also fires for a worker that was terminated on purpose; the caller knows whether it was.
 */
export function onThreadEnd(worker: Worker, onEnd: (reason: string) => void): void {
  // What a thread throws need not be an Error (a library may throw a string or a plain object).
  let error: { thrown: unknown } | undefined;
  worker.once('error', (thrown) => (error = { thrown }));
  worker.once('exit', (code) => onEnd(error ? `threw ${describeThrown(error.thrown)}` : `exited with code ${code}`));
}

/**
 * Ends a worker thread within `ms`: asks it to finish its work (`ask`), and terminates it when it
 * does not in time (a hung or dead thread); the terminate has a deadline of its own.
 */
export async function stopThread(worker: Worker, ask: (() => Promise<unknown>) | undefined, ms: number, what: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  if (ask) {
    await withDeadline(ask(), ms, what).catch((err: Error) => log(`warning: ${err.message}; terminating it`));
  }
  await withDeadline(worker.terminate(), Math.max(500, ms - (Date.now() - started)), `terminating ${what}`).catch((err: Error) => log(`warning: ${err.message}`));
}

/** How often a watchdog asks a thread whether it answers, and how long each answer may take. */
export const WATCHDOG_INTERVAL_MS = 5000;
/** Questions in a row a thread may leave unanswered before it counts as hung (30 s). */
export const WATCHDOG_MISSES = 6;

/**
 * Asks a thread (`ask`) every WATCHDOG_INTERVAL_MS whether it answers; after WATCHDOG_MISSES
 * unanswered in a row it is hung, and `onHung` is called once with the reason. A dead thread is
 * not hung (its end is observed by onThreadEnd): questions that fail at once are not misses.
 * Returns the function that stops watching.
 */
export function watchdog(ask: () => Promise<unknown>, what: string, onHung: (reason: string) => void): () => void {
  let misses = 0;
  let asking = false;
  const timer = setInterval(() => {
    if (asking) return;
    asking = true;
    withDeadline(ask(), WATCHDOG_INTERVAL_MS, what).then(
      () => (misses = 0),
      (err: Error) => {
        if (!(err instanceof NotAnsweringError)) return;
        if (++misses === WATCHDOG_MISSES) {
          clearInterval(timer);
          onHung(`did not answer for ${(WATCHDOG_MISSES * WATCHDOG_INTERVAL_MS) / 1000} s (hung)`);
        }
      },
    ).finally(() => (asking = false));
  }, WATCHDOG_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
