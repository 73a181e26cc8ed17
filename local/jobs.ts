/**
 * Scheduled jobs of the local platform (compaction now, retraining later): one run of a job at a
 * time across the scheduler and the CLI (an OS-level lock per job), and a record of every
 * run (start, end, outcome, figures) appended to `<data dir>/jobs/<job>.jsonl`.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataDirLock, DataDirLockedError } from './data-dir-lock';

/**
 * The retraining job's name (its runs are jobs/training.jsonl), here rather than beside its code
 * (training-job.ts): the platform names the job at start, and loading the trainer (DuckDB, the
 * model code) into the main thread for a name cost every start about 0.1 s (load average 3).
 */
export const TRAINING_JOB = 'training';

export interface JobRun {
  job: string;
  started_at: string;
  ended_at: string;
  outcome: 'succeeded' | 'failed';
  /** Where the run came from: the scheduler or a command. */
  trigger: string;
  figures?: Record<string, unknown>;
  error?: string;
}

export class JobBusyError extends Error {}

/**
 * Takes the job's lock (an OS-level lock the kernel releases when its holder dies: data-dir-lock.ts),
 * or throws JobBusyError naming the process running the job. A pid file would block the job for
 * good once its pid was reused by another process.
 */
async function acquire(dataDir: string, job: string): Promise<() => Promise<void>> {
  try {
    const lock = await DataDirLock.acquire(dataDir, process.platform, `job-${job}`);
    return () => lock.release();
  } catch (err) {
    if (err instanceof DataDirLockedError) throw new JobBusyError(err.message);
    throw err;
  }
}

/** The scalar fields of a job's result: the figures worth keeping for every run. */
export function scalarFigures(result: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(result).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v)));
}

/** Runs `work` as one run of `job`, recording it; rejects with JobBusyError if a run is in progress. */
export async function runJob<T extends object>(dataDir: string, job: string, trigger: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(dataDir, { recursive: true });
  const release = await acquire(dataDir, job);
  const started_at = new Date().toISOString();
  const record = (run: Omit<JobRun, 'job' | 'started_at' | 'ended_at' | 'trigger'>) => {
    mkdirSync(join(dataDir, 'jobs'), { recursive: true });
    const entry: JobRun = { job, started_at, ended_at: new Date().toISOString(), trigger, ...run };
    appendFileSync(join(dataDir, 'jobs', `${job}.jsonl`), `${JSON.stringify(entry)}\n`);
  };
  try {
    const result = await work();
    record({ outcome: 'succeeded', figures: scalarFigures(result) });
    return result;
  } catch (err) {
    record({ outcome: 'failed', error: (err as Error).message });
    throw err;
  } finally {
    await release();
  }
}

/**
 * runJob for a command: when a run of the job is in progress (the schedule's, say), says so once
 * and waits for it to end, up to `waitMs`, then runs; JobBusyError past that.
 */
export async function runJobAfterCurrent<T extends object>(dataDir: string, job: string, trigger: string, work: () => Promise<T>, waitMs: number, onWait: (why: string) => void): Promise<T> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      return await runJob(dataDir, job, trigger, work);
    } catch (err) {
      if (!(err instanceof JobBusyError) || Date.now() > deadline) throw err;
      if (!told) onWait(`${err.message}; waiting for it to end`);
      told = true;
      await sleep(500);
    }
  }
}

/** A line of a job's record parsed, or undefined when it is not a run (cut short by a crash, or damaged). */
function parseRun(line: string): JobRun | undefined {
  let run: Partial<JobRun> | null;
  try {
    run = JSON.parse(line) as Partial<JobRun> | null;
  } catch {
    return undefined;
  }
  const times = [run?.started_at, run?.ended_at];
  if (typeof run?.job !== 'string' || times.some((t) => typeof t !== 'string' || Number.isNaN(Date.parse(t))) || (run.outcome !== 'succeeded' && run.outcome !== 'failed')) return undefined;
  return run as JobRun;
}

function runLines(dataDir: string, job: string): string[] {
  const file = join(dataDir, 'jobs', `${job}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '');
}

/** Recorded runs of a job, oldest first; lines that are not runs (a crash cut one short, damage) are left out. */
export function jobRuns(dataDir: string, job: string): JobRun[] {
  return runLines(dataDir, job).flatMap((line) => parseRun(line) ?? []);
}

/** The jobs that have recorded runs in a data dir, by name (`sdp jobs` lists them without loading any job's code). */
export function recordedJobs(dataDir: string): string[] {
  const dir = join(dataDir, 'jobs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => f.slice(0, -'.jsonl'.length)).sort();
}

/** How many lines of a job's record jobRuns leaves out. */
export function unreadableRunLines(dataDir: string, job: string): number {
  return runLines(dataDir, job).filter((line) => parseRun(line) === undefined).length;
}
