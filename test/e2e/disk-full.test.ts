/**
 * A full disk, e2e: the platform's data dir on a small tmpfs, filled while a client sends bids.
 * While events cannot be stored, ingestion answers 503 with Retry-After (never 200, never another
 * error); once the filler file is deleted, service comes back without a restart; and every bid is
 * counted once in the reports in the end (the client resends each 503'd batch until it gets a
 * 200, as it should), so nothing answered 200 went unstored. Mounting tmpfs needs root (CI runs
 * the tests as root); where it cannot be mounted the test is skipped, saying why.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';

jest.setTimeout(300_000);

const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');

const SIZE_MB = 96;
const CAMPAIGN = 8801;
const BATCHES = 40;
const BATCH_SIZE = 50;
/** How long the disk stays full once ingestion first answered 503. */
const FULL_FOR_MS = 4000;

/** Mounts a tmpfs of SIZE_MB; the reason it cannot, or the mount point. */
function mountTmpfs(): { dir?: string; why?: string } {
  if (process.platform !== 'linux') return { why: 'tmpfs needs Linux' };
  if (process.getuid?.() !== 0) return { why: 'mounting a tmpfs needs root (CI runs the tests as root)' };
  const dir = mkdtempSync(join(tmpdir(), 'sdp-disk-full-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_MB}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mount.status !== 0) return { why: `mount -t tmpfs failed: ${(mount.stderr || mount.error?.message || '').trim()}` };
  return { dir };
}

/** Writes a file until the disk is full (ENOSPC). */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1024 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // The last pages: whatever a smaller write still fits.
  const small = openSync(`${path}.tail`, 'w');
  try {
    for (;;) writeSync(small, Buffer.alloc(4096, 1));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(small);
  }
}

const { dir: mountPoint, why } = mountTmpfs();
if (!mountPoint) console.warn(`skipping the disk-full test: ${why}`);
const maybe = mountPoint ? describe : describe.skip;

maybe('a full disk', () => {
  let platform: RunningPlatform | undefined;
  afterAll(async () => {
    await platform?.kill();
    spawnSync('umount', [mountPoint!]);
    rmSync(mountPoint!, { recursive: true, force: true });
  });

  test('ingestion answers 503 with Retry-After while events cannot be stored, serves again once space is freed, and every 200 is counted', async () => {
    const dataDir = join(mountPoint!, 'data');
    platform = await startPlatform({ dataDir, args: ['--compaction-interval', '0', '--retrain-interval', '0'] });
    const filler = join(mountPoint!, 'filler');
    const statuses: Record<string, number> = {};
    let full = false;
    let freed = false;
    let first503At: number | undefined;
    let answered200WhileFull = 0;
    for (let b = 0; b < BATCHES; b++) {
      const bids = Array.from({ length: BATCH_SIZE }, (_, i) => ({ tx_id: `full-${b}-${i}`, app_uid: `u${i}`, campaign_item_id: CAMPAIGN }));
      const deadline = Date.now() + 90_000;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`batch ${b} was not accepted within 90 s (answers so far ${JSON.stringify(statuses)}); the platform's log:\n${platform.log().slice(-3000)}`);
        const res = await fetch(`${platform.outputs.UrlForAPI}bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bids), signal: AbortSignal.timeout(30_000) }).catch((err: Error) => {
          throw new Error(`POST /bid failed (${err.message}: ${(err.cause as Error)?.message}); exit code ${platform!.process.exitCode}, signal ${platform!.process.signalCode}; the platform's log:\n${platform!.log().slice(-3000)}`);
        });
        await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 200) {
          if (full && !freed) answered200WhileFull++;
          break;
        }
        expect({ status: res.status, retryAfter: res.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
        first503At ??= Date.now();
        if (full && !freed && Date.now() - first503At > FULL_FOR_MS) {
          rmSync(filler, { force: true });
          rmSync(`${filler}.tail`, { force: true });
          freed = true;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      if (b === 5) {
        fillDisk(filler);
        full = true;
      }
    }
    expect(full && freed).toBe(true);
    expect(first503At).toBeDefined();
    // Nothing answered 200 went unstored: every bid is counted, once.
    await pollUntil(
      'every bid counted',
      async () => (await (await fetch(`${platform!.outputs.UrlForReports}${CAMPAIGN}`)).json()) as { bids: number },
      (r) => r.bids === BATCHES * BATCH_SIZE,
      120_000,
    );
    // The platform recovered without a restart: it is the same process, and healthy again.
    expect(platform.process.exitCode).toBeNull();
    await pollUntil('/health 200 again', async () => (await fetch(`${platform!.outputs.UrlForAPI}health`)).status, (s) => s === 200, 60_000);
    // The lake too holds every event, once: sdp audit reconciles the stream, the aggregates and the
    // lake (the lake writer batches for a few seconds, so it is retried until it has caught up).
    const audit = () => spawnSync(process.execPath, [SDP, 'audit', '--json', '--wait', '60', '--data-dir', dataDir], { encoding: 'utf8', env: { ...process.env, SDP_DATA_DIR: '' } });
    let result = audit();
    for (let i = 0; i < 10 && result.status !== 0; i++) result = audit();
    expect({ code: result.status, stderr: result.stderr.split(/[\r\n]/).filter((l) => !l.startsWith('waiting') && l !== '') }).toEqual({ code: 0, stderr: ['reading the events stream, the aggregates and the lake...'] });
    console.log(`disk-full: answers ${JSON.stringify(statuses)}; ${answered200WhileFull} batches answered 200 while the disk was full (stored in what space was left)`);
  });
});
