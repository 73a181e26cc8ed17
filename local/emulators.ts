/** Starts the AWS API emulators, each in its own worker thread with its data under the data dir. */
import type { Worker } from 'node:worker_threads';
import { startThread } from './threads';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { EmulatorKind, EmulatorMessage, EmulatorWorkerData } from './emulator-worker';

export class Emulator {
  constructor(
    readonly kind: EmulatorKind,
    readonly endpoint: string,
    readonly worker: Worker,
  ) {}

  /** Requests served so far, by API operation. */
  stats(): Promise<Record<string, number>> {
    return new Promise((resolve) => {
      const onMessage = (msg: EmulatorMessage) => {
        if (msg.type !== 'stats') return;
        this.worker.off('message', onMessage);
        resolve(msg.requests);
      };
      this.worker.on('message', onMessage);
      this.worker.postMessage({ type: 'stats' });
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
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
    worker.once('error', (err) => reject(new Error(`${kind} emulator crashed: ${err.message}`)));
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
