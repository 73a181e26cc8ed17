/**
 * The model registry in the lake bucket (schemas/resources.ts, modelRegistry): every trained model
 * under `models/<version>/`, and `models/current.json` naming the deployed one. Written by
 * training (the local trainer; in AWS the retraining state machine), read by serving.
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { modelRegistry } from '../../schemas/resources';
import type { Evaluation } from '../ml/evaluate';

/** Held-out metrics: AUC, log loss, calibration bins. */
export type ModelMetrics = Evaluation;

export interface GateDecision {
  deploy: boolean;
  reason: string;
  /** The AUC of the model deployed before, on the same held-out data. */
  currentAuc?: number;
  floor: number;
}

/** What the registry records of a trained model. */
export interface ModelRecord {
  version: string;
  createdAt: string;
  trainingRows: number;
  holdoutRows: number;
  trainingSeconds: number;
  metrics: ModelMetrics;
  decision: GateDecision;
}

/** models/current.json: the deployed model. */
export interface CurrentModel extends ModelRecord {
  deployedAt: string;
}

const modelKey = (version: string, file: string) => `${modelRegistry.prefix}${version}/${file}`;

async function getText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body!.transformToString();
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

async function putJson(s3: S3Client, bucket: string, key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
}

/** models/current.json's record, or an error saying what is wrong with it (it is damaged, or not a record). */
export function parseCurrentModel(text: string): CurrentModel {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${modelRegistry.current} is not valid JSON (${(err as Error).message})`);
  }
  const record = value as Partial<CurrentModel> | null;
  const missing = (['version', 'createdAt', 'deployedAt'] as const).filter((k) => typeof record?.[k] !== 'string' || record[k] === '');
  if (typeof value !== 'object' || value === null || missing.length > 0 || typeof record?.metrics !== 'object' || typeof record?.decision !== 'object') {
    throw new Error(`${modelRegistry.current} is not a deployed model's record (${missing.length > 0 ? `no ${missing.join(', ')}` : 'no metrics or decision'})`);
  }
  return value as CurrentModel;
}

export async function readCurrentModel(s3: S3Client, bucket: string): Promise<CurrentModel | undefined> {
  const text = await getText(s3, bucket, modelRegistry.current);
  return text === undefined ? undefined : parseCurrentModel(text);
}

export async function readModelText(s3: S3Client, bucket: string, version: string): Promise<string> {
  const text = await getText(s3, bucket, modelKey(version, 'model.json'));
  if (text === undefined) throw new Error(`model ${version} is missing from the registry`);
  return text;
}

/** Stores a trained model and its record (metrics, gate decision); deploys it when the gate said so. */
export async function registerModel(s3: S3Client, bucket: string, modelText: string, record: ModelRecord): Promise<void> {
  await putJson(s3, bucket, modelKey(record.version, 'model.json'), modelText);
  await putJson(s3, bucket, modelKey(record.version, 'record.json'), JSON.stringify(record, null, 2));
  if (record.decision.deploy) {
    const current: CurrentModel = { ...record, deployedAt: new Date().toISOString() };
    await putJson(s3, bucket, modelRegistry.current, JSON.stringify(current, null, 2));
  }
}
