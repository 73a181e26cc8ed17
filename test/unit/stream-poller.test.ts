/**
 * The local event source mapping (local/stream-poller.ts) against a real kinesalite: ordered
 * delivery per shard, retries with and without bisection, partial batch responses, poison records
 * to the dead-letter store, checkpoints that a new poller resumes from, and shards read after
 * their parents once the stream is resharded.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { startEmulator, type Emulator } from '../../local/emulators';
import { ensureStream } from '../../local/provision';
import { CheckpointStore } from '../../local/checkpoints';
import { DeadLetterStore, type DeadLetter } from '../../local/dead-letters';
import { SHARD_END, StreamPoller, type MappingSettings } from '../../local/stream-poller';
import { reshardUniform } from '../../local/reshard';

jest.setTimeout(30_000);

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';

const STREAM = 'events';
const CONSUMER = 'unit-test';

interface Put {
  n: number;
  shardId: string;
  seq: string;
}

interface Delivered {
  n: number;
  shardId: string;
  seq: string;
}

/** What one invocation of the handler received. */
type Invocation = Delivered[];

const mapping = (overrides: Partial<MappingSettings> = {}): MappingSettings => ({
  batchSize: 100,
  maxBatchingWindowSeconds: 0.05,
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
  retryAttempts: 2,
  ...overrides,
});

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const byNumber = (a: { seq: string }, b: { seq: string }) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0);

