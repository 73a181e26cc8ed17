/**
 * POST /predictions: the probability of winning an auction at a bid price. Validates one request or
 * an array, featurizes them with the shared featurizer (lambdas/ml/features.ts) and asks the model
 * endpoint through SageMaker runtime InvokeEndpoint (in AWS the SageMaker endpoint, locally the
 * local model server behind the same API). 503 while no model is deployed.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { MAX_PREDICTIONS_PER_REQUEST, predictionRequestSchema, toAuctionFeatures, type Prediction } from '../../schemas/predictions';
import { modelEndpoint, resourceName } from '../../schemas/resources';
import { decodeJsonBody } from '../commons/body';
import { requestHandler } from '../commons/clients';
import { error, header, json, type FieldIssue } from '../commons/http';
import { logger } from '../commons/observability';
import { featurize, libsvmLine } from '../ml/features';

let client: SageMakerRuntimeClient | undefined;
const runtime = () => (client ??= new SageMakerRuntimeClient({ requestHandler: requestHandler() }));

/**
 * SageMaker's answer when the container refused the request ("ModelError: Model (owned by the
 * customer in the account) returned an error", HTTP 424): the same request will fail again, so it is
 * not a "retry later". (The XGBoost 1.7-1 container refused requests wider than the model until the
 * training channels carried the width marker, lambdas/retraining/training-set.ts.)
 */
function isModelError(err: unknown): boolean {
  return (err as { name?: string }).name === 'ModelError';
}

/** SageMaker's answer when the endpoint does not exist (yet): no model has been deployed. */
function isNoEndpoint(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e.name === 'ValidationError' && /not found|no model/i.test(e.message ?? '');
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const decoded = decodeJsonBody({ body: event.body, isBase64Encoded: event.isBase64Encoded, contentType: header(event.headers, 'content-type') });
  if (!decoded.ok) return error(decoded.statusCode, decoded.message);
  const body = decoded.value;
  const isArray = Array.isArray(body);
  const items: unknown[] = isArray ? (body as unknown[]) : [body];
  if (items.length === 0) return error(400, 'body is an empty array: send at least one prediction request');
  if (items.length > MAX_PREDICTIONS_PER_REQUEST) return error(400, `at most ${MAX_PREDICTIONS_PER_REQUEST} prediction requests per call`);
  const issues: FieldIssue[] = [];
  const lines: string[] = [];
  items.forEach((item, i) => {
    const parsed = predictionRequestSchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push({ index: isArray ? i : undefined, field: issue.path.join('.'), message: issue.message });
      return;
    }
    lines.push(libsvmLine(null, featurize(toAuctionFeatures(parsed.data))));
  });
  if (issues.length > 0) return error(400, 'invalid prediction request', { issues });

  let scores: number[];
  try {
    const out = await runtime().send(
      new InvokeEndpointCommand({ EndpointName: resourceName(modelEndpoint), ContentType: 'text/libsvm', Accept: 'text/csv', Body: Buffer.from(lines.join('\n')) }),
    );
    scores = Buffer.from(out.Body!).toString('utf8').split(/[,\n]/).filter((s) => s.trim() !== '').map(Number);
  } catch (err) {
    if (isNoEndpoint(err)) return error(503, 'no model is deployed yet: train one (sdp train, or wait for the scheduled retraining)', {}, { 'retry-after': '60' });
    if (isModelError(err)) {
      logger.error('the model refused the request', { error: (err as Error).message });
      return error(502, `the model could not score the request: ${(err as Error).message}`);
    }
    logger.error('model endpoint failed', { error: (err as Error).message });
    return error(503, 'the model endpoint is unavailable; retry later', {}, { 'retry-after': '5' });
  }
  if (scores.length !== lines.length || scores.some((s) => !Number.isFinite(s))) {
    logger.error('model endpoint answered unexpectedly', { expected: lines.length, got: scores.length });
    return error(502, 'the model endpoint answered with an unexpected number of scores');
  }
  const predictions: Prediction[] = scores.map((score) => ({ score, predicted_label: score >= 0.5 ? 1 : 0 }));
  return json(200, { predictions });
}
