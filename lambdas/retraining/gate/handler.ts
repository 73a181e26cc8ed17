/**
 * Retraining step "ApplyQualityGate": reads the deployed model's record (models/current.json),
 * re-scores the deployed endpoint on this run's validation set (rescore.ts), applies the quality
 * gate to the finished training job's validation AUC against that (steps.ts), and writes
 * models/<version>/record.json. Returns the decision; the state machine deploys only on `deploy`.
 * When the endpoint cannot be re-scored, the gate falls back to the deployed model's recorded AUC
 * and the record says so.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { lakeBucket, modelEndpoint, modelRegistry, readSetting, resourceName } from '../../../schemas/resources';
import { requestHandler } from '../../commons/clients';
import { readCurrentModel } from '../../commons/model-registry';
import { logger } from '../../commons/observability';
import { s3 } from '../../commons/s3';
import { rescoreDeployed, type RuntimeLike, type S3Like } from '../rescore';
import { gateStep, recordKey, type CurrentScore, type GateStepInput } from '../steps';

let client: SageMakerRuntimeClient | undefined;
const runtime = () => (client ??= new SageMakerRuntimeClient({ requestHandler: requestHandler() }));

/** The deployed model on this run's validation set, or why it could not be scored. Never throws. */
export async function scoreCurrent(
  input: Pick<GateStepInput, 'validationUri'>,
  clients: { s3: S3Like; runtime: RuntimeLike; endpointName: string },
): Promise<CurrentScore> {
  if (!input.validationUri) return { error: 'the gate was given no validationUri' };
  try {
    const r = await rescoreDeployed({ s3: clients.s3, runtime: clients.runtime, validationUri: input.validationUri, endpointName: clients.endpointName });
    return { auc: r.auc, rows: r.rows, sampled: r.truncated };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    return { error: `${e.name ?? 'Error'}: ${e.message ?? String(err)}` };
  }
}

export async function handler(input: GateStepInput): Promise<{ deploy: boolean; reason: string; auc: number | null }> {
  const bucket = resourceName(lakeBucket);
  const deployed = await readCurrentModel(s3(), bucket);
  const current = deployed ? await scoreCurrent(input, { s3: s3(), runtime: runtime(), endpointName: resourceName(modelEndpoint) }) : undefined;
  if (current && 'error' in current) logger.warn('could not re-score the deployed model; using its recorded AUC', { error: current.error });
  const record = gateStep(input, deployed, readSetting('modelAucFloor'), new Date(), current);
  await s3().send(
    new PutObjectCommand({ Bucket: bucket, Key: recordKey(modelRegistry.prefix, record.version), Body: JSON.stringify(record, null, 2), ContentType: 'application/json' }),
  );
  logger.info('quality gate', {
    version: record.version,
    deploy: record.decision.deploy,
    reason: record.decision.reason,
    currentAucSource: record.decision.currentAucSource,
    currentAucRows: record.decision.currentAucRows,
  });
  return { deploy: record.decision.deploy, reason: record.decision.reason, auc: record.metrics.auc };
}
