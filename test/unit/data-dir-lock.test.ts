/**
 * The data dir's lock (local/data-dir-lock.ts): exclusive while held, naming its holder's pid and
 * URL to whoever finds it taken, free again once released or once its process dies; the socket
 * file used where there is no abstract namespace is replaced when a dead process left it. The same
 * locks, one per job, keep the scheduled jobs' runs apart (local/jobs.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLock, DataDirLockedError, lockAddress, lockHolder } from '../../local/data-dir-lock';
import { waitFor } from '../../local/wait';
import { JobBusyError, runJob, runJobAfterCurrent } from '../../local/jobs';

const dir = () => mkdtempSync(join(tmpdir(), 'sdp-lock-'));

describe.each(['linux', 'darwin'] as const)('data-dir lock (%s addressing)', (platform) => {
  test('a second taker is refused with the holder named; a release frees it', async () => {
    const dataDir = dir();
    const lock = await DataDirLock.acquire(dataDir, platform);
    await expect(DataDirLock.acquire(dataDir, platform)).rejects.toThrow(new DataDirLockedError(`another sdp platform (pid ${process.pid}, still starting) is using ${dataDir}; stop it or use another --data-dir`));
    lock.setUrl('http://127.0.0.1:1234/');
    await expect(DataDirLock.acquire(dataDir, platform)).rejects.toThrow(`pid ${process.pid}, serving http://127.0.0.1:1234/`);
    expect(await lockHolder(dataDir, platform)).toEqual({ pid: process.pid, url: 'http://127.0.0.1:1234/' });
    await lock.release();
    expect(await lockHolder(dataDir, platform)).toBeUndefined();
    await (await DataDirLock.acquire(dataDir, platform)).release();
  });

  test('a stale pid file does not matter: the lock is the socket', async () => {
    const dataDir = dir();
    writeFileSync(join(dataDir, 'sdp.pid'), String(process.pid));
    await (await DataDirLock.acquire(dataDir, platform)).release();
  });
});

test('the kernel releases the lock when its holder dies (SIGKILL)', async () => {
  const dataDir = dir();
  const script = `require('tsx/cjs'); require(${JSON.stringify(join(__dirname, '..', '..', 'local', 'data-dir-lock.ts'))}).DataDirLock.acquire(${JSON.stringify(dataDir)}).then(() => { console.log('locked'); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the child to take the lock', () => out.includes('locked'), 20_000);
  await expect(DataDirLock.acquire(dataDir)).rejects.toThrow(`pid ${child.pid}`);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  await (await DataDirLock.acquire(dataDir)).release();
});

test('a socket file left by a dead process is replaced (non-Linux addressing)', async () => {
  const dataDir = dir();
  const address = lockAddress(dataDir, 'darwin');
  // A bound-then-closed listener leaves its socket file behind when the process dies; simulate it.
  const stale = createServer();
  await new Promise<void>((r) => stale.listen(address, r));
  // Closing unlinks the file; recreate a plain file where it was, as a crash would leave a dead socket.
  await new Promise<void>((r) => stale.close(() => r()));
  writeFileSync(address, '');
  expect(existsSync(address)).toBe(true);
  const lock = await DataDirLock.acquire(dataDir, 'darwin');
  expect(await lockHolder(dataDir, 'darwin')).toEqual({ pid: process.pid });
  await lock.release();
});

describe('job locks (runJob)', () => {
  test('one run of a job at a time, naming the process running it; other jobs and the platform lock are apart', async () => {
    const dataDir = dir();
    let finish!: () => void;
    const running = runJob(dataDir, 'compaction', 'test', () => new Promise<{ ok: boolean }>((r) => (finish = () => r({ ok: true }))));
    await waitFor('the run to hold its lock', async () => (await lockHolder(dataDir, process.platform, 'job-compaction')) !== undefined, 10_000);
    await expect(runJob(dataDir, 'compaction', 'test', async () => ({}))).rejects.toThrow(new JobBusyError(`a run of compaction is in progress (pid ${process.pid}) on ${dataDir}`));
    await expect(runJob(dataDir, 'training', 'test', async () => ({ other: true }))).resolves.toEqual({ other: true });
    await (await DataDirLock.acquire(dataDir)).release();
    finish();
    await running;
    await expect(runJob(dataDir, 'compaction', 'test', async () => ({ again: true }))).resolves.toEqual({ again: true });
  });

  test('a command waits for the run in progress (saying so once), then runs; past its wait, it is busy', async () => {
    const dataDir = dir();
    let finish!: () => void;
    const running = runJob(dataDir, 'compaction', 'schedule', () => new Promise<{ ok: boolean }>((r) => (finish = () => r({ ok: true }))));
    await waitFor('the run to hold its lock', async () => (await lockHolder(dataDir, process.platform, 'job-compaction')) !== undefined, 10_000);
    await expect(runJobAfterCurrent(dataDir, 'compaction', 'sdp compact', async () => ({}), 0, () => undefined)).rejects.toThrow(JobBusyError);
    const told: string[] = [];
    const waiting = runJobAfterCurrent(dataDir, 'compaction', 'sdp compact', async () => ({ after: true }), 30_000, (why) => told.push(why));
    await waitFor('the command to say it waits', () => told.length > 0, 10_000);
    finish();
    await running;
    await expect(waiting).resolves.toEqual({ after: true });
    expect(told).toEqual([`a run of compaction is in progress (pid ${process.pid}) on ${dataDir}; waiting for it to end`]);
  });

  test('a job lock is released by the kernel when the process running the job dies, and no pid file can block it', async () => {
    const dataDir = dir();
    mkdirSync(join(dataDir, 'locks'));
    writeFileSync(join(dataDir, 'locks', 'compaction.lock'), String(process.pid)); // the old lock file, naming a live pid
    const jobs = JSON.stringify(join(__dirname, '..', '..', 'local', 'jobs.ts'));
    const script = `require('tsx/cjs'); require(${jobs}).runJob(${JSON.stringify(dataDir)}, 'compaction', 'child', () => { console.log('running'); return new Promise(() => setInterval(() => {}, 1000)); });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the child to run the job', () => out.includes('running'), 20_000);
    await expect(runJob(dataDir, 'compaction', 'test', async () => ({}))).rejects.toThrow(`pid ${child.pid}`);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await expect(runJob(dataDir, 'compaction', 'test', async () => ({ ran: true }))).resolves.toEqual({ ran: true });
  });
});
