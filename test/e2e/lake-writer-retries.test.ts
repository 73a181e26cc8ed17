/**
 * The lake writer retried: against real emulated S3 (s3rver) and DynamoDB (dynalite), a batch that
 * fails part way (after some files, or after its files but before its lake-seen states) and is
 * redelivered, and events resent in later batches, leave every event in the lake exactly once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamEvent } from 'aws-lambda';
import { startEmulator, type Emulator } from '../../local/emulators';
import { toLambdaRecord } from '../../local/lambda-records';
import { ensureBucket, ensureTable } from '../../local/provision';
import { LakeSql, localLakeRoot } from '../../local/lake-sql';
import { lakeBucket, tables } from '../../schemas/resources';

type Handler = typeof import('../../lambdas/lake-writer/handler');

let seq = 49_000_000_000;
function batch(events: Record<string, unknown>[]): KinesisStreamEvent {
  return {
    Records: events.map((e) =>
      toLambdaRecord(
        { PartitionKey: String(e.tx_id), SequenceNumber: String(seq++), Data: Buffer.from(JSON.stringify(e)), ApproximateArrivalTimestamp: new Date(0) },
        { shardId: 'shardId-000000000000', streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/events', region: 'us-east-1', invokeIdentityArn: 'arn' },
      ),
    ),
  };
}

const now = Date.now();
const bid = (tx: string, t = now) => ({ type: 'bid', tx_id: tx, app_uid: 'u', campaign_item_id: 3, received_at: t, event_time: t });
const click = (tx: string, t = now) => ({ type: 'click', tx_id: tx, received_at: t, event_time: t });

describe('the lake writer under retries and resends', () => {
  let dataDir: string;
  let emulators: Emulator[];
  let writer: Handler;
  let failAfter = Infinity;
  let calls = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sdp-lake-writer-'));
    emulators = await Promise.all([startEmulator('s3', dataDir), startEmulator('dynamodb', dataDir)]);
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_S3: emulators[0].endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: emulators[1].endpoint,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    await ensureBucket(new S3Client({ forcePathStyle: true }), lakeBucket.name);
    await ensureTable(new DynamoDBClient({}), tables.lakeSeen);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    writer = require('../../lambdas/lake-writer/handler');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { s3 } = require('../../lambdas/commons/s3') as typeof import('../../lambdas/commons/s3');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { dynamo } = require('../../lambdas/commons/clients') as typeof import('../../lambdas/commons/clients');
    const fault = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      if (++calls > failAfter) throw new Error('injected fault');
      return next(args);
    };
    s3().middlewareStack.add(fault as never, { step: 'initialize', name: 'fault' });
    dynamo().middlewareStack.add(fault as never, { step: 'initialize', name: 'fault' });
  });
  afterAll(async () => {
    await Promise.all(emulators.map((e) => e.stop()));
  });

  async function lakeCounts(): Promise<Record<string, number>> {
    const lake = await LakeSql.open(localLakeRoot(join(dataDir)));
    try {
      const rows = (await lake.query('SELECT type, tx_id, count(*) AS n FROM parquet_bcns GROUP BY type, tx_id')).rows;
      const raw = (await lake.query('SELECT count(*) AS n FROM raw_bcns')).rows[0].n as number;
      const typed = (await lake.query('SELECT (SELECT count(*) FROM parquet_bids) + (SELECT count(*) FROM parquet_clicks) AS n')).rows[0].n as number;
      return { ...Object.fromEntries(rows.map((r) => [`${r.type}:${r.tx_id}`, r.n as number])), raw, typed };
    } finally {
      lake.close();
    }
  }

  async function deliverUntilDone(event: KinesisStreamEvent, failures: number[]): Promise<void> {
    for (const after of failures) {
      calls = 0;
      failAfter = after;
      await expect(writer.handler(event)).rejects.toThrow('injected fault');
    }
    failAfter = Infinity;
    await writer.handler(event);
  }

  it('writes each event once however a batch fails and is retried, and however clients resend', async () => {
    const first = batch([bid('a'), bid('b'), click('a'), bid('a'), bid('c', now - 2 * 3_600_000)]);
    // Fail on the read of states, after some files, after all files (before the states), then succeed.
    await deliverUntilDone(first, [0, 3, 6]);
    await deliverUntilDone(first, []); // redelivered once more after success
    const second = batch([bid('b'), click('a'), click('b'), bid('d')]);
    await deliverUntilDone(second, [4]);

    expect(await lakeCounts()).toEqual({
      'bid:a': 1,
      'bid:b': 1,
      'bid:c': 1,
      'bid:d': 1,
      'click:a': 1,
      'click:b': 1,
      raw: 6,
      typed: 6,
    });
  });
});
