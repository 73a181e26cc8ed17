/**
 * The data dir's lock, e2e: a stale sdp.pid naming another live process (here the test's own)
 * does not block a start; with a platform running and its sdp.pid gone, a second start on the same
 * data dir is refused with a message naming the holder's pid and URL, and CLI commands still find
 * the running platform.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPlatform, tempDataDir, type RunningPlatform } from '../support/platform';

jest.setTimeout(120_000);

const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
const ARGS = ['--compaction-interval', '0', '--retrain-interval', '0'];

describe('data-dir lock', () => {
  const running: RunningPlatform[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  test('a stale sdp.pid holding the pid of another live process does not block a start', async () => {
    const dataDir = tempDataDir();
    writeFileSync(join(dataDir, 'sdp.pid'), String(process.pid));
    running.push(await startPlatform({ dataDir, args: ARGS }));
  });

  test('without the pid file, a second start on the same data dir is refused naming the holder; CLI commands find the holder', async () => {
    const first = await startPlatform({ args: ARGS });
    running.push(first);
    rmSync(join(first.dataDir, 'sdp.pid'), { force: true });
    await expect(startPlatform({ dataDir: first.dataDir, args: ARGS })).rejects.toThrow(
      `another sdp platform (pid ${first.process.pid}, serving ${first.outputs.UrlForAPI}) is using ${first.dataDir}`,
    );
    const status = spawnSync(process.execPath, [SDP, 'status', '--json', '--data-dir', first.dataDir], { encoding: 'utf8', env: { ...process.env, SDP_DATA_DIR: '' } });
    expect(status.stderr).not.toMatch(/no local platform is running/);
    expect(JSON.parse(status.stdout).components.api.status).toBe('ok');
  });
});
