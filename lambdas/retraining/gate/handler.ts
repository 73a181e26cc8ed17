/**
 * Retraining step "ApplyQualityGate": reads the deployed model's record (models/current.json),
 * applies the quality gate to the finished training job's validation AUC (steps.ts), and writes
 * models/<version>/record.json. Returns the decision; the state machine deploys only on `deploy`.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { lakeBucket, modelRegistry, readSetting, resourceName } from '../../../schemas/resources';
import { readCurrentModel } from '../../commons/model-registry';
import { logger } from '../../commons/observability';
import { s3 } from '../../commons/s3';
import { gateStep, recordKey, type GateStepInput } from '../steps';

export async function handler(input: GateStepInput): Promise<{ deploy: boolean; reason: string; auc: number | null }> {
  const bucket = resourceName(lakeBucket);
  const deployed = await readCurrentModel(s3(), bucket);
  const record = gateStep(input, deployed, readSetting('modelAucFloor'), new Date());
  await s3().send(
    new PutObjectCommand({ Bucket: bucket, Key: recordKey(modelRegistry.prefix, record.version), Body: JSON.stringify(record, null, 2), ContentType: 'application/json' }),
  );
  logger.info('quality gate', { version: record.version, deploy: record.decision.deploy, reason: record.decision.reason });
  return { deploy: record.decision.deploy, reason: record.decision.reason, auc: record.metrics.auc };
}
