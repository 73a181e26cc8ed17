/**
 * Unit tests for lambdas/commons/stream-writer.ts with a fake Kinesis client: coalescing into
 * PutRecords calls, per-caller resolution, retries of rejected records, and the errors callers get.
 */
import type { KinesisClient, PutRecordsCommand, PutRecordsRequestEntry, PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { StreamWriteError, StreamWriter, type StreamRecord } from '../../lambdas/commons/stream-writer';

type Behaviour = (entries: PutRecordsRequestEntry[], call: number) => Promise<PutRecordsResultEntry[]> | PutRecordsResultEntry[];

let lastSeq = 49590338271490256608559692538361571095921575989136588898n;

/** A per-record success, as PutRecords reports it. */
function ok(): PutRecordsResultEntry {
  lastSeq += 1n;
  return { SequenceNumber: lastSeq.toString(), ShardId: 'shardId-000000000000' };
}

/** A per-record failure, as PutRecords reports it. */
function fail(code: string): PutRecordsResultEntry {
  return { ErrorCode: code, ErrorMessage: `${code} (fake)` };
}

/** A KinesisClient stand-in whose PutRecords answers are decided by the test. */
class FakeKinesis {
  readonly calls: { streamName?: string; entries: PutRecordsRequestEntry[] }[] = [];

  constructor(private readonly behaviour: Behaviour = (entries) => entries.map(() => ok())) {}

  async send(command: PutRecordsCommand) {
    const input = command.input;
    const entries = input.Records ?? [];
    this.calls.push({ streamName: input.StreamName, entries });
    const results = await this.behaviour(entries, this.calls.length);
    return { FailedRecordCount: results.filter((r) => r.ErrorCode).length, Records: results };
  }

  get client(): KinesisClient {
    return this as unknown as KinesisClient;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function records(caller: string, n: number): StreamRecord[] {
  return Array.from({ length: n }, (_, i) => ({ partitionKey: `${caller}-${i}`, data: enc.encode(JSON.stringify({ caller, i })) }));
}

const callerOf = (e: PutRecordsRequestEntry) => (JSON.parse(dec.decode(e.Data!)) as { caller: string }).caller;

/** Follows a promise's outcome without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state: { status: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { status: 'pending' };
  promise.then(
    () => (state.status = 'resolved'),
    (error) => {
      state.status = 'rejected';
      state.error = error;
    },
  );
  return state;
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

const fast = { baseDelayMs: 1, maxAttempts: 4 };

describe('StreamWriter', () => {
  it('puts records with their stream name, partition keys and data', async () => {
    const kinesis = new FakeKinesis();
    const writer = new StreamWriter(kinesis.client, 'events-test', fast);
    await writer.put([{ partitionKey: 'tx-1', data: enc.encode('{"a":1}') }]);
    expect(kinesis.calls).toHaveLength(1);
    expect(kinesis.calls[0].streamName).toBe('events-test');
    expect(kinesis.calls[0].entries[0].PartitionKey).toBe('tx-1');
    expect(dec.decode(kinesis.calls[0].entries[0].Data!)).toBe('{"a":1}');
  });

  it('resolves an empty put without calling the stream', async () => {
    const kinesis = new FakeKinesis();
    await new StreamWriter(kinesis.client, 's', fast).put([]);
    expect(kinesis.calls).toHaveLength(0);
  });

  it('coalesces concurrent puts into one PutRecords call', async () => {
    const kinesis = new FakeKinesis();
    const writer = new StreamWriter(kinesis.client, 's', fast);
    await Promise.all([writer.put(records('a', 100)), writer.put(records('b', 150)), writer.put(records('c', 1))]);
    expect(kinesis.calls).toHaveLength(1);
    expect(kinesis.calls[0].entries).toHaveLength(251);
    expect(kinesis.calls[0].entries.map((e) => e.PartitionKey)).toEqual([...records('a', 100), ...records('b', 150), ...records('c', 1)].map((r) => r.partitionKey));
  });

  it('never puts more than 500 records in one call', async () => {
    const kinesis = new FakeKinesis();
    const writer = new StreamWriter(kinesis.client, 's', fast);
    const callers = ['a', 'b', 'c', 'd'].map((c) => writer.put(records(c, 300)));
    await Promise.all(callers);
    const sizes = kinesis.calls.map((c) => c.entries.length);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(500);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1200);
    expect(kinesis.calls).toHaveLength(3);
    // Every record went out exactly once.
    const keys = kinesis.calls.flatMap((c) => c.entries.map((e) => e.PartitionKey));
    expect(new Set(keys).size).toBe(1200);
  });

  it('a single put of more than 500 records is split, and resolves when all calls succeeded', async () => {
    const gate = deferred();
    const kinesis = new FakeKinesis(async (entries, call) => {
      if (call === 2) await gate.promise;
      return entries.map(() => ok());
    });
    const writer = new StreamWriter(kinesis.client, 's', fast);
    const big = track(writer.put(records('a', 700)));
    await until('two calls', () => kinesis.calls.length === 2);
    expect(kinesis.calls.map((c) => c.entries.length)).toEqual([500, 200]);
    await new Promise((r) => setImmediate(r));
    expect(big.status).toBe('pending');
    gate.release();
    await until('the put to resolve', () => big.status !== 'pending');
    expect(big.status).toBe('resolved');
  });

  it('resolves each caller only when all its records succeeded, retrying only the rejected ones', async () => {
    const retryGate = deferred();
    const kinesis = new FakeKinesis(async (entries, call) => {
      if (call === 1) return entries.map((e) => (e.PartitionKey === 'a-3' ? fail('ProvisionedThroughputExceededException') : ok()));
      await retryGate.promise;
      return entries.map(() => ok());
    });
    const writer = new StreamWriter(kinesis.client, 's', fast);
    const a = track(writer.put(records('a', 5)));
    const b = track(writer.put(records('b', 5)));

    await until('the retry call', () => kinesis.calls.length === 2);
    expect(kinesis.calls[1].entries.map((e) => e.PartitionKey)).toEqual(['a-3']);
    await until('b to resolve', () => b.status !== 'pending');
    expect(b.status).toBe('resolved');
    expect(a.status).toBe('pending');

    retryGate.release();
    await until('a to settle', () => a.status !== 'pending');
    expect(a.status).toBe('resolved');
    expect(kinesis.calls).toHaveLength(2);
  });

  it.each([
    ['ProvisionedThroughputExceededException', true],
    ['InternalFailure', false],
  ])('rejects with StreamWriteError after the retries when a record keeps failing with %s (throttled: %s)', async (code, throttled) => {
    const kinesis = new FakeKinesis((entries) => entries.map((e) => (e.PartitionKey === 'a-1' ? fail(code) : ok())));
    const writer = new StreamWriter(kinesis.client, 's', { baseDelayMs: 1, maxAttempts: 3 });
    const a = writer.put(records('a', 3));
    const b = writer.put(records('b', 3));
    await expect(b).resolves.toBeUndefined();
    const err = await a.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StreamWriteError);
    expect((err as StreamWriteError).throttled).toBe(throttled);
    expect((err as StreamWriteError).message).toContain(code);
    // First attempt plus two retries, each retry carrying only the failing record.
    expect(kinesis.calls).toHaveLength(3);
    expect(kinesis.calls.slice(1).map((c) => c.entries.map((e) => e.PartitionKey))).toEqual([['a-1'], ['a-1']]);
  });

  it('treats a missing per-record result as a failure, not a success', async () => {
    const kinesis = new FakeKinesis((entries) => entries.slice(0, entries.length - 1).map(() => ok()));
    const writer = new StreamWriter(kinesis.client, 's', { baseDelayMs: 1, maxAttempts: 2 });
    await expect(writer.put(records('a', 2))).rejects.toBeInstanceOf(StreamWriteError);
  });

  it('retries a call that throws (network error) and resolves when a retry succeeds', async () => {
    const kinesis = new FakeKinesis((entries, call) => {
      if (call === 1) throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
      return entries.map(() => ok());
    });
    const writer = new StreamWriter(kinesis.client, 's', fast);
    await expect(writer.put(records('a', 4))).resolves.toBeUndefined();
    expect(kinesis.calls).toHaveLength(2);
    expect(kinesis.calls[1].entries).toHaveLength(4);
  });

  it('rejects every caller with StreamWriteError (throttled false) when every call throws', async () => {
    const kinesis = new FakeKinesis(() => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:4567');
    });
    const writer = new StreamWriter(kinesis.client, 's', { baseDelayMs: 1, maxAttempts: 3 });
    const outcomes = await Promise.allSettled([writer.put(records('a', 2)), writer.put(records('b', 2))]);
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      const err = (o as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(StreamWriteError);
      expect(err.throttled).toBe(false);
      expect(err.message).toMatch(/ECONNREFUSED/);
    }
    expect(kinesis.calls).toHaveLength(3);
  });

  it('reports a thrown throttling error as throttled', async () => {
    const kinesis = new FakeKinesis(() => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    });
    const writer = new StreamWriter(kinesis.client, 's', { baseDelayMs: 1, maxAttempts: 2 });
    const err = await writer.put(records('a', 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamWriteError);
    expect((err as StreamWriteError).throttled).toBe(true);
  });

  it('rejects a record over 1 MiB without calling the stream, and keeps serving others', async () => {
    const kinesis = new FakeKinesis();
    const writer = new StreamWriter(kinesis.client, 's', fast);
    const err = await writer.put([{ partitionKey: 'k', data: new Uint8Array(1024 * 1024 + 1) }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamWriteError);
    expect((err as StreamWriteError).throttled).toBe(false);
    expect(kinesis.calls).toHaveLength(0);
    await writer.put(records('a', 1));
    expect(kinesis.calls).toHaveLength(1);
  });

  it('keeps coalescing after a failure: later callers are served', async () => {
    let failing = true;
    const kinesis = new FakeKinesis((entries) => entries.map(() => (failing ? fail('InternalFailure') : ok())));
    const writer = new StreamWriter(kinesis.client, 's', { baseDelayMs: 1, maxAttempts: 2 });
    await expect(writer.put(records('a', 3))).rejects.toBeInstanceOf(StreamWriteError);
    failing = false;
    await expect(Promise.all([writer.put(records('b', 3)), writer.put(records('c', 3))])).resolves.toBeDefined();
    expect(kinesis.calls.at(-1)!.entries.map(callerOf)).toEqual(['b', 'b', 'b', 'c', 'c', 'c']);
  });
});
