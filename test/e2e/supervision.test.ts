/**
 * Supervised parts, e2e: worker threads that die or hang after start-up (test-only faults,
 * local/faults.ts armThreadFault) are seen by /health within 2 s and named; a consumer thread is
 * restarted from its checkpoints a bounded number of times, then the platform exits 1 with a
 * one-line reason, as it does at once when an emulator thread dies; SIGTERM ends the platform
 * within 10 s whatever state its parts are in; a consumer that cannot make progress is unhealthy
 * and `sdp status` exits 1; a checkpoint file holding the JSON string "x" neither hangs /health
 * nor SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, startPlatform, tempDataDir, type RunningPlatform } from '../support/platform';
import { waitFor } from '../../local/wait';
import { MAX_RESTARTS } from '../../local/consumers';

jest.setTimeout(180_000);

const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');

interface Health {
  status: number;
  body: { status: string; components: Record<string, { status: string; reason?: string; shards?: { checkpoint?: string }[] }> };
}

/** GET /health, which must answer within 2 s (the fetch is aborted after that, failing the test). */
async function health(platform: RunningPlatform): Promise<Health> {
  const res = await fetch(`${platform.outputs.UrlForAPI}health`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as Health['body'] };
}

/** The exit code of a platform process once it exits by itself, within `ms`. */
async function exitCode(platform: RunningPlatform, ms: number): Promise<number | null> {
  await waitFor(() => `the platform to exit; its log:\n${platform.log()}`, () => platform.process.exitCode !== null || platform.process.signalCode !== null, ms, 100);
  return platform.process.exitCode;
}

/** SIGTERM, and how long the platform took to exit. */
async function sigterm(platform: RunningPlatform): Promise<number> {
  const started = Date.now();
  platform.process.kill('SIGTERM');
  await exitCode(platform, 15_000);
  const ms = Date.now() - started;
  console.log(`SIGTERM to exit: ${ms} ms`);
  return ms;
}

