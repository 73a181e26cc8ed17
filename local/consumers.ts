/** The main thread's handle on a consumer worker thread (consumer-worker.ts): start, status, stop. */
import type { Worker } from 'node:worker_threads';
import { startThread, type ThreadPriority } from './threads';
import type { ConsumerMessage, ConsumerRequest, ConsumerStatus, ConsumerWorkerData } from './consumer-worker';

export class ConsumerThread {
  private nextId = 0;
  private readonly pending = new Map<number, (value: unknown) => void>();

  private constructor(
    /** What the thread runs, for measuring it (e.g. `aggregator`). */
    readonly name: string,
    readonly worker: Worker,
  ) {
    worker.on('message', (msg: ConsumerMessage) => {
      if (msg.type !== 'reply') return;
      this.pending.get(msg.id)?.(msg.value);
      this.pending.delete(msg.id);
    });
  }

  /** `priority`: how the consumers' work ranks against the API's and the other consumers' (threads.ts). */
  static start(name: string, data: ConsumerWorkerData, log: (line: string) => void, options: { priority: ThreadPriority }): Promise<ConsumerThread> {
    const worker = startThread('consumer-worker.ts', data, options);
    worker.on('message', (msg: ConsumerMessage) => {
      if (msg.type === 'log') log(msg.line);
    });
    return new Promise((resolve, reject) => {
      worker.on('message', (msg: ConsumerMessage) => {
        if (msg.type === 'started') resolve(new ConsumerThread(name, worker));
        else if (msg.type === 'failed') {
          void worker.terminate();
          reject(new Error(`stream consumers failed to start: ${msg.message}`));
        }
      });
      worker.once('error', (err) => reject(new Error(`stream consumers crashed: ${err.message}`)));
    });
  }

  private request<T>(type: ConsumerRequest['type']): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (value: unknown) => void);
      this.worker.postMessage({ type, id } satisfies ConsumerRequest);
    });
  }

  status(): Promise<Record<string, ConsumerStatus>> {
    return this.request('status');
  }

  /** Stops after the batches in progress finish and are checkpointed. */
  async stop(): Promise<void> {
    await this.request('stop');
    await this.worker.terminate();
  }
}
