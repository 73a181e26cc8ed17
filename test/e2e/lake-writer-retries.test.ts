/**
 * The lake writer retried: against real emulated S3 (s3rver) and DynamoDB (dynalite), a batch that
 * fails part way (after some files, or after its files but before its lake-seen states) and is
 * redelivered, and events resent in later batches, leave every event in the lake exactly once;
 * so do the same records read again with other batch boundaries (a checkpoint deleted or older, a
 * replay from the stream's start, a bisected batch).
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

  it('writes each event once when the same records are read again with other boundaries', async () => {
    // 30 records of 20 auctions in two hours, with resends: bids, and a click for every third.
    const events = Array.from({ length: 30 }, (_, i) =>
      i % 10 === 9 ? bid(`r${i - 5}`, now - ((i - 5) % 2) * 3_600_000) : i % 3 === 2 ? click(`r${i - 2}`) : bid(`r${i}`, now - (i % 2) * 3_600_000),
    );
    const records = batch(events).Records;
    const read = async (size: number, from = 0) => {
      for (let i = from; i < records.length; i += size) await writer.handler({ Records: records.slice(i, i + size) });
    };
    const counts = async () => {
      const lake = await LakeSql.open(localLakeRoot(dataDir));
      try {
        const sql = (table: string) => `SELECT type || ':' || tx_id AS k, count(*) AS n FROM ${table} WHERE tx_id LIKE 'r%' GROUP BY ALL ORDER BY k`;
        return { parquet: (await lake.query(sql('parquet_bcns'))).rows, raw: (await lake.query(sql('raw_bcns'))).rows };
      } finally {
        lake.close();
      }
    };
    const distinct = [...new Set(events.map((e) => `${e.type}:${e.tx_id}`))].sort().map((k) => ({ k, n: 1 }));

    await read(4);
    const first = await counts();
    expect(first).toEqual({ parquet: distinct, raw: distinct });
    await read(7); // the checkpoint deleted: from the stream's start, other boundaries
    await read(3, 10); // an older checkpoint, in the middle of a first read's batch
    await read(30); // the whole stream in one batch (TRIM_HORIZON)
    // A batch that stored its states, then failed (a timeout), bisected: its halves.
    await read(6, 12);
    await read(3, 12);
    expect(await counts()).toEqual(first);
  });
});

