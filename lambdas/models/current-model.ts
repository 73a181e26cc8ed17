/**
 * What GET /models/current answers (and the local console's live status carries as `model`): the
 * deployed model's registry record with its serving figures over the last minutes
 * (schemas/serving.ts). The figures come from CloudWatch in AWS; locally from the model server,
 * which stands in for the endpoint and its metrics (SDP_LOCAL_SERVING_FIGURES_URL). Figures that
 * cannot be read do not hide the model: `serving` then says why they are unavailable.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { modelEndpoint, resourceName } from '../../schemas/resources';
import { servingEnv, servingFiguresSchema, type ServingField, type ServingFigures } from '../../schemas/serving';
import { getMetricData } from '../commons/cloudwatch';
import { readCurrentModel, type CurrentModel } from '../commons/model-registry';
import { logger } from '../commons/observability';
import { alignedWindow, readCloudWatchServingFigures } from './cloudwatch-figures';

export type CurrentModelView = CurrentModel & { serving: ServingField };

async function readLocalFigures(url: string): Promise<ServingFigures> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`the model server answered ${res.status}`);
  return servingFiguresSchema.parse(await res.json());
}

/**
 * The last figures read from CloudWatch, by the end of their window. The window ends at the last
 * whole minute, so within a minute the answer is the same: a warm function asks once a minute.
 * GetMetricData is billed per metric asked ($0.01 per 1,000; 8 here): one console polling every 30 s
 * would cost about 23,000 metrics a day ($0.23) without this, 11,520 with it.
 */
let lastFromCloudWatch: { to: number; figures: ServingFigures } | undefined;

/** The serving figures from this home's source. */
export async function readServingFigures(env: NodeJS.ProcessEnv = process.env): Promise<ServingFigures> {
  const local = env[servingEnv.localFiguresUrl];
  if (local) return readLocalFigures(local);
  const predictFunctionName = env[servingEnv.predictFunctionName];
  if (!predictFunctionName) throw new Error(`${servingEnv.predictFunctionName} is not set`);
  const now = Date.now();
  const { to } = alignedWindow(now);
  if (lastFromCloudWatch?.to === to) return lastFromCloudWatch.figures;
  const figures = await readCloudWatchServingFigures(getMetricData, { endpointName: resourceName(modelEndpoint, env), predictFunctionName }, now);
  lastFromCloudWatch = { to, figures };
  return figures;
}

export async function currentModelView(s3: S3Client, bucket: string): Promise<CurrentModelView | undefined> {
  const current = await readCurrentModel(s3, bucket);
  if (!current) return undefined;
  let serving: ServingField;
  try {
    serving = await readServingFigures();
  } catch (err) {
    logger.error('serving figures unavailable', { error: (err as Error).message });
    serving = { unavailable: `serving figures could not be read: ${(err as Error).message}` };
  }
  return { ...current, serving };
}
