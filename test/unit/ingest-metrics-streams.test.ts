/**
 * The ingestion handler serving a declared non-ad-tech stream (telemetry's /reading, with
 * SDP_PIPELINES as the local platform gives its threads): found by its resource path, and counted
 * in EMF under its stream's name as the `type` dimension.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { captureEmf } from '../support/emf';

const emf = captureEmf({ SDP_PIPELINES: JSON.stringify(['telemetry']) });

const post = (resource: string, body: string) =>
  ({ resource, path: resource, headers: { 'content-type': 'application/json' }, body, isBase64Encoded: false }) as unknown as APIGatewayProxyEvent;

it('refuses a bad reading naming the field and counts it under type reading', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../lambdas/ingest/handler') as typeof import('../../lambdas/ingest/handler');
  const res = await handler(post('/reading', '{"event_id":"e","device_id":"d","metric":"m","value":"hot"}'));
  expect(res.statusCode).toBe(400);
  expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid reading event', issues: [{ field: 'value' }] });
  expect(emf).toContainEqual(expect.objectContaining({ EventsRejected: 1, type: 'reading', reason: '400' }));
});

it('answers 404 on a route no declared stream has (adtech is not running)', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../lambdas/ingest/handler') as typeof import('../../lambdas/ingest/handler');
  expect((await handler(post('/bid', '{}'))).statusCode).toBe(404);
});
