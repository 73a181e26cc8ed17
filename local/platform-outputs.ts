/**
 * Where a running local platform says how to reach it (outputs.json in its data dir), read
 * without loading the platform itself: the CLI's light commands (sdp status) use it at start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lockHolder } from './data-dir-lock';
import { StateError } from './state-error';

export const OUTPUTS_FILE = 'outputs.json';

/**
 * The pipelines a platform on a data dir runs (a JSON array of pipeline files), written at its
 * start: what the commands working on the data dir run too (bin/sdp.ts; handlerEnvironment gives
 * it to sdp dlq redrive as SDP_PIPELINES).
 */
export const PIPELINES_FILE = 'pipelines.json';

/**
 * The outputs of the platform running on a data dir, or undefined when none is running there:
 * the process holding the data dir's lock is the running platform (data-dir-lock.ts).
 */
export async function runningPlatformOutputs(dataDir: string): Promise<PlatformOutputs | undefined> {
  const dir = resolve(dataDir);
  const holder = await lockHolder(dir);
  if (!holder?.url) return undefined;
  const file = join(dir, OUTPUTS_FILE);
  let outputs: Partial<PlatformOutputs> | null;
  try {
    outputs = JSON.parse(readFileSync(file, 'utf8')) as Partial<PlatformOutputs> | null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // the platform is still starting
    throw new StateError(file, `unreadable (${(err as Error).message})`, 'restart the platform: it writes the file anew once ready');
  }
  const urls = ['UrlForAPI', 'KinesisEndpoint', 'DynamoDBEndpoint', 'S3Endpoint'] as const;
  if (typeof outputs !== 'object' || outputs === null || urls.some((k) => typeof outputs?.[k] !== 'string') || typeof outputs.DataDir !== 'string') {
    throw new StateError(file, `not the outputs of a platform (it needs ${urls.join(', ')} and DataDir)`, 'restart the platform: it writes the file anew once ready');
  }
  return outputs as PlatformOutputs;
}

export interface PlatformOutputs {
  UrlForAPI: string;
  UrlForReports: string;
  /** Only when an active pipeline declares a model (PipelineDeclaration.model). */
  UrlForPredictions?: string;
  UrlForConsole: string;
  DataDir: string;
  KinesisEndpoint: string;
  DynamoDBEndpoint: string;
  S3Endpoint: string;
  AllowedLatenessSeconds: number;
  /** Set when the platform overrides every aggregation's declared period (AGGREGATION_PERIOD_SECONDS). */
  AggregationPeriodSeconds?: number;
}

/** True when a platform has run on this data dir (it writes its outputs once first ready), running or not. */
export function hasPlatformData(dataDir: string): boolean {
  return existsSync(join(resolve(dataDir), OUTPUTS_FILE));
}
