/**
 * Runs one AWS API emulator (kinesalite, dynalite or s3rver) in a worker thread, so the emulators
 * use the machine's other core while the main thread serves HTTP and runs the handlers. It reports
 * the port it listens on and counts the API requests it serves, by operation. kinesalite does its
 * sequence arithmetic on BigInt (kinesalite-sequences.ts) and dynalite caches table descriptions,
 * reads synchronously and batches its writes (dynalite-speedups.ts): same answers, less of the
 * emulator thread per record. s3rver deletes conditionally on ETags as S3 does
 * (s3rver-conditional-deletes.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Server, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { speedUpDynalite } from './dynalite-speedups';
import { useBigIntSequences } from './kinesalite-sequences';
import { useConditionalDeletes } from './s3rver-conditional-deletes';
import { useDurablePuts } from './s3rver-durable-puts';
import { KINESALITE_SHARD_LIMIT } from './shard-limits';
import { checkLevelStore } from './level-store-check';
import { ARM_FAULTS, armThreadFault } from './faults';
import { answerStoreErrors } from './emulator-storage-errors';
import { measuringCapacity, meterDynalite, meterHttpMethods } from './capacity-meter';

export type EmulatorKind = 'kinesis' | 'dynamodb' | 's3';
export interface EmulatorWorkerData {
  kind: EmulatorKind;
  path: string;
  port: number;
  /** False runs kinesalite and dynalite exactly as published, without the speed-ups below (benches compare both). */
  speedups?: boolean;
}
export type EmulatorMessage =
  | { type: 'listening'; port: number }
  | { type: 'stats'; requests: Record<string, number> }
  | { type: 'failed'; message: string };

const { kind, path, port, speedups = true } = workerData as EmulatorWorkerData;

// What ends the thread, in full (the main thread sees a cloned, often empty, object): logged, then fatal.
process.on('uncaughtException', (err) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  process.stderr.write(`${kind} emulator: uncaught ${require('node:util').inspect(err)}\n`);
  throw err;
});
const requests: Record<string, number> = {};

/** The store failed (e.g. the disk is full): said once a second at most, not per request. */
let lastStoreErrorLog = 0;
function storeFailed(err: Error): void {
  if (Date.now() - lastStoreErrorLog < 1000) return;
  lastStoreErrorLog = Date.now();
  process.stderr.write(`error: the ${kind} emulator's store failed; answering 500: ${err.message}\n`);
}

function countRequests(server: Server): void {
  server.on('request', (req: IncomingMessage) => {
    const target = req.headers['x-amz-target'];
    const op = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : req.method ?? 'unknown';
    requests[op] = (requests[op] ?? 0) + 1;
  });
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17+) no longer
 * offers: every listing of more than 1,000 keys failed with InternalError. The token only has to
 * round-trip through s3rver itself, so in this worker thread (its own crypto module instance)
 * DES with an 8-byte key and IV is served by AES-128-CBC with both doubled.
 */
function allowS3rverContinuationTokens(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const crypto = require('node:crypto') as typeof import('node:crypto');
  const widen = (b: Buffer) => Buffer.concat([b, b]);
  const cipheriv = crypto.createCipheriv;
  const decipheriv = crypto.createDecipheriv;
  Object.assign(crypto, {
    createCipheriv: (algorithm: string, key: Buffer, iv: Buffer, options?: unknown) =>
      algorithm === 'des' ? cipheriv('aes-128-cbc', widen(key), widen(iv)) : (cipheriv as (...a: unknown[]) => unknown)(algorithm, key, iv, options),
    createDecipheriv: (algorithm: string, key: Buffer, iv: Buffer, options?: unknown) =>
      algorithm === 'des' ? decipheriv('aes-128-cbc', widen(key), widen(iv)) : (decipheriv as (...a: unknown[]) => unknown)(algorithm, key, iv, options),
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function start(): Promise<number> {
  if (kind === 'kinesis' || kind === 'dynamodb') await checkLevelStore(kind, path);
  if (kind === 'kinesis') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (speedups) useBigIntSequences(require('kinesalite/db'));
    answerStoreErrors('kinesalite', storeFailed);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kinesalite = require('kinesalite');
    const server: Server = kinesalite({ path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: KINESALITE_SHARD_LIMIT });
    countRequests(server);
    return listen(server);
  }
  if (kind === 'dynamodb') {
    if (speedups) speedUpDynalite();
    if (measuringCapacity()) meterDynalite(requests);
    answerStoreErrors('dynalite', storeFailed);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dynalite = require('dynalite');
    const server: Server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    countRequests(server);
    return listen(server);
  }
  allowS3rverContinuationTokens();
  useConditionalDeletes();
  useDurablePuts();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver');
  const s3rver = new S3rver({ address: '127.0.0.1', port, directory: path, silent: true });
  const info: AddressInfo = await s3rver.run();
  if (measuringCapacity()) meterHttpMethods(s3rver.httpServer as Server, requests);
  return info.port;
}

start().then(
  (listening) => parentPort!.postMessage({ type: 'listening', port: listening } satisfies EmulatorMessage),
  (err: Error) => parentPort!.postMessage({ type: 'failed', message: err.message } satisfies EmulatorMessage),
);

parentPort!.on('message', (msg: { type: string }) => {
  if (msg.type === ARM_FAULTS) armThreadFault(kind);
  if (msg.type === 'stats') parentPort!.postMessage({ type: 'stats', requests: { ...requests } } satisfies EmulatorMessage);
});
