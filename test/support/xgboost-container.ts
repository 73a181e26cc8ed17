/**
 * SageMaker's XGBoost 1.7-1 container on the real XGBoost (Debian python3-xgboost 1.7.4), from
 * TypeScript: writes the channels and a job for xgboost_container.py, which trains and serves as the
 * container does, and returns its answer. Used by test/infra/xgboost.test.ts and the `ml` bench.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RETRAINING_HYPERPARAMETERS } from '../../lib/retraining';

/** Debian's python, where python3-xgboost installs. */
export const PYTHON = '/usr/bin/python3';
const SCRIPT = join(__dirname, 'xgboost_container.py');

/** The installed XGBoost's version, or undefined when python3-xgboost (or scipy) is missing. */
export function xgboostVersion(): string | undefined {
  try {
    return execFileSync(PYTHON, ['-c', 'import xgboost, scipy; print(xgboost.__version__)'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

export interface ServeResult {
  xgboost: string;
  train: { rows: number; cols: number };
  validation: { rows: number; cols: number };
  num_features: number;
  best_iteration: number | null;
  requests: Record<string, { scores: number[] } | { error: string }>;
}

/** A SageMaker "training job" and "endpoint" on the real XGBoost: the script's JSON answer. */
export function runContainer(
  dir: string,
  channels: { train: string[]; validation: string[] },
  requests: Record<string, string[]>,
  hyperparameters: Record<string, string> = {},
): ServeResult {
  for (const name of ['train', 'validation'] as const) {
    mkdirSync(join(dir, name), { recursive: true });
    // Athena's UNLOAD writes several files per channel: two here, split in the middle.
    const lines = channels[name];
    const half = Math.ceil(lines.length / 2);
    writeFileSync(join(dir, name, 'part-0'), lines.slice(0, half).join('\n') + '\n');
    writeFileSync(join(dir, name, 'part-1'), lines.slice(half).join('\n') + '\n');
  }
  const job = {
    train: join(dir, 'train'),
    validation: join(dir, 'validation'),
    hyperparameters: { ...RETRAINING_HYPERPARAMETERS, ...hyperparameters },
    model: join(dir, 'xgboost-model'),
    requests: Object.fromEntries(Object.entries(requests).map(([k, v]) => [k, v.join('\n')])),
  };
  writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
  const run = spawnSync(PYTHON, [SCRIPT, join(dir, 'job.json')], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`xgboost_container.py failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as ServeResult;
}

/** A request set's scores; throws with the container's error when it failed. */
export const scoresOf = (r: ServeResult, name: string): number[] => {
  const answer = r.requests[name];
  if ('error' in answer) throw new Error(`request set "${name}" failed: ${answer.error}`);
  return answer.scores;
};

