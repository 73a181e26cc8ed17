/**
 * The job lease (lambdas/commons/job-lease.ts) against dynalite, a real implementation of
 * DynamoDB's API: one holder at a time, taken over only once it has run out, let go only by its holder.
 */
import { tables } from '../../schemas/resources';
import { takeJobLease } from '../../lambdas/commons/job-lease';
import { ensureTable } from '../../local/provision';
import { testDynalite } from '../support/dynalite';

const table = tables.jobLeases.name;
const dynamo = testDynalite('sdp-job-lease-', (db) => ensureTable(db, tables.jobLeases));

const take = (job: string, holder: string, nowMs: number, untilMs: number) => takeJobLease(dynamo.client, table, { job, holder, nowMs, untilMs });

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
