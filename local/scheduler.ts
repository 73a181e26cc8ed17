/**
 * The local stand-in for EventBridge schedules: invokes each scheduled handler every interval in a
 * worker thread (job-worker.ts), one run at a time per job (jobs.ts), and records every run.
 */
import { startThread } from './threads';
import { JobBusyError, runJob } from './jobs';

export interface ScheduledJob {
  name: string;
  /** Module exporting `handler`, relative to this folder. */
  handlerModule: string;
  intervalMs: number;
}

/** Invokes a scheduled handler once in a worker thread and resolves with what it returned. */
export function invokeInWorker(handlerModule: string): Promise<object> {
  return new Promise((resolve, reject) => {
    const worker = startThread('job-worker.ts', { handlerModule }, { priority: 'background' });
    worker.once('message', (msg: { ok: boolean; result?: object; error?: string }) => {
      void worker.terminate();
      if (msg.ok) resolve(msg.result ?? {});
      else reject(new Error(msg.error));
    });
    worker.once('error', reject);
  });
}

export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();

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
    const run = runJob(this.dataDir, job.name, 'schedule', () => invokeInWorker(job.handlerModule)).catch((err: Error) => {
      if (!(err instanceof JobBusyError)) this.log(`error: scheduled ${job.name} failed: ${err.message}`);
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /** Stops scheduling and waits for runs in progress. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.running);
  }
}
