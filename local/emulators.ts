/** Starts the AWS API emulators, each in its own worker thread with its data under the data dir. */
import type { Worker } from 'node:worker_threads';
import { onThreadEnd, startThread, stopThread, watchdog, withDeadline } from './threads';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { EmulatorKind, EmulatorMessage, EmulatorWorkerData } from './emulator-worker';

/** How long a stats request may take (a bench's busy emulator answers within it) before it counts as not answering. */
const STATS_DEADLINE_MS = 5000;

export class Emulator {
  /** Why the thread ended, once it did. */
  ended?: string;
  private stopping = false;

  constructor(
    readonly kind: EmulatorKind,
    readonly endpoint: string,
    readonly worker: Worker,
  ) {}

  private stopWatching: () => void = () => undefined;

  /**
   * Watches the thread for its whole life: `onDeath` is called once if it ends while not being
   * stopped, or answers nothing for 30 s (threads.ts watchdog). The platform cannot run without an
   * emulator (the API could not store events, the consumers could not read them), so the caller
   * ends the platform with the reason.
   */
  watch(onDeath: (reason: string) => void): void {
    let told = false;
    const tell = (reason: string) => {
      if (told || this.stopping) return;
      told = true;
      onDeath(`the ${this.kind} emulator thread ${reason}`);
    };
    onThreadEnd(this.worker, (reason) => {
      this.ended = reason;
      this.stopWatching();
      tell(reason);
    });
    this.stopWatching = watchdog(() => this.stats(), `the ${this.kind} emulator thread`, tell);
  }

  /** Requests served so far, by API operation; rejects when the thread does not answer in time. */
  stats(): Promise<Record<string, number>> {
    let onMessage: ((msg: EmulatorMessage) => void) | undefined;
    const answer = new Promise<Record<string, number>>((resolve) => {
      onMessage = (msg: EmulatorMessage) => {
        if (msg.type === 'stats') resolve(msg.requests);
      };
      this.worker.on('message', onMessage);
      this.worker.postMessage({ type: 'stats' });
    });
    return withDeadline(answer, STATS_DEADLINE_MS, `the ${this.kind} emulator thread`).finally(() => this.worker.off('message', onMessage!));
  }

  /** Terminates the thread (its stores write through, so nothing is left to flush), within `ms`. */
  async stop(ms = 5000): Promise<void> {
    this.stopping = true;
    this.stopWatching();
    await stopThread(this.worker, undefined, ms, `the ${this.kind} emulator thread`, () => undefined);
  }
}

export function startEmulator(kind: EmulatorKind, dataDir: string, port = 0, speedups = true): Promise<Emulator> {
  const path = join(dataDir, kind);
  mkdirSync(path, { recursive: true });
  const workerData: EmulatorWorkerData = { kind, path, port, speedups };
  const worker = startThread('emulator-worker.ts', workerData);
  return new Promise((resolve, reject) => {
    const onMessage = (msg: EmulatorMessage) => {
      if (msg.type === 'listening') {
        worker.off('message', onMessage);
        resolve(new Emulator(kind, `http://127.0.0.1:${msg.port}`, worker));
      } else if (msg.type === 'failed') {
        void worker.terminate();
        reject(new Error(`${kind} emulator failed to start: ${msg.message}`));
      }
    };
    worker.on('message', onMessage);
    // Once it listens, the Emulator's watch() takes over; a settled promise ignores this.
    onThreadEnd(worker, (reason) => reject(new Error(`${kind} emulator thread ${reason} while starting`)));
  });
}

/** An S3 client for the local s3rver: path-style, its fixed credentials, checksums only where S3 requires them. */
/** An SDK client configuration for a local emulator at `endpoint` (they accept any credentials). */
export function emulatorClientConfig(endpoint: string) {
  return { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestHandler: new NodeHttpHandler() };
}

export function emulatorS3Client(endpoint: string): S3Client {
  return new S3Client({ ...emulatorClientConfig(endpoint), forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
}
