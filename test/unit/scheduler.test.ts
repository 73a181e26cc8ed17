/**
 * The local scheduler's job threads (local/scheduler.ts) are watched for their whole life: a job
 * thread that ends without an answer fails its run instead of leaving it pending for ever, and a
 * stop with a deadline terminates a job that does not finish in time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invokeInWorker, Scheduler } from '../../local/scheduler';
import { jobRuns } from '../../local/jobs';
import { waitFor } from '../../local/wait';
import { lockHolder } from '../../local/data-dir-lock';

jest.setTimeout(60_000);

const fixture = (name: string) => `../test/support/jobs/${name}`;

test('a job thread that exits without an answer rejects the run', async () => {
  await expect(invokeInWorker(fixture('exiting'))).rejects.toThrow(/job thread exited with code 3 before the job finished/);
});

test('a stop with a deadline ends a hung job and records its run failed', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sdp-scheduler-'));
  const scheduler = new Scheduler(dataDir, () => undefined);
  scheduler.start([{ name: 'hung', handlerModule: fixture('hanging'), intervalMs: 100 }]);
  // Wait for the run to have its thread (the job's lock is held while a run is in progress).
  await waitFor('the hung job to start', async () => (await lockHolder(dataDir, process.platform, 'job-hung')) !== undefined, 20_000);
  const started = Date.now();
  await scheduler.stop(500);
  expect(Date.now() - started).toBeLessThan(5000);
  expect(jobRuns(dataDir, 'hung').map((r) => r.outcome)).toEqual(['failed']);
});
