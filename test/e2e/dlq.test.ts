/**
 * `sdp dlq list` and `sdp dlq redrive` on a running local platform. Two letters are laid in the
 * aggregator's dead-letter store as the poller would write them: one holds a batch the aggregator
 * had in fact stored (its records read back from the events stream by sequence range), one holds
 * a record that is not an event. Redriving both replays the first without changing a count and
 * sets it aside, refuses the second with the reason and keeps it, and exits 1. A lake-writer letter
 * holding events the lake never got puts each of them in the lake once, however often it is
 * redriven.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { generateWorkload } from '../../pipelines/adtech/workload';
import { sendEvents } from '../../local/send';
import { DeadLetterStore, type DeadLetter } from '../../local/dead-letters';
import { readBatchRecords } from '../../local/aws-dead-letters';
import { toLambdaRecord } from '../../local/lambda-records';
import { streams } from '../../schemas/resources';
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
const FIRST_CAMPAIGN = 6300;

describe('sdp dlq', () => {
  let platform: RunningPlatform;
  const workload = generateWorkload({ auctions: 300, campaigns: 2, firstCampaign: FIRST_CAMPAIGN, resendRate: 0.1, seed: 21 });

  beforeAll(async () => {
    platform = await startPlatform();
    await sendEvents(platform.outputs.UrlForAPI, workload.events, { batchSize: 25, concurrency: 4 });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const sdp = (...args: string[]) =>
    run(process.execPath, [SDP, ...args, '--data-dir', platform.dataDir]).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (err) => ({ code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string }),
    );
  const reports = () =>
    Promise.all(
      [0, 1].map(async (i) => {
        const body = (await (await fetch(`${platform.outputs.UrlForReports}${FIRST_CAMPAIGN + i}`)).json()) as { bids: number; impressions: number; clicks: number };
        return { bids: body.bids ?? 0, impressions: body.impressions ?? 0, clicks: body.clicks ?? 0 };
      }),
    );
  const truth = [0, 1].map((i) => workload.truth.get(FIRST_CAMPAIGN + i));

  function letter(shardId: string, records: DeadLetter['records'], functionName = 'aggregator'): DeadLetter {
    const first = records[0];
    const last = records[records.length - 1];
    return {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { requestId: 'test', functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: first.kinesis.sequenceNumber,
        endSequenceNumber: last.kinesis.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date().toISOString(),
        approximateArrivalOfLastRecord: new Date().toISOString(),
        batchSize: records.length,
        streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${streams.events.name}`,
      },
      records,
    };
  }

  it('replays a stored batch without changing a count, and refuses one that holds a non-event', async () => {
    await pollUntil('the reports to show every event', reports, (r) => JSON.stringify(r) === JSON.stringify(truth));

    const kinesis = new KinesisClient({ region: 'us-east-1', endpoint: platform.outputs.KinesisEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, requestHandler: new NodeHttpHandler() });
    const shardId = 'shardId-000000000000';
    const iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: streams.events.name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    const onStream = (await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 60 }))).Records!;
    expect(onStream.length).toBeGreaterThan(10);
    const position = { shardId, startSequenceNumber: onStream[0].SequenceNumber!, endSequenceNumber: onStream[onStream.length - 1].SequenceNumber!, streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${streams.events.name}` };
    const records = await readBatchRecords(kinesis, position as DeadLetter['KinesisBatchInfo'], 'us-east-1');
    expect(records.map((r) => r.kinesis.sequenceNumber)).toEqual(onStream.map((r) => r.SequenceNumber));
    const stored = letter(shardId, records);

    const poison = letter(shardId, [{ ...stored.records[0], kinesis: { ...stored.records[0].kinesis, data: Buffer.from('not an event').toString('base64') } }]);
    const store = new DeadLetterStore(platform.dataDir, 'aggregator');
    const storedName = store.put(stored).split('/').pop()!;
    const poisonName = store.put({ ...poison, timestamp: new Date(Date.now() + 1000).toISOString() }).split('/').pop()!;

    const listed = await sdp('dlq', 'list', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { letter: string }[]).map((l) => l.letter)).toEqual([storedName, poisonName]);

    const unknown = await sdp('dlq', 'redrive', 'no-such-letter.json');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no such dead letter: no-such-letter\.json/);

    const redrive = await sdp('dlq', 'redrive', '--all', '--json');
    const outcomes = JSON.parse(redrive.stdout) as { letter: string; ok: boolean; detail: string }[];
    expect(outcomes).toEqual([
      expect.objectContaining({ letter: storedName, ok: true, detail: expect.stringMatching(/already stored/) }),
      expect.objectContaining({ letter: poisonName, ok: false, detail: expect.stringMatching(/1 of its 1 records are not valid events/) }),
    ]);
    expect(redrive.code).toBe(1);
    expect(redrive.stderr).toMatch(/1 dead letter\(s\) could not be replayed/);
    expect(redrive.stderr).not.toMatch(/\n\s+at /); // no stack trace

    expect(await reports()).toEqual(truth);
    const left = JSON.parse((await sdp('dlq', 'list', '--json')).stdout) as { letter: string }[];
    expect(left.map((l) => l.letter)).toEqual([poisonName]);
  }, 120_000);

  it('redrives a lake-writer letter into the lake, each event once however often it is redriven', async () => {
    const campaign = FIRST_CAMPAIGN + 50;
    const lost = generateWorkload({ auctions: 40, campaigns: 1, firstCampaign: campaign, resendRate: 0, seed: 22 });
    const shardId = 'shardId-000000000001';
    // Records as the poller read them, at sequence numbers past anything on the stream.
    const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${streams.events.name}`;
    const records = lost.events.map((e, i) =>
      toLambdaRecord(
        {
          PartitionKey: String(e.body.tx_id),
          SequenceNumber: `7${String(i).padStart(55, '0')}`,
          Data: Buffer.from(JSON.stringify({ ...e.body, type: e.type, received_at: Date.now(), event_time: Date.now() })),
          ApproximateArrivalTimestamp: new Date(),
        },
        { shardId, streamArn, region: 'us-east-1', invokeIdentityArn: 'arn:aws:iam::000000000000:role/lake-writer' },
      ),
    );
    const lakeLetter = letter(shardId, records, 'lake-writer-events');
    const inLake = async () => {
      const out = await sdp('query', `SELECT count(*)::INT AS n, count(DISTINCT tx_id || type)::INT AS events FROM raw_bcns WHERE tx_id IN (${lost.events.map((e) => `'${String(e.body.tx_id)}'`).join(', ')})`, '--json');
      expect(out.code).toBe(0);
      return (JSON.parse(out.stdout) as { n: number; events: number }[])[0];
    };
    expect(await inLake()).toEqual({ n: 0, events: 0 });

    const store = new DeadLetterStore(platform.dataDir, 'lake-writer-events');
    for (let round = 0; round < 2; round++) {
      store.put({ ...lakeLetter, timestamp: new Date(Date.now() + round).toISOString() });
      const redrive = await sdp('dlq', 'redrive', '--all', '--consumer', 'lake-writer-events', '--json');
      expect(redrive.code).toBe(0);
      expect(JSON.parse(redrive.stdout)).toEqual([expect.objectContaining({ ok: true, detail: `${records.length} records handed to the lake writer again` })]);
      expect(await inLake()).toEqual({ n: lost.events.length, events: lost.events.length });
    }
  }, 120_000);
});
