/**
 * GET /models/current: the deployed bid-win model's version, metrics and gate decision, with its
 * serving figures over the last 5 minutes (current-model.ts); 404 while no model is deployed.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { lakeBucket, resourceName } from '../../schemas/resources';
import { error, json, readableFromAnyOrigin } from '../commons/http';
import { s3 } from '../commons/s3';
import { currentModelView } from './current-model';

export async function handler(): Promise<APIGatewayProxyResult> {
  const current = await currentModelView(s3(), resourceName(lakeBucket));
  return readableFromAnyOrigin(current ? json(200, current) : error(404, 'no model is deployed yet'));
}
