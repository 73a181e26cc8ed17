/**
 * Scheduled jobs of the local platform (compaction now, retraining later): one run of a job at a
 * time across the scheduler and the CLI (a lock file naming the owner's pid), and a record of every
 * run (start, end, outcome, figures) appended to `<data dir>/jobs/<job>.jsonl`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function acquire(lock: string, job: string): () => void {
  mkdirSync(join(lock, '..'), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(lock, 'utf8'));
      if (owner && alive(owner)) throw new JobBusyError(`${job} is already running (pid ${owner})`);
      rmSync(lock, { force: true }); // left by a process that died
    }
  }
  throw new JobBusyError(`${job}: could not take its lock ${lock}`);
}

/** The scalar fields of a job's result: the figures worth keeping for every run. */
export function scalarFigures(result: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(result).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v)));
}

/** Runs `work` as one run of `job`, recording it; rejects with JobBusyError if a run is in progress. */
export async function runJob<T extends object>(dataDir: string, job: string, trigger: string, work: () => Promise<T>): Promise<T> {
  const release = acquire(join(dataDir, 'locks', `${job}.lock`), job);
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
    release();
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

/** How many lines of a job's record jobRuns leaves out. */
export function unreadableRunLines(dataDir: string, job: string): number {
  return runLines(dataDir, job).filter((line) => parseRun(line) === undefined).length;
}
