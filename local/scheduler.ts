/**
 * The local stand-in for EventBridge schedules: invokes each scheduled handler every interval in a
 * worker thread (job-worker.ts), one run at a time per job (jobs.ts), and records every run.
 */
import type { Worker } from 'node:worker_threads';
import { onThreadEnd, startThread, withDeadline } from './threads';
import { JobBusyError, runJob } from './jobs';

export interface ScheduledJob {
  name: string;
  /** Module exporting `handler`, relative to this folder. */
  handlerModule: string;
  intervalMs: number;
}

/**
 * Invokes a scheduled handler once in a worker thread and resolves with what it returned; rejects
 * when the thread ends without an answer (it threw, exited or was terminated). `onThread` gets the
 * thread while it runs, for a stop to terminate it.
 */
export function invokeInWorker(handlerModule: string, onThread?: (worker: Worker) => void): Promise<object> {
  return new Promise((resolve, reject) => {
    const worker = startThread('job-worker.ts', { handlerModule }, { priority: 'background' });
    onThread?.(worker);
    worker.once('message', (msg: { ok: boolean; result?: object; error?: string }) => {
      void worker.terminate();
      if (msg.ok) resolve(msg.result ?? {});
      else reject(new Error(msg.error));
    });
    onThreadEnd(worker, (reason) => reject(new Error(`the ${handlerModule} job thread ${reason} before the job finished`)));
  });
}

export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly threads = new Set<Worker>();

  constructor(
    private readonly dataDir: string,
    private readonly log: (line: string) => void,
  ) {}

  start(jobs: ScheduledJob[]): void {
    for (const job of jobs) {
      if (job.intervalMs <= 0) continue;
      this.timers.push(setInterval(() => this.run(job), job.intervalMs));
    }
  }

  private run(job: ScheduledJob): void {
    const track = (worker: Worker) => {
      this.threads.add(worker);
      worker.once('exit', () => this.threads.delete(worker));
    };
    const run = runJob(this.dataDir, job.name, 'schedule', () => invokeInWorker(job.handlerModule, track)).catch((err: Error) => {
      if (!(err instanceof JobBusyError)) this.log(`error: scheduled ${job.name} failed: ${err.message}`);
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /**
   * Stops scheduling and waits up to `ms` for runs in progress; then terminates their threads (a
   * job that was cut short is recorded failed, and its next run finishes its work).
   */
  async stop(ms = Infinity): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    const finished = Promise.all(this.running);
    if (ms !== Infinity) await withDeadline(finished, ms, 'the scheduled jobs').catch(() => undefined);
    await Promise.all([...this.threads].map((w) => w.terminate()));
    await withDeadline(finished, 1000, 'the scheduled jobs').catch(() => undefined);
  }
}
