/**
 * `npm run bench -- cli`: how long the `sdp` command takes from start to exit, the median wall time
 * of each command over --runs rounds, side by side with `node -e 0` (Node's own start, the floor)
 * in the same rounds: each round runs every command once, in turn, so the machine's load weighs on
 * all alike. Goal: `sdp --help`, `sdp status` and `sdp query "SELECT 1"` within 0.3 s each.
 * `sdp status` is timed against a running local platform (started here) and with none.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PlatformProcess } from './support/platform-process';
import { progress, type BenchResult, type Figure } from './support/report';
import { median } from './support/stats';
import { SDP } from './support/sdp';

export const cliDefaults = { runs: 15 };

const GOAL_SECONDS = 0.3;

interface Case {
  key: string;
  label: string;
  args: string[];
  /** The exit code the command must end with; another one fails the bench. */
  code: number;
  goal: boolean;
}

/** Wall seconds of one run of node with `args`, checking its exit code. */
function timeRun(c: Case): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, c.args, { encoding: 'utf8', env: { ...process.env, SDP_DATA_DIR: '' } });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== c.code) throw new Error(`${c.label} exited with ${result.status} (expected ${c.code}): ${result.stderr.trim()}`);
  return seconds;
}

export async function runCli(options: typeof cliDefaults): Promise<BenchResult> {
  const emptyDir = mkdtempSync(join(tmpdir(), 'sdp-bench-cli-'));
  progress('starting a local platform');
  const platform = await PlatformProcess.start({ shards: 1, log: () => undefined });
  try {
    const cases: Case[] = [
      { key: 'node', label: 'node -e 0', args: ['-e', '0'], code: 0, goal: false },
      { key: 'help', label: 'sdp --help', args: [SDP, '--help'], code: 0, goal: true },
      { key: 'statusRunning', label: 'sdp status (platform running)', args: [SDP, 'status', '--data-dir', platform.dataDir], code: 0, goal: true },
      { key: 'statusNone', label: 'sdp status (no platform)', args: [SDP, 'status', '--data-dir', emptyDir], code: 1, goal: true },
      { key: 'query', label: 'sdp query "SELECT 1"', args: [SDP, 'query', 'SELECT 1', '--data-dir', platform.dataDir], code: 0, goal: true },
    ];
    // One run each first: builds the CLI's bundle if a source changed, and warms the file cache.
    for (const c of cases) timeRun(c);
    const samples = new Map<string, number[]>(cases.map((c) => [c.key, []]));
    for (let round = 1; round <= options.runs; round++) {
      for (const c of cases) samples.get(c.key)!.push(timeRun(c));
      progress(`round ${round}/${options.runs}`);
    }
    const floor = median(samples.get('node')!);
    const figures: Figure[] = cases.map((c) => {
      const m = median(samples.get(c.key)!);
      return {
        key: c.key,
        label: c.label,
        value: m,
        unit: 's',
        ...(c.goal && { goal: { op: '<=' as const, target: GOAL_SECONDS } }),
        note: c.key === 'node' ? 'the floor: Node starting and exiting' : `${(m - floor).toFixed(3)} s over node -e 0; min ${Math.min(...samples.get(c.key)!).toFixed(3)} s`,
      };
    });
    return { bench: 'cli', figures, details: { runs: options.runs, samples: Object.fromEntries(samples) } };
  } finally {
    await platform.stop();
    rmSync(emptyDir, { recursive: true, force: true });
  }
}
