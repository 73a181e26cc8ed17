/**
 * The lake exact under replays of the lake writer's checkpoint: after a workload with resends has
 * reached the lake, the platform is stopped, the lake writer's checkpoint of the events stream is
 * deleted (it reads the stream again from its start) or replaced by an older valid copy taken
 * earlier (it reads again from there), and the platform restarted. Each time, once the lake writer
 * has read the stream again to its tip, the lake holds every event exactly once (counted by
 * (type, tx_id) in raw and Parquet) and `sdp audit` is clean.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateWorkload, type WorkloadEvent } from '../../pipelines/adtech/workload';
import { sendEvents } from '../../local/send';
import { LakeSql, localLakeRoot } from '../../local/lake-sql';
import { pollUntil, startPlatform, tempDataDir, type RunningPlatform } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
const HOUR = 3_600_000;
const env = { ALLOWED_LATENESS_SECONDS: String(8 * 24 * 3600) };

interface LakeFigures {
  /** Distinct (type, tx_id) in each format. */
  parquet: number;
  raw: number;
  /** Rows beyond the first of each (type, tx_id), in each format. */
  parquetCopies: number;
  rawCopies: number;
}

async function lakeFigures(dataDir: string): Promise<LakeFigures> {
  const lake = await LakeSql.open(localLakeRoot(dataDir));
  try {
    const figures = async (format: string) =>
      (await lake.query(`SELECT count(DISTINCT (type, tx_id)) AS events, count(*) - count(DISTINCT (type, tx_id)) AS copies FROM ${format}_bcns`)).rows[0] as { events: number; copies: number };
    const [parquet, raw] = [await figures('parquet'), await figures('raw')];
    return { parquet: parquet.events, raw: raw.events, parquetCopies: parquet.copies, rawCopies: raw.copies };
  } finally {
    lake.close();
  }
}

describe('the lake under a reset or older lake-writer checkpoint', () => {
  const dataDir = tempDataDir('sdp-lake-replay-');
  const checkpointFile = join(dataDir, 'checkpoints', 'lake-writer-events.json');
  const older = join(dataDir, 'older-lake-writer-events.json');
  const workload = generateWorkload({ auctions: 400, campaigns: 3, firstCampaign: 8100, resendRate: 0.2, reorderRate: 0.3, seed: 15, now: Date.now() - HOUR, timeSpreadMs: 3 * HOUR });
  const distinctOf = (events: readonly WorkloadEvent[]) => new Set(events.map((e) => `${e.type}:${e.body.tx_id}`)).size;
  const distinct = distinctOf(workload.events);
  let platform: RunningPlatform | undefined;
  let finalCheckpoint = '';

  /** The lake writer's shards of the events stream: nothing pending, read to the tip (GET /health). */
  const writerIdle = async () => {
    const health = (await (await fetch(`${platform!.outputs.UrlForAPI}health`)).json()) as { components: Record<string, { shards?: { pending: number; millisBehindLatest?: number }[] }> };
    const shards = health.components['lake-writer-events']?.shards ?? [];
    return shards.length > 0 && shards.every((s) => s.pending === 0 && s.millisBehindLatest === 0);
  };
  /** Waits until the lake writer is idle, has checkpointed `checkpoint` (when given) and the lake holds `events` distinct events. */
  const caughtUp = async (checkpoint: string | undefined, events: number) => {
    await pollUntil(
      'the lake writer at the tip and every event in the lake',
      async () => ({ idle: await writerIdle(), checkpoint: readCheckpoint(), lake: await lakeFigures(dataDir) }),
      (v) => v.idle && v.checkpoint !== undefined && (checkpoint === undefined || v.checkpoint === checkpoint) && v.lake.parquet === events && v.lake.raw === events,
      120_000,
    );
  };
  /** The checkpoints per shard, in shard order (a deleted file is written again in the order shards finish). */
  const readCheckpoint = () => {
    try {
      const positions = JSON.parse(readFileSync(checkpointFile, 'utf8')) as Record<string, string>;
      return JSON.stringify(Object.entries(positions).sort());
    } catch {
      return undefined;
    }
  };
  const audit = () =>
    run(process.execPath, [SDP, 'audit', '--json', '--wait', '120', '--data-dir', dataDir]).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (err) => ({ code: err.code as number, stdout: err.stdout as string }),
    );

  beforeAll(async () => {
    platform = await startPlatform({ dataDir, env });
    const half = Math.floor(workload.events.length / 2);
    await sendEvents(platform.outputs.UrlForAPI, workload.events.slice(0, half), { batchSize: 25, concurrency: 8 });
    await caughtUp(undefined, distinctOf(workload.events.slice(0, half)));
    copyFileSync(checkpointFile, older); // an older valid checkpoint, as a restored backup would be
    await sendEvents(platform.outputs.UrlForAPI, workload.events.slice(half), { batchSize: 25, concurrency: 8 });
    await caughtUp(undefined, distinct);
    await platform.stop();
    platform = undefined;
    finalCheckpoint = readCheckpoint()!;
    expect(finalCheckpoint).not.toBe(JSON.stringify(Object.entries(JSON.parse(readFileSync(older, 'utf8'))).sort()));
  }, 300_000);
  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const replayed = (damage: () => void) => async () => {
    damage();
    platform = await startPlatform({ dataDir, env });
    await caughtUp(finalCheckpoint, distinct);
    expect(await lakeFigures(dataDir)).toEqual({ parquet: distinct, raw: distinct, parquetCopies: 0, rawCopies: 0 });
    const result = await audit();
    expect({ code: result.code, mismatches: JSON.parse(result.stdout).mismatches }).toEqual({ code: 0, mismatches: 0 });
    await platform.stop();
    platform = undefined;
  };

  it('holds each event once after the checkpoint file was deleted (the stream read again from its start)', replayed(() => rmSync(checkpointFile)), 300_000);

  it('holds each event once after the checkpoint was replaced by an older valid copy', replayed(() => copyFileSync(older, checkpointFile)), 300_000);
});
