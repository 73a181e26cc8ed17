/**
 * The main thread's handle on a consumer worker thread (consumer-worker.ts): start, status, stop,
 * and its supervision. The thread is watched for its whole life: when it dies (an uncaught error,
 * an unhandled rejection, an exit), its consumers are reported down and it is started again from
 * their checkpoints, at most MAX_RESTARTS times within RESTART_WINDOW_MS; one death more and the
 * platform is told to exit (onFatal), since running without a consumer would be half alive.
 * A status request has a deadline: a thread that does not answer in time is reported "not
 * answering", never waited on; one that answers nothing for 30 s (threads.ts watchdog) is hung,
 * and is terminated and restarted as a dead one is.
 */
import type { Worker } from 'node:worker_threads';
import { onThreadEnd, startThread, stopThread, watchdog, withDeadline, type ThreadPriority } from './threads';
import { ARM_FAULTS } from './faults';
import type { ConsumerMessage, ConsumerRequest, ConsumerState, ConsumerStatus, ConsumerWorkerData } from './consumer-worker';

/** Restarts allowed within RESTART_WINDOW_MS before a dying consumer thread ends the platform. */
export const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 10 * 60_000;
/** How long a status request may take before the thread counts as not answering. */
export const STATUS_DEADLINE_MS = 1000;
/** Pause before a restart, times the restarts so far. */
const RESTART_BACKOFF_MS = 500;

export interface ConsumerThreadOptions {
  /** How the consumers' work ranks against the API's and the other consumers' (threads.ts). */
  priority: ThreadPriority;
  log: (line: string) => void;
  /** The thread died more often than it may be restarted: the platform must exit with this reason. */
  onFatal: (reason: string) => void;
}

/** One running worker: its thread and the requests waiting for its replies. */
class Running {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();

  /** Why the thread was terminated on purpose (a watchdog found it hung), if it was. */
  terminatedFor?: string;
  stopWatching: () => void = () => undefined;

  constructor(readonly worker: Worker) {
    worker.on('message', (msg: ConsumerMessage) => {
      if (msg.type !== 'reply') return;
      this.pending.get(msg.id)?.resolve(msg.value);
      this.pending.delete(msg.id);
    });
  }

  request<T>(type: ConsumerRequest['type']): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ type, id } satisfies ConsumerRequest);
    }).finally(() => this.pending.delete(id));
  }

  /** The thread ended: nothing waits for a reply that cannot come. */
  ended(reason: string): void {
    for (const { reject } of this.pending.values()) reject(new Error(`the thread ${reason}`));
    this.pending.clear();
  }
}

export class ConsumerThread {
  private running?: Running;
  /** Why the thread is not running, while it is not. */
  private down?: string;
  private readonly deaths: number[] = [];
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  private faultsArmed = false;

  private constructor(
    /** What the thread runs, for measuring it (e.g. `aggregator`). */
    readonly name: string,
    private readonly data: ConsumerWorkerData,
    private readonly options: ConsumerThreadOptions,
  ) {}

  private last!: Running;

  /** The current worker thread (a restart replaces it), or the last one while it is down. */
  get worker(): Worker {
    return (this.running ?? this.last).worker;
  }

  static async start(name: string, data: ConsumerWorkerData, options: ConsumerThreadOptions): Promise<ConsumerThread> {
    const thread = new ConsumerThread(name, data, options);
    thread.running = thread.last = await thread.launch();
    return thread;
  }

  /** Starts a worker and resolves once its consumers are polling; watches it from then on. */
  private launch(): Promise<Running> {
    const worker = startThread('consumer-worker.ts', { ...this.data, threadName: this.name }, { priority: this.options.priority });
    const running = new Running(worker);
    let started = false;
    worker.on('message', (msg: ConsumerMessage) => {
      if (msg.type === 'log') this.options.log(msg.line);
    });
    return new Promise((resolve, reject) => {
      worker.on('message', (msg: ConsumerMessage) => {
        if (msg.type === 'started') {
          started = true;
          running.stopWatching = watchdog(() => running.request('status'), `the ${this.name} thread`, (reason) => {
            if (this.stopping) return;
            running.terminatedFor = reason;
            this.options.log(`error: consumer thread ${this.name} ${reason}; terminating it`);
            void running.worker.terminate();
          });
          resolve(running);
        } else if (msg.type === 'failed') {
          void worker.terminate();
          reject(new Error(`stream consumers failed to start: ${msg.message}`));
        }
      });
      onThreadEnd(worker, (ending) => {
        const reason = running.terminatedFor ?? ending;
        running.stopWatching();
        running.ended(reason);
        if (!started) reject(new Error(`stream consumers (${this.name} thread) ${reason} while starting`));
        else if (!this.stopping && this.running === running) this.died(reason);
      });
    });
  }

  private consumerNames(): string[] {
    return this.data.consumers.map((c) => c.name);
  }

  /** The thread died after it started: restart it from its checkpoints, or give up. */
  private died(reason: string): void {
    const now = Date.now();
    this.running = undefined;
    this.deaths.push(now);
    while (this.deaths[0] < now - RESTART_WINDOW_MS) this.deaths.shift();
    const what = `consumer thread ${this.name} (${this.consumerNames().join(', ')})`;
    if (this.deaths.length > MAX_RESTARTS) {
      this.down = `dead: ${reason}`;
      this.options.onFatal(`${what} died ${this.deaths.length} times within ${RESTART_WINDOW_MS / 60_000} minutes, last: ${reason}`);
      return;
    }
    this.down = `dead: ${reason}; restarting from its checkpoints (restart ${this.deaths.length} of ${MAX_RESTARTS})`;
    this.options.log(`error: ${what} ${reason}; restarting it from its checkpoints (restart ${this.deaths.length} of ${MAX_RESTARTS})`);
    this.restartTimer = setTimeout(() => this.restart(), RESTART_BACKOFF_MS * this.deaths.length);
  }

  private restart(): void {
    if (this.stopping) return;
    this.launch().then(
      (running) => {
        if (this.stopping) return void running.worker.terminate();
        this.running = this.last = running;
        this.down = undefined;
        if (this.faultsArmed) running.worker.postMessage({ type: ARM_FAULTS } satisfies ConsumerRequest);
        this.options.log(`consumer thread ${this.name} restarted`);
      },
      (err: Error) => this.died(err.message),
    );
  }

  /** Test-only: arms the thread faults named in SDP_THREAD_FAULTS (faults.ts), in this thread and its restarts. */
  armFaults(): void {
    this.faultsArmed = true;
    this.running?.worker.postMessage({ type: ARM_FAULTS } satisfies ConsumerRequest);
  }

  /** Each consumer's status; a consumer whose thread is dead or does not answer in time is down, with why. */
  async status(): Promise<Record<string, ConsumerState>> {
    const downAll = (why: string) => Object.fromEntries(this.consumerNames().map((n) => [n, { down: why }]));
    if (!this.running) return downAll(this.down ?? 'not running');
    try {
      return await withDeadline(this.running.request<Record<string, ConsumerStatus>>('status'), STATUS_DEADLINE_MS, `the ${this.name} thread`);
    } catch (err) {
      return downAll(`not answering: ${(err as Error).message}`);
    }
  }

  /** Stops after the batches in progress finish and are checkpointed, or terminates the thread after `ms`. */
  async stop(ms: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const running = this.running;
    if (!running) return;
    running.stopWatching();
    await stopThread(running.worker, () => running.request('stop'), ms, `the ${this.name} thread`, this.options.log);
  }
}
