/**
 * A throttled DynamoDB call (a provisioned table past its capacity: ProvisionedThroughputExceededException,
 * or a batch left partly unprocessed) is a failed attempt, never a success: the handlers' client
 * (lambdas/commons/clients.ts) retries it itself and then rejects, the batched reads and writes
 * (dynamo-batch.ts) retry what was left unprocessed and reject what stays throttled, and a
 * conditional write (dynamo-conditions.ts) treats only a failed condition as an answer. The
 * aggregator and the lake writer let those rejections fail the invocation, so the stream
 * consumer retries the batch (test/e2e/aggregator-faults.test.ts injects throttles into a whole
 * run and checks the counts are exact). Against a local HTTP server that answers as DynamoDB does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unlessConditionFails } from '../../lambdas/commons/dynamo-conditions';
import { KeyedItems } from '../../lambdas/commons/dynamo-batch';

type Answer = { status: number; body: unknown };

let server: Server;
let requests: { target: string; body: Record<string, unknown> }[] = [];
let answer: (target: string, body: Record<string, unknown>, n: number) => Answer;
let db: DynamoDBDocumentClient;

const THROTTLED: Answer = { status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' } };

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.').pop()!;
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      requests.push({ target, body });
      const { status, body: out } = answer(target, body, requests.length);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  // The handlers' own client, built from the environment as in Lambda.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  db = (require('../../lambdas/commons/clients') as typeof import('../../lambdas/commons/clients')).dynamo();
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  requests = [];
});

describe('a throttled call', () => {
  it("is retried by the handlers' client, then rejects with ProvisionedThroughputExceededException", async () => {
    answer = () => THROTTLED;
    await expect(db.send(new PutCommand({ TableName: 'tx-state', Item: { tx_id: 'a' } }))).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    // The SDK's retry strategy decides how many attempts (its default for DynamoDB is more than one).
    expect(requests.length).toBeGreaterThan(1);
    expect(new Set(requests.map((r) => r.target))).toEqual(new Set(['PutItem']));
  }, 40_000);

  it('succeeds when a retry gets through', async () => {
    answer = (_t, _b, n) => (n === 1 ? THROTTLED : { status: 200, body: {} });
    await expect(db.send(new PutCommand({ TableName: 'tx-state', Item: { tx_id: 'a' } }))).resolves.toBeDefined();
    expect(requests).toHaveLength(2);
  }, 40_000);

  it('is an error to a conditional write, not a refused condition', async () => {
    answer = () => THROTTLED;
    await expect(unlessConditionFails(db.send(new PutCommand({ TableName: 'aggregates', Item: { k: 1 }, ConditionExpression: 'attribute_not_exists(k)' })))).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    const refused = Promise.reject(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await expect(unlessConditionFails(refused)).resolves.toBeUndefined();
  }, 40_000);
});

describe('batched writes (tx-state, lake-seen)', () => {
  const items = Array.from({ length: 30 }, (_, i) => ({ tx_id: `t${i}` }));

  it('retry the items DynamoDB left unprocessed until all are written', async () => {
    // The first request of each chunk leaves its first two items unprocessed (throttled).
    const written: string[] = [];
    answer = (_t, body) => {
      const puts = (body.RequestItems as Record<string, { PutRequest: { Item: { tx_id: { S: string } } } }[]>)['lake-seen'];
      const first = !requests.slice(0, -1).some((r) => JSON.stringify(r.body).includes(JSON.stringify(puts[0])));
      const unprocessed = first ? puts.slice(0, 2) : [];
      written.push(...puts.slice(unprocessed.length).map((p) => p.PutRequest.Item.tx_id.S));
      return { status: 200, body: { UnprocessedItems: unprocessed.length ? { 'lake-seen': unprocessed } : {} } };
    };
    await new KeyedItems<{ tx_id: string }>(db, 'lake-seen', 'tx_id').putAll(items);
    expect(written.sort()).toEqual(items.map((i) => i.tx_id).sort());
    expect(requests.length).toBe(4); // two chunks (25 + 5), each sent again once for its unprocessed items
  }, 40_000);

  it('reject when the table stays throttled: the invocation fails and its batch is retried', async () => {
    answer = () => THROTTLED;
    await expect(new KeyedItems<{ tx_id: string }>(db, 'lake-seen', 'tx_id').putAll(items.slice(0, 5))).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  }, 40_000);
});