describe('StreamPoller against kinesalite', () => {
  let dataDir: string;
  let emulator: Emulator | undefined;
  let kinesis: KinesisClient;
  const pollers: StreamPoller[] = [];
  let errors: string[];

  async function setup(shards: number): Promise<void> {
    dataDir = mkdtempSync(join(tmpdir(), 'sdp-poller-'));
    emulator = await startEmulator('kinesis', dataDir, 0);
    kinesis = new KinesisClient({ endpoint: emulator.endpoint, region: 'us-east-1', requestHandler: new NodeHttpHandler() });
    await ensureStream(kinesis, { name: STREAM, env: 'UNUSED_STREAM_ENV' }, shards);
  }

  /** Puts events numbered from..to-1 in one PutRecords call; returns where each landed. */
  async function put(from: number, to: number): Promise<Put[]> {
    const ns = Array.from({ length: to - from }, (_, i) => from + i);
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: ns.map((n) => ({ PartitionKey: `tx-${n}`, Data: Buffer.from(JSON.stringify({ n })) })),
      }),
    );
    expect(out.FailedRecordCount ?? 0).toBe(0);
    return out.Records!.map((r, i) => ({ n: ns[i], shardId: r.ShardId!, seq: r.SequenceNumber! }));
  }

  /** A poller whose handler records what it got and answers as `answer` decides. */
  function poller(
    settings: MappingSettings,
    answer: (records: Invocation, invocation: number) => KinesisStreamBatchResponse | void | Promise<void> = () => undefined,
    checkpoints = new CheckpointStore(dataDir, CONSUMER),
    minBatchingWindowMs?: number,
  ) {
    const invocations: Invocation[] = [];
    const deadLetters = new DeadLetterStore(dataDir, CONSUMER);
    const p = new StreamPoller({
      kinesis,
      streamName: STREAM,
      functionName: 'unit-test-fn',
      mapping: settings,
      checkpoints,
      deadLetters,
      region: 'us-east-1',
      idlePollMs: 20,
      minBatchingWindowMs,
      onError: (message) => errors.push(message),
      handler: async (event: KinesisStreamEvent) => {
        const got = event.Records.map((r) => ({
          n: (JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8')) as { n: number }).n,
          shardId: r.eventID.split(':')[0],
          seq: r.kinesis.sequenceNumber,
        }));
        invocations.push(got);
        return answer(got, invocations.length);
      },
    });
    pollers.push(p);
    return { poller: p, invocations, deadLetters, checkpoints };
  }

  const delivered = (invocations: Invocation[]) => new Set(invocations.flat().map((d) => d.n));

  beforeEach(() => {
    errors = [];
  });

  afterEach(async () => {
    for (const p of pollers.splice(0)) await p.stop();
    kinesis?.destroy();
    await emulator?.stop();
    emulator = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every record once, in order per shard, in batches of at most batchSize from one shard', async () => {
    await setup(3);
    const puts = [...(await put(0, 40)), ...(await put(40, 70)), ...(await put(70, 120))];
    expect(new Set(puts.map((p) => p.shardId)).size).toBeGreaterThan(1);
    const { poller: p, invocations } = poller(mapping({ batchSize: 7 }));
    await p.start();
    await until('all 120 records delivered', () => delivered(invocations).size === 120);

    for (const batch of invocations) {
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(7);
      expect(new Set(batch.map((d) => d.shardId)).size).toBe(1);
    }
    const got = invocations.flat();
    expect(got).toHaveLength(120); // nothing twice
    for (const shardId of new Set(puts.map((x) => x.shardId))) {
      const expected = puts.filter((x) => x.shardId === shardId).sort(byNumber);
      expect(got.filter((d) => d.shardId === shardId)).toEqual(expected);
    }
    expect(errors).toEqual([]);
  });

  it('with a minimum batching window, collects records read at different times into one batch', async () => {
    await setup(1);
    const { poller: p, invocations } = poller(mapping({ maxBatchingWindowSeconds: 0 }), undefined, undefined, 1500);
    await p.start();
    await put(0, 5);
    await until('the first records read', () => p.shards()[0].pending === 5);
    await put(5, 10);
    await until('all 10 records delivered', () => delivered(invocations).size === 10);
    expect(invocations.map((batch) => batch.length)).toEqual([10]);
  });

  it('hands the handler Lambda-shaped Kinesis records', async () => {
    await setup(1);
    const [only] = await put(0, 1);
    const events: KinesisStreamEvent[] = [];
    const p = new StreamPoller({
      kinesis,
      streamName: STREAM,
      functionName: 'fn',
      mapping: mapping(),
      checkpoints: new CheckpointStore(dataDir, CONSUMER),
      deadLetters: new DeadLetterStore(dataDir, CONSUMER),
      region: 'us-east-1',
      idlePollMs: 20,
      handler: async (event) => {
        events.push(event);
      },
    });
    pollers.push(p);
    await p.start();
    await until('one invocation', () => events.length === 1);
    const record = events[0].Records[0];
    expect(record).toMatchObject({
      eventSource: 'aws:kinesis',
      eventName: 'aws:kinesis:record',
      eventID: `${only.shardId}:${only.seq}`,
      awsRegion: 'us-east-1',
      eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM}`,
      kinesis: { partitionKey: 'tx-0', sequenceNumber: only.seq },
    });
    expect(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString())).toEqual({ n: 0 });
    expect(typeof record.kinesis.approximateArrivalTimestamp).toBe('number');
  });

  it('redelivers a batch whose handler threw, in halves when bisecting', async () => {
    await setup(1);
    const puts = await put(0, 8);
    const { poller: p, invocations } = poller(mapping({ batchSize: 8 }), (_records, i) => {
      if (i === 1) throw new Error('transient failure');
    });
    await p.start();
    await until('all records delivered after the retry', () => invocations.length >= 3);
    const ns = (inv: Invocation) => inv.map((d) => d.n);
    expect(invocations.map(ns)).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7],
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    await until('the checkpoint to reach the last record', () => p.shards()[0].checkpoint === puts[7].seq);
    expect(errors.some((e) => e.includes('unit-test-fn failed'))).toBe(true);
  });

  it('redelivers the whole batch when not bisecting', async () => {
    await setup(1);
    await put(0, 8);
    const { poller: p, invocations } = poller(mapping({ batchSize: 8, bisectBatchOnError: false }), (_records, i) => {
      if (i === 1) throw new Error('transient failure');
    });
    await p.start();
    await until('the retry', () => invocations.length >= 2);
    expect(invocations.map((inv) => inv.map((d) => d.n))).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7],
      [0, 1, 2, 3, 4, 5, 6, 7],
    ]);
  });

  it('after a partial batch response, redelivers from the lowest failed record only', async () => {
    await setup(1);
    const puts = await put(0, 8);
    const { poller: p, invocations } = poller(mapping({ batchSize: 8 }), (records, i) => {
      // Report two failures; the lowest (record 3) is where the retry must start.
      if (i === 1) return { batchItemFailures: [{ itemIdentifier: records[5].seq }, { itemIdentifier: records[3].seq }] };
      return { batchItemFailures: [] };
    });
    await p.start();
    await until('the retry', () => invocations.length >= 2);
    await until('the checkpoint to reach the last record', () => p.shards()[0].checkpoint === puts[7].seq);
    expect(invocations.map((inv) => inv.map((d) => d.n))).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7],
      [3, 4, 5, 6, 7],
    ]);
  });

  it('ignores batchItemFailures when the mapping does not report them', async () => {
    await setup(1);
    const puts = await put(0, 4);
    const { poller: p, invocations } = poller(mapping({ batchSize: 4, reportBatchItemFailures: false }), (records) => ({
      batchItemFailures: [{ itemIdentifier: records[1].seq }],
    }));
    await p.start();
    await until('the checkpoint to reach the last record', () => p.shards()[0].checkpoint === puts[3].seq);
    expect(invocations).toHaveLength(1);
  });

  it('sends only a poison record to the dead-letter store after its retries, processes the others, and moves on', async () => {
    await setup(1);
    const puts = await put(0, 8);
    const poison = puts[5];
    const processed: number[] = [];
    const { poller: p, invocations, deadLetters } = poller(mapping({ batchSize: 8, retryAttempts: 2 }), (records) => {
      if (records.some((r) => r.n === poison.n)) throw new Error(`cannot process record ${poison.n}`);
      processed.push(...records.map((r) => r.n));
    });
    await p.start();
    await until('a dead letter', () => deadLetters.count() > 0);

    // It moves on: records put after the poison are processed too.
    const later = await put(8, 12);
    await until('the later records', () => [8, 9, 10, 11].every((n) => processed.includes(n)));

    expect([...processed].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
    expect(deadLetters.count()).toBe(1);
    const file = readdirSync(deadLetters.dir).find((f) => f.endsWith('.json'))!;
    const letter = JSON.parse(readFileSync(join(deadLetters.dir, file), 'utf8')) as DeadLetter;
    expect(letter.records.map((r) => r.kinesis.sequenceNumber)).toEqual([poison.seq]);
    expect(letter.KinesisBatchInfo).toMatchObject({ shardId: poison.shardId, startSequenceNumber: poison.seq, endSequenceNumber: poison.seq, batchSize: 1 });
    expect(letter.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 });
    expect(letter.responseContext.functionError).toContain(`cannot process record ${poison.n}`);
    // The poison alone was tried 1 + retryAttempts times.
    expect(invocations.filter((inv) => inv.length === 1 && inv[0].n === poison.n)).toHaveLength(3);
    expect(p.deadLettered).toBe(1);
    await until('the checkpoint to pass the later records', () => p.shards()[0].checkpoint === later[3].seq);
  });

  it('dead-letters a batch that keeps failing without bisection, after retryAttempts retries', async () => {
    await setup(1);
    const puts = await put(0, 3);
    const { poller: p, invocations, deadLetters } = poller(mapping({ batchSize: 3, retryAttempts: 1, bisectBatchOnError: false }), () => {
      throw new Error('always');
    });
    await p.start();
    await until('a dead letter', () => deadLetters.count() === 1);
    expect(invocations).toHaveLength(2);
    const file = readdirSync(deadLetters.dir).find((f) => f.endsWith('.json'))!;
    const letter = JSON.parse(readFileSync(join(deadLetters.dir, file), 'utf8')) as DeadLetter;
    expect(letter.records.map((r) => r.kinesis.sequenceNumber)).toEqual(puts.map((x) => x.seq));
    await until('the checkpoint to pass the batch', () => p.shards()[0].checkpoint === puts[2].seq);
  });

  it('persists its checkpoint, and a new poller resumes after it without redelivering', async () => {
    await setup(2);
    const first = await put(0, 30);
    const a = poller(mapping({ batchSize: 10 }));
    await a.poller.start();
    await until('the first records', () => delivered(a.invocations).size === 30);
    const lastPerShard = new Map<string, string>();
    for (const x of [...first].sort(byNumber)) lastPerShard.set(x.shardId, x.seq);
    await until('checkpoints at the last record of each shard', () => [...lastPerShard].every(([shard, seq]) => a.poller.shards().find((s) => s.shardId === shard)?.checkpoint === seq));
    await a.poller.stop();

    // The checkpoints are on disk.
    const onDisk = JSON.parse(readFileSync(join(dataDir, 'checkpoints', `${CONSUMER}.json`), 'utf8')) as Record<string, string>;
    expect(onDisk).toEqual(Object.fromEntries(lastPerShard));

    const second = await put(30, 45);
    const b = poller(mapping({ batchSize: 10 }), undefined, new CheckpointStore(dataDir, CONSUMER));
    await b.poller.start();
    // Checkpointed records would come first on a shard, so once the new ones are in, any redelivery has happened.
    await until('the new records', () => second.every((x) => delivered(b.invocations).has(x.n)));
    const got = b.invocations.flat();
    expect(got.map((d) => d.n).sort((x, y) => x - y)).toEqual(second.map((x) => x.n));
    expect(got).toHaveLength(15);
  });

  it('a batch that fails while the poller stops is not checkpointed, so the next poller redelivers it', async () => {
    await setup(1);
    const puts = await put(0, 5);
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    // The first poller's handler blocks until the stop has begun, then fails.
    const aHandlerCalls: number[] = [];
    const p = new StreamPoller({
      kinesis,
      streamName: STREAM,
      functionName: 'fn',
      mapping: mapping({ batchSize: 5 }),
      checkpoints: new CheckpointStore(dataDir, CONSUMER),
      deadLetters: new DeadLetterStore(dataDir, CONSUMER),
      region: 'us-east-1',
      idlePollMs: 20,
      handler: async () => {
        aHandlerCalls.push(Date.now());
        await blocked;
        throw new Error('killed mid-batch');
      },
    });
    pollers.push(p);
    await p.start();
    await until('the first invocation', () => aHandlerCalls.length === 1);
    const stopping = p.stop();
    release();
    await stopping;
    expect(aHandlerCalls).toHaveLength(1);
    expect(p.shards()[0].checkpoint).toBeUndefined();

    const b = poller(mapping({ batchSize: 5 }), undefined, new CheckpointStore(dataDir, CONSUMER));
    await b.poller.start();
    await until('the redelivery', () => delivered(b.invocations).size === 5);
    expect(b.invocations.flat().map((d) => d.seq)).toEqual(puts.map((x) => x.seq));
    expect(new DeadLetterStore(dataDir, CONSUMER).count()).toBe(0);
  });

  it('refuses to start, naming the checkpoint file, when a checkpoint is not a position its stream has', async () => {
    await setup(1);
    const puts = await put(0, 5);
    const last = puts[puts.length - 1];
    // A well-formed sequence number of this shard five records past its last: what a checkpoint
    // holds when the stream's store is an older copy than the checkpoint.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const db = require('kinesalite/db') as { parseSequence(s: string): { seqIx: string }; stringifySequence(o: object): string };
    const parsed = db.parseSequence(last.seq);
    const ahead = db.stringifySequence({ ...parsed, seqIx: String(BigInt(parsed.seqIx) + 5n) });
    const file = new CheckpointStore(dataDir, CONSUMER).file;
    const refusal = async (positions: Record<string, string>) => {
      writeFileSync(file, JSON.stringify(positions));
      return poller(mapping()).poller.start().then(() => 'started', (err: Error) => err.message);
    };
    expect(await refusal({ [last.shardId]: ahead })).toMatch(new RegExp(`^${file}: holds ${ahead} for ${last.shardId}, past the last record of that shard in stream events .*; delete ${file} to have the consumer re-read`));
    expect(await refusal({ 'shardId-000000000007': last.seq })).toMatch(/names shardId-000000000007, a shard stream events does not have/);
    expect(await refusal({ [last.shardId]: SHARD_END })).toMatch(/marks shardId-000000000000 as read to its end, but that shard is still open/);
    expect(await refusal({ [last.shardId]: '1' })).toMatch(/holds 1 for shardId-000000000000, which stream events refuses/);
    // At its last record the checkpoint is a position the shard has: the poller starts and delivers nothing again.
    const { poller: p, invocations } = poller(mapping(), undefined, (writeFileSync(file, JSON.stringify({ [last.shardId]: last.seq })), new CheckpointStore(dataDir, CONSUMER)));
    await p.start();
    await put(5, 6);
    await until('the new record delivered', () => delivered(invocations).size === 1);
    expect([...delivered(invocations)]).toEqual([5]);
  });

  describe('after a reshard', () => {
    const shardIds = (puts: Put[]) => [...new Set(puts.map((x) => x.shardId))].sort();

    it("delivers all the parent holds, its last records too, before any record of its children", async () => {
      await setup(1);
      const parentPuts = await put(0, 5);
      await reshardUniform(kinesis, STREAM, 2);
      const childPuts = await put(5, 30);
      const children = shardIds(childPuts);
      expect(children).toHaveLength(2);
      // The window never closes here: the children deliver full batches only, and the parent's 5
      // records (fewer than a batch) are delivered because its end was reached.
      const { poller: p, invocations, checkpoints } = poller(mapping({ batchSize: 10, maxBatchingWindowSeconds: 300 }));
      await p.start();
      const fullBatches = children.reduce((n, c) => n + Math.floor(childPuts.filter((x) => x.shardId === c).length / 10) * 10, 0);
      await until("the parent's records and the children's full batches", () => invocations.flat().length === parentPuts.length + fullBatches);
      expect(invocations[0].map((d) => d.n)).toEqual([0, 1, 2, 3, 4]);
      expect(invocations.slice(1).every((inv) => inv.length === 10 && children.includes(inv[0].shardId))).toBe(true);
      expect(checkpoints.get(parentPuts[0].shardId)).toBe(SHARD_END);
      expect(p.shards().map((s) => s.shardId).sort()).toEqual(children);
    });

    it('reads a merged shard only once both parents were read to their ends', async () => {
      await setup(2);
      const parentPuts = await put(0, 20);
      const parents = shardIds(parentPuts);
      expect(parents).toHaveLength(2);
      await reshardUniform(kinesis, STREAM, 1);
      const childPuts = await put(20, 30);
      const [fast, slow] = parents;
      let release!: () => void;
      const blocked = new Promise<void>((r) => (release = r));
      const { poller: p, invocations, checkpoints } = poller(mapping(), async (records) => {
        if (records[0].shardId === slow) await blocked;
      });
      await p.start();
      // Once a parent ended, the poller lists the shards again before it lets the parent go.
      await until('the fast parent to end', () => checkpoints.get(fast) === SHARD_END && !p.shards().some((s) => s.shardId === fast));
      expect(p.shards().map((s) => [s.shardId, s.waitingFor])).toEqual([[slow, undefined], [childPuts[0].shardId, [slow]]]);
      expect(p.idle()).toBe(false);
      release();
      await until('every record', () => delivered(invocations).size === 30);
      const child = childPuts[0].shardId;
      await until('the child to be read', () => p.shards().some((s) => s.shardId === child && s.waitingFor === undefined));
      const firstOfChild = invocations.findIndex((inv) => inv[0].shardId === child);
      const lastOfParents = Math.max(...parents.map((shard) => invocations.map((inv) => inv[0].shardId).lastIndexOf(shard)));
      expect(firstOfChild).toBeGreaterThan(lastOfParents);
      await until('the slow parent to end', () => checkpoints.get(slow) === SHARD_END);
    });

    it('a poller started later skips the parents read to their ends and resumes the children', async () => {
      await setup(1);
      await put(0, 10);
      await reshardUniform(kinesis, STREAM, 2);
      await put(10, 20);
      const a = poller(mapping());
      await a.poller.start();
      await until('every record', () => delivered(a.invocations).size === 20);
      await a.poller.stop();
      const more = await put(20, 30);
      const b = poller(mapping(), undefined, new CheckpointStore(dataDir, CONSUMER));
      await b.poller.start();
      await until('the new records', () => more.every((x) => delivered(b.invocations).has(x.n)));
      expect(b.invocations.flat().map((d) => d.n).sort((x, y) => x - y)).toEqual(more.map((x) => x.n));
    });
  });
});
