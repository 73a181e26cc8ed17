/**
 * The job lease (lambdas/commons/job-lease.ts) against dynalite, a real implementation of
 * DynamoDB's API: one holder at a time, taken over only once it has run out, let go only by its holder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server, AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tables } from '../../schemas/resources';
import { takeJobLease } from '../../lambdas/commons/job-lease';
import { ensureTable } from '../../local/provision';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: object) => Server;

let server: Server;
let db: DynamoDBClient;
const dir = mkdtempSync(join(tmpdir(), 'sdp-job-lease-'));
const table = tables.jobLeases.name;

beforeAll(async () => {
  server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  db = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await ensureTable(db, tables.jobLeases);
});

afterAll(async () => {
  db.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const take = (job: string, holder: string, nowMs: number, untilMs: number) => takeJobLease(db, table, { job, holder, nowMs, untilMs });

describe('job lease', () => {
  it('is held by one run at a time, and free again once its holder lets go', async () => {
    const first = await take('compaction', 'run-1', 1_000, 10_000);
    expect(first).toBeDefined();
    expect(await take('compaction', 'run-2', 2_000, 11_000)).toBeUndefined();
    await first!.release();
    expect(await take('compaction', 'run-2', 3_000, 12_000)).toBeDefined();
  });

  it('is taken over once it has run out (a run killed at its timeout never let go)', async () => {
    expect(await take('crashy', 'killed', 0, 5_000)).toBeDefined();
    expect(await take('crashy', 'next', 5_000, 9_000)).toBeUndefined();
    const next = await take('crashy', 'next', 5_001, 9_000);
    expect(next).toBeDefined();
    expect(await take('crashy', 'third', 6_000, 10_000)).toBeUndefined();
  });

  it('is let go only by its holder: a late release of a lease taken over leaves the new holder in place', async () => {
    const old = await take('late', 'old', 0, 1_000);
    const taker = await take('late', 'taker', 2_000, 30_000);
    expect(taker).toBeDefined();
    await old!.release();
    expect(await take('late', 'third', 3_000, 40_000)).toBeUndefined();
  });

  it('keeps jobs apart', async () => {
    expect(await take('job-a', 'x', 0, 100_000)).toBeDefined();
    expect(await take('job-b', 'y', 0, 100_000)).toBeDefined();
  });
});
