/**
 * Starts the local platform's worker threads (emulators, stream consumers, scheduled jobs): their
 * TypeScript sources loaded through tsx, with a young generation sized for streaming work, and
 * profiled when SDP_THREAD_PROFILE_DIR names a folder.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';

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
 * Niceness of background threads (the lake writer, scheduled jobs). On one machine every thread
 * shares the same cores, unlike Lambda functions; when they are all busy, the threads that keep
 * reports fresh and answer the API (the emulators, the aggregator, the main thread) come first,
 * and background work catches up once the burst is over. Side by side, `npm run bench --
 * pipeline --freshness-rate 0`, two alternating pairs of 3 runs: medians 5,667 → 6,288 and
 * 5,405 → 6,865 events/s end to end.
 */
export const BACKGROUND_NICENESS = 10;

/**
 * Starts `module` (a path relative to this folder) in a worker thread with `workerData`;
 * `background` threads run at a lower priority (thread-priority.ts).
 */
export function startThread(module: string, workerData: unknown, options: { background?: boolean } = {}): Worker {
  return new Worker(join(__dirname, module), {
    workerData,
    execArgv: ['--require', tsxHook, '--require', threadPriority, ...profileArgs()],
    env: { ...process.env, SDP_THREAD_NICENESS: options.background ? String(BACKGROUND_NICENESS) : '0' },
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
}
