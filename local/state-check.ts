/**
 * Validates the state a local platform reads when it starts, so damage stops the start with one
 * line naming the file and the recovery (a StateError) instead of a stall, a skip, a hang or a 500
 * later. What each kind of state gets (the README's operations section says the same):
 * - checkpoints/<consumer>.json: refused when not an object of shard id to sequence number or
 *   SHARD_END (checkpoints.ts), and, at consumer start, when a checkpoint is not a position in its
 *   stream (checkpoint-positions.ts). A missing file is a consumer that starts from TRIM_HORIZON.
 * - dlq/<consumer>/*.json: a dead letter that cannot be read or is not a letter is refused (it holds
 *   records still to redrive: the operator decides).
 * - jobs/<job>.jsonl: recovered: a line that is not a run record is left out (jobs.ts), with a warning.
 * - outputs.json: recovered: it describes the last run (its ports), so it is removed at start and
 *   written anew once the platform is ready; commands refuse a damaged one (platform.ts).
 * - the emulators' stores: a LevelDB store that cannot be opened is refused (level-store-check.ts);
 *   a DynamoDB store without the aggregates table, or an S3 store without the lake bucket, while
 *   checkpoints say records were processed, was lost or damaged: refused. The model registry's
 *   models/current.json and the model it names must parse, or the start is refused.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { checkpointFile, readCheckpoints } from './checkpoints';
import { parseDeadLetter } from './dead-letters';
import { jobRuns, unreadableRunLines } from './jobs';
import { StateError } from './state-error';
import { lakeBucket, modelRegistry, tables } from '../schemas/resources';
import { readCurrentModel, readModelText } from '../lambdas/commons/model-registry';
import { parseModel } from '../lambdas/ml/logistic';

const OUTPUTS_FILE = 'outputs.json';

function jsonFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => join(dir, f)) : [];
}

/**
 * Checks the files under the data dir, before the emulators start. Throws a StateError on damage
 * that needs the operator; returns warnings on damage it recovered from.
 */
export function checkStateFiles(dataDir: string): string[] {
  for (const file of jsonFiles(join(dataDir, 'checkpoints'))) readCheckpoints(file);
  const dlq = join(dataDir, 'dlq');
  for (const consumer of existsSync(dlq) ? readdirSync(dlq) : []) {
    for (const file of jsonFiles(join(dlq, consumer))) parseDeadLetter(file, readFileSync(file, 'utf8'));
  }
  rmSync(join(dataDir, OUTPUTS_FILE), { force: true });
  const jobsDir = join(dataDir, 'jobs');
  const jobs = existsSync(jobsDir) ? readdirSync(jobsDir).filter((f) => f.endsWith('.jsonl')).map((f) => f.slice(0, -'.jsonl'.length)) : [];
  return jobs.flatMap((job) => {
    const bad = unreadableRunLines(dataDir, job);
    return bad === 0 ? [] : [`warning: ${join(jobsDir, `${job}.jsonl`)}: left out ${bad} line(s) that are not job runs (damaged); ${jobRuns(dataDir, job).length} run(s) kept`];
  });
}

async function tableExists(dynamo: DynamoDBClient, name: string): Promise<boolean> {
  try {
    await dynamo.send(new DescribeTableCommand({ TableName: name }));
    return true;
  } catch (err) {
    if (err instanceof ResourceNotFoundException || (err as Error).name === 'ResourceNotFoundException') return false;
    throw err;
  }
}

async function bucketExists(s3: S3Client, name: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
    return true;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchBucket') return false;
    throw err;
  }
}

const hasPositions = (dataDir: string, consumer: string) => Object.keys(readCheckpoints(checkpointFile(dataDir, consumer))).length > 0;

/** The model registry's current model and the model file it names must be readable. */
async function checkModelRegistry(dataDir: string, s3: S3Client): Promise<void> {
  const file = join(dataDir, 's3', lakeBucket.name, modelRegistry.current);
  const recovery = `restore it from a backup, or delete ${file}* (no model is served until the next training deploys one: sdp train)`;
  let version: string | undefined;
  try {
    version = (await readCurrentModel(s3, lakeBucket.name))?.version;
  } catch (err) {
    throw new StateError(file, `the deployed model's record cannot be read (${(err as Error).message})`, recovery);
  }
  if (version === undefined) return;
  try {
    parseModel(await readModelText(s3, lakeBucket.name, version));
  } catch (err) {
    throw new StateError(file, `names model ${version}, which cannot be read (${(err as Error).message})`, recovery);
  }
}

/**
 * Checks the emulators' stores against the checkpoints, once the emulators run and before the
 * platform provisions anything (provisioning would create an empty table or bucket in place of a
 * lost one).
 */
export async function checkStores(dataDir: string, clients: { dynamo: DynamoDBClient; s3: S3Client }): Promise<void> {
  if (hasPositions(dataDir, 'aggregator') && !(await tableExists(clients.dynamo, tables.aggregates.name))) {
    const dir = join(dataDir, 'dynamodb');
    throw new StateError(dir, `has no ${tables.aggregates.name} table, but ${checkpointFile(dataDir, 'aggregator')} says events were aggregated: the DynamoDB store was lost or damaged`,
      `restore ${dir} from a backup, or delete ${checkpointFile(dataDir, 'aggregator')} to rebuild the aggregates from the events stream (exact while the stream still holds every event: 24 hours)`);
  }
  const lakeWriters = ['lake-writer-events', 'lake-writer-aggregates'];
  const bucket = await bucketExists(clients.s3, lakeBucket.name);
  if (!bucket && lakeWriters.some((c) => hasPositions(dataDir, c))) {
    const dir = join(dataDir, 's3', lakeBucket.name);
    throw new StateError(dir, 'is missing, but the lake writer\'s checkpoints say events were written to it: the S3 store was lost',
      `restore ${dir} from a backup, or delete ${lakeWriters.map((c) => checkpointFile(dataDir, c)).join(' and ')} to write the lake again from the streams (what they still hold: 24 hours)`);
  }
  if (bucket) await checkModelRegistry(dataDir, clients.s3);
}