async function sendBids(platform: RunningPlatform, n: number, prefix: string): Promise<void> {
  const events = Array.from({ length: n }, (_, i) => ({ tx_id: `${prefix}-${i}`, app_uid: `u${i}`, campaign_item_id: 42 }));
  const res = await fetch(`${platform.outputs.UrlForAPI}bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
  expect(res.status).toBe(200);
}

describe('supervised parts', () => {
  const running: RunningPlatform[] = [];
  const start = async (env: Record<string, string> = {}, dataDir?: string) => {
    const platform = await startPlatform({ env, dataDir, args: ['--compaction-interval', '0', '--retrain-interval', '0'] });
    running.push(platform);
    return platform;
  };
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });

  test('a consumer thread that dies is named by /health within 2 s, restarted from its checkpoints, and after too many deaths the platform exits 1 with the reason', async () => {
    const platform = await start({ SDP_THREAD_FAULTS: 'aggregator:crash:2' });
    const down = await pollUntil('/health naming the dead aggregator', () => health(platform), (h) => h.body.components.aggregator?.status === 'down', 30_000);
    expect(down.status).toBe(503);
    expect(down.body.components.aggregator.reason).toMatch(/injected fault: thread aggregator crashed/);
    await waitFor('the aggregator thread restarted', () => platform.log().includes('consumer thread aggregator restarted'), 30_000);
    expect(await exitCode(platform, 90_000)).toBe(1);
    expect(platform.log()).toMatch(new RegExp(`error: consumer thread aggregator \\(aggregator\\) died ${MAX_RESTARTS + 1} times within 10 minutes, last: threw .*injected fault`));
  });

  test('an emulator thread that dies ends the platform with exit 1 and the reason', async () => {
    const platform = await start({ SDP_THREAD_FAULTS: 'dynamodb:crash:2' });
    expect(await exitCode(platform, 30_000)).toBe(1);
    expect(platform.log()).toMatch(/error: the dynamodb emulator thread threw .*injected fault: thread dynamodb crashed/);
  });

  test('a hung consumer thread is named "not answering" within 2 s, terminated and restarted after 30 s, and SIGTERM ends the platform within 10 s', async () => {
    const platform = await start({ SDP_THREAD_FAULTS: 'lake-writer:hang:2' });
    const hung = await pollUntil('/health naming the hung lake writer', () => health(platform), (h) => h.body.components['lake-writer-events']?.status === 'down', 30_000);
    expect(hung.status).toBe(503);
    expect(hung.body.components['lake-writer-events'].reason).toMatch(/not answering/);
    expect(hung.body.components['lake-writer-aggregates'].reason).toMatch(/not answering/);
    await waitFor('the watchdog to restart the hung thread', () => platform.log().includes('consumer thread lake-writer restarted'), 90_000);
    expect(platform.log()).toMatch(/error: consumer thread lake-writer did not answer for 30 s \(hung\); terminating it/);
    // The restarted thread hangs again (the fault is armed at each start): SIGTERM while it is hung.
    await pollUntil('/health naming the lake writer hung again', () => health(platform), (h) => /not answering/.test(h.body.components['lake-writer-events']?.reason ?? ''), 30_000);
    expect(await sigterm(platform)).toBeLessThan(10_000);
  });

  test('a hung emulator thread is named "not answering" within 2 s, and SIGTERM still ends the platform within 10 s', async () => {
    const platform = await start({ SDP_THREAD_FAULTS: 'kinesis:hang:2' });
    const hung = await pollUntil('/health naming the hung kinesis emulator', () => health(platform), (h) => h.body.components.kinesis?.status === 'not answering', 30_000);
    expect(hung.status).toBe(503);
    void sendBids(platform, 1, 'hung').catch(() => undefined); // a request in flight to the hung emulator, left waiting
    expect(await sigterm(platform)).toBeLessThan(10_000);
  });

  test('a consumer whose batches keep failing is unhealthy with the reason, and sdp status exits 1', async () => {
    const platform = await start({ SDP_FAILING_CONSUMERS: 'aggregator' });
    await sendBids(platform, 5, 'failing');
    const unhealthy = await pollUntil('/health naming the failing aggregator', () => health(platform), (h) => h.body.components.aggregator?.status === 'unhealthy', 60_000);
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body.components.aggregator.reason).toMatch(/its batch on shardId-\S+ failed \d+ times in a row: injected fault: aggregator cannot process its batch/);
    const status = spawnSync(process.execPath, [SDP, 'status', '--data-dir', platform.dataDir], { encoding: 'utf8', env: { ...process.env, SDP_DATA_DIR: '' } });
    expect(status.status).toBe(1);
    expect(status.stdout).toMatch(/aggregator\s+unhealthy\s+its batch on shardId/);
    expect(status.stderr).toMatch(/the platform is unhealthy/);
  });

  /** A data dir whose aggregator processed events and checkpointed them, then stopped: made once, copied by each case. */
  let checkpointed: Promise<string> | undefined;
  const checkpointedDataDir = () =>
    (checkpointed ??= (async () => {
      const first = await start();
      await sendBids(first, 20, 'checkpointed');
      await pollUntil('the aggregator to checkpoint', () => health(first), (h) => (h.body.components.aggregator?.shards ?? []).some((s) => s.checkpoint), 60_000);
      await first.stop();
      return first.dataDir;
    })());

  /**
   * A platform restarted on a data dir (a copy of its own) whose aggregator checkpoints were
   * replaced by `content` after events were processed; undefined when the start was refused naming
   * the file (the state validation at start), which is as good.
   */
  async function restartWithCheckpoints(content: string): Promise<RunningPlatform | undefined> {
    const dataDir = tempDataDir('sdp-supervision-');
    cpSync(await checkpointedDataDir(), dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'checkpoints', 'aggregator.json'), content);
    try {
      return await start({}, dataDir);
    } catch (err) {
      expect((err as Error).message).toMatch(/aggregator\.json/);
      return undefined;
    }
  }

  /** Polls /health, each answer within 2 s, until it names the aggregator (its reason) or the platform ends (undefined). */
  async function aggregatorNamed(platform: RunningPlatform): Promise<string | undefined> {
    let named: string | undefined;
    await waitFor(
      () => `/health to name the aggregator or the platform to exit; log:\n${platform.log()}`,
      async () => {
        if (platform.process.exitCode !== null) return true;
        const h = await health(platform).catch((err: Error) => {
          if (platform.process.exitCode !== null || /ECONNREFUSED|fetch failed/.test(String(err.cause ?? err.message))) return undefined;
          throw err;
        });
        if (h?.status === 503 && h.body.components.aggregator?.status !== 'ok') named = h.body.components.aggregator.reason;
        return named !== undefined;
      },
      60_000,
      200,
    );
    return named;
  }

  test('a checkpoint file holding "x" neither hangs /health nor SIGTERM', async () => {
    const second = await restartWithCheckpoints('"x"');
    if (!second) return;
    const named = await aggregatorNamed(second);
    // Its checkpoints cannot be written: it re-reads from the last one written, and says so.
    if (named !== undefined) expect(named).toMatch(/checkpointing shardId-\S+ failed \d+ times in a row: Cannot create property/);
    if (second.process.exitCode === null) expect(await sigterm(second)).toBeLessThan(10_000);
    else expect(second.process.exitCode).toBe(1);
  });

  test('a checkpoint of garbage: /health names the stalled aggregator, and sdp status exits 1 without "0 ms behind"', async () => {
    const second = await restartWithCheckpoints(JSON.stringify({ 'shardId-000000000000': 'garbage' }));
    if (!second) return;
    expect(await aggregatorNamed(second)).toMatch(/reading shardId-000000000000 failed \d+ times in a row/);
    const status = spawnSync(process.execPath, [SDP, 'status', '--data-dir', second.dataDir], { encoding: 'utf8', env: { ...process.env, SDP_DATA_DIR: '' } });
    expect(status.status).toBe(1);
    const row = status.stdout.split('\n').find((l) => /^\s*aggregator\s/.test(l));
    expect(row).toMatch(/unhealthy\s+reading shardId-000000000000 failed .* lag unknown/);
    expect(row).not.toMatch(/0 ms behind/);
  });

  test('a checkpoint far ahead of its shard (10^40): /health names the aggregator instead of skipping new events silently', async () => {
    const second = await restartWithCheckpoints(JSON.stringify({ 'shardId-000000000000': `1${'0'.repeat(40)}` }));
    if (!second) return;
    const named = await aggregatorNamed(second);
    console.log(`checkpoint 10^40 ahead: ${named}`);
    expect(named).toMatch(/shardId-000000000000/);
  });
});
