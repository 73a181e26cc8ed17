/** The ingestion handler's metrics: EMF records of events accepted and rejected, by type and reason. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { captureEmf } from '../support/emf';

const emf = captureEmf();

it('counts a rejected request by type and reason', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../lambdas/ingest/handler') as typeof import('../../lambdas/ingest/handler');
  const event = { resource: '/bid', path: '/bid', headers: { 'content-type': 'application/json' }, body: '[{"tx_id":"a"},{"tx_id":"b"}]', isBase64Encoded: false } as unknown as APIGatewayProxyEvent;
  expect((await handler(event)).statusCode).toBe(400);
  expect(emf).toContainEqual(expect.objectContaining({ EventsRejected: 2, type: 'bid', reason: '400' }));
});
