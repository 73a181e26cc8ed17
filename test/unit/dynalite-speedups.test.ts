/**
 * Unit tests for local/dynalite-speedups.ts, on a dynalite with its data on disk as the platform
 * runs it: with table descriptions cached, item calls follow a table deleted and created again with
 * another key; with synchronous reads and coalesced writes, concurrent puts, deletes and batch
 * writes leave exactly what a model of them holds, and reads see every acknowledged write; puts
 * that need the item they replace (a condition, ALL_OLD, consumed capacity) still get it, and keys
 * are remembered per table description and per key value, numbers compared as numbers.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { memoizedCreateKey, speedUpDynalite } from '../../local/dynalite-speedups';
import { testDynalite } from '../support/dynalite';

speedUpDynalite();
const dynamo = testDynalite('sdp-dynalite-speedups-');
let client: DynamoDBClient;
beforeAll(() => {
  client = dynamo.client;
});

const createTable = (key: string, TableName = 'things') =>
  client.send(
    new CreateTableCommand({
      TableName,
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

it('leaves exactly what concurrent puts, deletes and batch writes say, and reads see each acknowledged write', async () => {
  const TableName = 'model';
  await createTable('k', TableName);
  await waitUntil(async () => (await client.send(new DescribeTableCommand({ TableName }))).Table?.TableStatus === 'ACTIVE');
  const model = new Map<string, number>();
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const key = (k: string) => ({ k: { S: k } });
  for (let round = 0; round < 60; round++) {
    // Each round touches distinct keys concurrently, so the outcome does not depend on their order.
    const keys = [...new Set(Array.from({ length: 30 }, () => `key-${random(80)}`))];
    const single = keys.slice(0, 10);
    const batched = keys.slice(10, 35);
    const calls = single.map((k) => {
      if (random(3) === 0) {
        model.delete(k);
        return client.send(new DeleteItemCommand({ TableName, Key: key(k) }));
      }
      const n = round * 1000 + random(1000);
      model.set(k, n);
      return client.send(new PutItemCommand({ TableName, Item: { ...key(k), n: { N: String(n) } } }));
    });
    const requests = batched.map((k) => {
      if (random(3) === 0) {
        model.delete(k);
        return { DeleteRequest: { Key: key(k) } };
      }
      const n = round * 1000 + random(1000);
      model.set(k, n);
      return { PutRequest: { Item: { ...key(k), n: { N: String(n) } } } };
    });
    if (requests.length > 0) calls.push(client.send(new BatchWriteItemCommand({ RequestItems: { [TableName]: requests } })) as never);
    await Promise.all(calls);
    const probe = keys[random(keys.length)];
    const got = await client.send(new GetItemCommand({ TableName, Key: key(probe), ConsistentRead: true }));
    expect(got.Item?.n?.N).toBe(model.has(probe) ? String(model.get(probe)) : undefined);
  }
  const all = Array.from({ length: 80 }, (_, i) => `key-${i}`);
  const stored = new Map<string, number>();
  for (let i = 0; i < all.length; i += 100) {
    const out = await client.send(new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: all.slice(i, i + 100).map(key), ConsistentRead: true } } }));
    for (const item of out.Responses?.[TableName] ?? []) stored.set(item.k.S!, Number(item.n.N));
  }
  expect(stored).toEqual(model);
});

it('answers puts that need the item they replace as before, and blind puts replace it', async () => {
  const TableName = 'puts';
  await createTable('k', TableName);
  await waitUntil(async () => (await client.send(new DescribeTableCommand({ TableName }))).Table?.TableStatus === 'ACTIVE');
  const Item = { k: { S: 'a' }, n: { N: '1' } };
  await client.send(new PutItemCommand({ TableName, Item }));
  await expect(client.send(new PutItemCommand({ TableName, Item: { ...Item, n: { N: '2' } }, ConditionExpression: 'attribute_not_exists(k)' }))).rejects.toThrow(/conditional/i);
  const old = await client.send(new PutItemCommand({ TableName, Item: { ...Item, n: { N: '3' } }, ReturnValues: 'ALL_OLD', ReturnConsumedCapacity: 'TOTAL' }));
  expect(old.Attributes?.n).toEqual({ N: '1' });
  expect(old.ConsumedCapacity?.CapacityUnits).toBeGreaterThan(0);
  const blind = await client.send(new PutItemCommand({ TableName, Item: { ...Item, n: { N: '4' } } }));
  expect(blind.Attributes).toBeUndefined();
  await client.send(new UpdateItemCommand({ TableName, Key: { k: { S: 'a' } }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': { N: '1' } } }));
  const got = await client.send(new GetItemCommand({ TableName, Key: { k: { S: 'a' } }, ConsistentRead: true }));
  expect(got.Item?.n).toEqual({ N: '5' });
});

it('finds an item by a numeric key written another way (1.0 and 1 are one key)', async () => {
  const TableName = 'numbers';
  await client.send(
    new CreateTableCommand({
      TableName,
      AttributeDefinitions: [{ AttributeName: 'h', AttributeType: 'N' }, { AttributeName: 'r', AttributeType: 'N' }],
      KeySchema: [{ AttributeName: 'h', KeyType: 'HASH' }, { AttributeName: 'r', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntil(async () => (await client.send(new DescribeTableCommand({ TableName }))).Table?.TableStatus === 'ACTIVE');
  await client.send(new PutItemCommand({ TableName, Item: { h: { N: '1.0' }, r: { N: '20' }, v: { S: 'x' } } }));
  const got = await client.send(new GetItemCommand({ TableName, Key: { h: { N: '1' }, r: { N: '2E1' } }, ConsistentRead: true }));
  expect(got.Item?.v).toEqual({ S: 'x' });
});

describe('memoizedCreateKey', () => {
  const table = { KeySchema: [{ AttributeName: 'id' }, { AttributeName: 'at' }] };
  const counting = () => {
    const calls: string[] = [];
    const createKey = memoizedCreateKey((item) => {
      const key = `${String(item.id.S)}|${String(item.at.N)}`;
      calls.push(key);
      return key;
    });
    return { calls, createKey };
  };

  it('computes a key once per table description and key values, and again for another table or index', () => {
    const { calls, createKey } = counting();
    const item = (id: string, at: string) => ({ id: { S: id }, at: { N: at }, other: { S: 'ignored' } });
    expect(createKey(item('a', '1'), table)).toBe('a|1');
    expect(createKey({ ...item('a', '1'), other: { S: 'changed' } }, table)).toBe('a|1');
    expect(createKey(item('a', '2'), table)).toBe('a|2');
    expect(calls).toEqual(['a|1', 'a|2']);
    // Values that only concatenate alike stay apart.
    expect(createKey({ id: { S: 'a1' }, at: { N: '' } }, table)).toBe('a1|');
    const recreated = { KeySchema: [...table.KeySchema] };
    createKey(item('a', '1'), recreated);
    createKey(item('a', '1'), table, [{ AttributeName: 'at' }]);
    expect(calls).toEqual(['a|1', 'a|2', 'a1|', 'a|1', 'a|1']);
  });

  it('leaves keys it cannot read to dynalite, errors included', () => {
    const { calls, createKey } = counting();
    expect(() => createKey({ id: { S: 'a' } } as never, table)).toThrow(TypeError);
    expect(calls).toEqual([]);
  });
});
