/**
 * A dynalite (DynamoDB's API) for one test file, with its data on disk as the platform keeps it:
 * started in beforeAll, closed and removed in afterAll; `client` is set once it listens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface TestDynalite {
  readonly client: DynamoDBClient;
}

export function testDynalite(prefix: string, ready: (client: DynamoDBClient) => Promise<void> = async () => undefined): TestDynalite {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let server: Server | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    // Required here, after the test file has patched dynalite's modules if it does.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dynalite = require('dynalite') as (options: object) => Server;
    server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await ready(client);
  });
  afterAll(async () => {
    client?.destroy();
    if (server) await new Promise((resolve) => server!.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get client() {
      return client!;
    },
  };
}
