/**
 * Retraining step "PromoteModel", once the endpoint serves the new model (InService with the new
 * endpoint config): models/current.json = the version's record + deployedAt + the endpoint.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { lakeBucket, modelRegistry, resourceName } from '../../../schemas/resources';
import { logger } from '../../commons/observability';
import { s3 } from '../../commons/s3';
import { promoteStep, recordKey } from '../steps';

export interface PromoteInput {
  version: string;
  endpointName: string;
  endpointConfigName: string;
}

export async function handler(input: PromoteInput): Promise<{ version: string; deployedAt: string }> {
  const bucket = resourceName(lakeBucket);
  const out = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: recordKey(modelRegistry.prefix, input.version) }));
  const record = JSON.parse(await out.Body!.transformToString()) as { version: string };
  const current = promoteStep(record, { name: input.endpointName, configName: input.endpointConfigName }, new Date());
  await s3().send(new PutObjectCommand({ Bucket: bucket, Key: modelRegistry.current, Body: JSON.stringify(current, null, 2), ContentType: 'application/json' }));
  logger.info('model deployed', { version: current.version, endpoint: input.endpointName });
  return { version: current.version, deployedAt: current.deployedAt };
}
