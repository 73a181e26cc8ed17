/** GET /models/current: the deployed bid-win model's version, metrics and gate decision, 404 while none is. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { lakeBucket, resourceName } from '../../schemas/resources';
import { error, json, readableFromAnyOrigin } from '../commons/http';
import { readCurrentModel } from '../commons/model-registry';
import { s3 } from '../commons/s3';

export async function handler(): Promise<APIGatewayProxyResult> {
  const current = await readCurrentModel(s3(), resourceName(lakeBucket));
  return readableFromAnyOrigin(current ? json(200, current) : error(404, 'no model is deployed yet'));
}
