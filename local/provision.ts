/**
 * Creates the platform's streams, tables and bucket in the emulators from the same definitions
 * the CDK stack uses (schemas/resources.ts). Idempotent: a restart finds them and keeps their data.
 */
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
  type KeySchemaElement,
  type AttributeDefinition,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StreamDef, TableDef } from '../schemas/resources';
import { waitFor } from './wait';

/** The stream's status (CREATING, ACTIVE, UPDATING, ...), or undefined when there is no such stream. */
export async function streamStatus(client: KinesisClient, streamName: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    return out.StreamDescriptionSummary?.StreamStatus;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

export async function ensureStream(client: KinesisClient, def: StreamDef, shardCount: number): Promise<void> {
  if ((await streamStatus(client, def.name)) === undefined) {
    await client.send(new CreateStreamCommand({ StreamName: def.name, ShardCount: shardCount }));
  }
  await waitFor(`stream ${def.name} to become active`, async () => (await streamStatus(client, def.name)) === 'ACTIVE', 30_000);
}

export async function ensureTable(client: DynamoDBClient, def: TableDef): Promise<void> {
  const status = async () => {
    try {
      return (await client.send(new DescribeTableCommand({ TableName: def.name }))).Table?.TableStatus;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  };
  if ((await status()) === undefined) {
    const keys = [def.partitionKey, ...(def.sortKey ? [def.sortKey] : [])];
    const KeySchema: KeySchemaElement[] = keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' }));
    const AttributeDefinitions: AttributeDefinition[] = keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type }));
    await client.send(new CreateTableCommand({ TableName: def.name, KeySchema, AttributeDefinitions, BillingMode: 'PAY_PER_REQUEST' }));
  }
  await waitFor(`table ${def.name} to become active`, async () => (await status()) === 'ACTIVE', 30_000);
}

export async function ensureBucket(client: S3Client, name: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: name }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  }
}
