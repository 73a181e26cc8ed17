/**
 * Unit tests for local/dynalite-table-cache.ts: with table descriptions cached, dynalite still
 * answers from the table as it is now: after a table is deleted and created again with another key
 * schema, item calls follow the new schema; a deleted table is not found.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { useTableDescriptionCache, type DynaliteStore } from '../../local/dynalite-table-cache';

// eslint-disable-next-line @typescript-eslint/no-require-imports
useTableDescriptionCache(require('dynalite/db') as { create(options: unknown): DynaliteStore });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: object) => Server;

let server: Server;
let client: DynamoDBClient;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const createTable = (key: string) =>
  client.send(
    new CreateTableCommand({
      TableName: 'things',
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tableStatus = () =>
  client.send(new DescribeTableCommand({ TableName: 'things' })).then(
    (out) => out.Table?.TableStatus,
    (err: Error) => err.name,
  );

it('follows a table that is deleted and created again with another key', async () => {
  await createTable('id');
  await waitUntil(async () => (await tableStatus()) === 'ACTIVE');
  await client.send(new PutItemCommand({ TableName: 'things', Item: { id: { S: 'a' }, n: { N: '1' } } }));
  const first = await client.send(new GetItemCommand({ TableName: 'things', Key: { id: { S: 'a' } } }));
  expect(first.Item?.n).toEqual({ N: '1' });

  await client.send(new DeleteTableCommand({ TableName: 'things' }));
  await waitUntil(async () => (await tableStatus()) === 'ResourceNotFoundException');
  await expect(client.send(new GetItemCommand({ TableName: 'things', Key: { id: { S: 'a' } } }))).rejects.toThrow(/not found/i);

  await createTable('name');
  await waitUntil(async () => (await tableStatus()) === 'ACTIVE');
  await expect(client.send(new PutItemCommand({ TableName: 'things', Item: { id: { S: 'b' } } }))).rejects.toThrow(/key/i);
  await client.send(new PutItemCommand({ TableName: 'things', Item: { name: { S: 'b' }, n: { N: '2' } } }));
  const second = await client.send(new GetItemCommand({ TableName: 'things', Key: { name: { S: 'b' } } }));
  expect(second.Item?.n).toEqual({ N: '2' });
});
