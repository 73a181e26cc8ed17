/**
 * The local event source mapping: reads each shard of a Kinesis stream in order and invokes a
 * Lambda handler with batches, following the rules of Lambda's Kinesis event source mapping:
 * - a batch is up to `batchSize` records, gathered for at most `maxBatchingWindowSeconds`;
 * - a handler error retries the batch, split in halves when `bisectBatchOnError` (a split does not
 *   count as a retry); a partial batch response retries from the lowest failed record;
 * - after `retryAttempts` retries the batch goes to the on-failure destination and the shard moves on;
 * - the checkpoint advances only past records the handler finished with, so a crash or restart
 *   redelivers what was not finished (at least once, in order, per shard);
 * - after a reshard, a shard's children are read only once it was read to its end (both parents'
 *   ends, after a merge), so each partition key's records still arrive in order.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { SHARD_END, type CheckpointStore } from './checkpoints';
import { checkPositions } from './checkpoint-positions';
import { toLambdaRecord } from './lambda-records';
import type { DeadLetterStore } from './dead-letters';
import { listShards } from '../lambdas/commons/shards';

export { SHARD_END };

/** A batch was processed but its checkpoint could not be written: the shard is read again from the last one. */
class DeliveryFailed extends Error {
  constructor(readonly cause: unknown) {
    super(`checkpointing failed: ${(cause as Error)?.message ?? cause}`);
  }
}

export type KinesisHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse | void>;

export interface MappingSettings {
  batchSize: number;
  maxBatchingWindowSeconds: number;
  bisectBatchOnError: boolean;
  reportBatchItemFailures: boolean;
  retryAttempts: number;
}

export interface PollerOptions {
  kinesis: KinesisClient;
  streamName: string;
  functionName: string;
  handler: KinesisHandler;
  mapping: MappingSettings;
  checkpoints: CheckpointStore;
  deadLetters: DeadLetterStore;
  region: string;
  /** Sleep between polls of an idle shard. */
  idlePollMs?: number;
  /**
   * A batch collects for at least this long, whatever the mapping's window (default 0). Lambda
   * reads a shard about once a second; this poller reads every idlePollMs, so without a window it
   * would hand the handler a few records at a time, and every batch costs its fixed writes.
   */
  minBatchingWindowMs?: number;
  /** Backoff before retrying a failed batch: base * 2^retries, capped at 5 s. */
  retryBaseDelayMs?: number;
  onError?: (message: string, err: unknown) => void;
}

export interface ShardStatus {
  shardId: string;
  checkpoint?: string;
  /** How far the last read was behind the tip of the shard, as Kinesis reports it. */
  millisBehindLatest?: number;
  /**
   * The last read returned no records and was at the tip. kinesalite answers MillisBehindLatest 0
   * to every read of an open shard, records or not, so only an empty read proves the tip reached.
   */
  readToTip?: boolean;
  lastInvokeAt?: number;
  retrying: boolean;
  /** Records read from the shard and not yet checkpointed (buffered or being delivered). */
  pending: number;
  /** Set while the shard is not read yet: its parents that have still to be read to their ends. */
  waitingFor?: string[];
  /** Reads of the shard that failed in a row (reset by a read that succeeds). */
  pollFailures?: number;
  /** Deliveries whose checkpoint could not be written, in a row (reset by a checkpoint written). */
  checkpointFailures?: number;
  /** Invocations on the shard's records that failed in a row, wholly or partly (reset by one that succeeds). */
  failedInvocations?: number;
  /** Batches dead-lettered in a row, with no batch processed between (the consumer skipping records). */
  deadLetteredInARow?: number;
  /** The last read or invocation error on the shard. */
  lastError?: string;
  /**
   * When the shard last made progress (epoch ms): its checkpoint advanced, or it was read to its
   * tip with nothing pending. A shard with records past its position and no progress for long is stalled.
   */
  lastProgressAt?: number;
}

export class StreamPoller {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly status = new Map<string, ShardStatus>();
  /** Shards not read yet, and the parents each waits for. */
  private readonly waiting = new Map<string, string[]>();
  private readonly wake = new Set<() => void>();
  readonly streamArn: string;
  /** The function's execution role, named in every record delivered. */
  private readonly roleArn: string;
  invocations = 0;
  /** Records delivered to the handler and wall time spent in it, over all invocations (the cost bench reads them). */
  recordsDelivered = 0;
  handlerMs = 0;
  deadLettered = 0;

  constructor(private readonly options: PollerOptions) {
    this.streamArn = `arn:aws:kinesis:${options.region}:000000000000:stream/${options.streamName}`;
    this.roleArn = `arn:aws:iam::000000000000:role/${options.functionName}`;
  }

  /** Refuses to start (a StateError naming the checkpoint file) when a checkpoint is not a position in the stream. */
  async start(): Promise<void> {
    await checkPositions(this.options.kinesis, this.options.streamName, this.options.checkpoints);
    this.running = true;
    await this.readReadyShards();
  }

  /** Stops after the batches in progress finish and are checkpointed. */
  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.wake) wake();
    await Promise.all(this.loops);
  }

  /** The shards being read, then those waiting for their parents. */
  shards(): ShardStatus[] {
    const waiting = [...this.waiting].map(([shardId, parents]) => ({ shardId, retrying: false, pending: 0, waitingFor: [...parents] }));
    return [...[...this.status.values()].map((s) => ({ ...s })), ...waiting];
  }

  /** True when every shard was read to its tip and everything read was delivered. */
  idle(): boolean {
    return this.shards().every((s) => s.pending === 0 && s.readToTip === true && !s.retrying);
  }

  private async pause(ms: number): Promise<void> {
    if (!this.running) return;
    await new Promise<void>((resolve) => {
      const done = () => { clearTimeout(timer); this.wake.delete(done); resolve(); };
      const timer = setTimeout(done, ms);
      this.wake.add(done);
    });
  }

  /** Starts reading each shard not read yet whose parents, if the stream still lists them, were read to their ends. */
  private async readReadyShards(): Promise<void> {
    const shards = await listShards(this.options.kinesis, this.options.streamName);
    const listed = new Set(shards.map((s) => s.ShardId!));
    const ended = (shardId: string) => this.options.checkpoints.get(shardId) === SHARD_END;
    for (const shard of shards) {
      const shardId = shard.ShardId!;
      if (!this.running || this.status.has(shardId) || ended(shardId)) continue;
      const unread = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => p !== undefined && listed.has(p) && !ended(p));
      if (unread.length > 0) {
        this.waiting.set(shardId, unread);
        continue;
      }
      this.waiting.delete(shardId);
      this.status.set(shardId, { shardId, checkpoint: this.options.checkpoints.get(shardId), retrying: false, pending: 0, pollFailures: 0, failedInvocations: 0, deadLetteredInARow: 0, lastProgressAt: Date.now() });
      this.loops.push(this.pollShard(shardId));
    }
  }

  /** A closed shard was delivered to its end: its children (once their other parent ended too) are read next. */
  private async shardEnded(shardId: string): Promise<void> {
    this.checkpoint(shardId, SHARD_END);
    while (this.running) {
      try {
        await this.readReadyShards();
        break;
      } catch (err) {
        this.options.onError?.(`listing the shards after ${shardId} ended failed; retrying`, err);
        await this.pause(1000);
      }
    }
    this.status.delete(shardId);
  }

  private async iterator(shardId: string, after: string | undefined): Promise<string> {
    const out = await this.options.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.options.streamName,
        ShardId: shardId,
        ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return out.ShardIterator!;
  }

  /**
   * Reads a shard in order. While one batch is being delivered the next is already read, so the
   * handler and the stream's reads overlap; batches are still delivered one at a time, in order.
   */
  private async pollShard(shardId: string): Promise<void> {
    const { mapping, kinesis } = this.options;
    const idlePollMs = this.options.idlePollMs ?? 100;
    const windowMs = Math.max(mapping.maxBatchingWindowSeconds * 1000, this.options.minBatchingWindowMs ?? 0);
    const state = this.status.get(shardId)!;
    const source = { shardId, streamArn: this.streamArn, region: this.options.region, invokeIdentityArn: this.roleArn };
    let lastRead = state.checkpoint;
    let iterator: string | undefined;
    let buffer: _Record[] = [];
    let bufferSince = 0;
    let delivering: Promise<void> | undefined;
    let inDelivery = 0;
    /** The shard was closed by a reshard and read to its end: what is buffered is all that is left. */
    let readToEnd = false;
    const updatePending = () => (state.pending = buffer.length + inDelivery);
    let deliveryFailed: DeliveryFailed | undefined;
    while (this.running) {
      try {
        if (deliveryFailed) throw deliveryFailed;
        let received = 0;
        let caughtUp = false;
        if (!readToEnd && buffer.length < mapping.batchSize) {
          iterator ??= await this.iterator(shardId, lastRead);
          const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: mapping.batchSize - buffer.length }));
          iterator = out.NextShardIterator;
          readToEnd = iterator === undefined;
          state.millisBehindLatest = out.MillisBehindLatest;
          state.pollFailures = 0;
          caughtUp = out.MillisBehindLatest === 0;
          const records = out.Records ?? [];
          received = records.length;
          state.readToTip = caughtUp && received === 0;
          if (received > 0) {
            if (buffer.length === 0) bufferSince = Date.now();
            buffer.push(...records);
            lastRead = records[received - 1].SequenceNumber;
            updatePending();
          }
          if (caughtUp && received === 0 && state.pending === 0) state.lastProgressAt = Date.now();
        }
        const windowClosed = readToEnd || Date.now() - bufferSince >= windowMs;
        if (buffer.length >= mapping.batchSize || (buffer.length > 0 && windowClosed)) {
          await delivering;
          if (!this.running) break;
          if (deliveryFailed) continue;
          const batch = buffer.splice(0, mapping.batchSize);
          if (buffer.length > 0) bufferSince = Date.now();
          inDelivery = batch.length;
          updatePending();
          // A delivery fails when its checkpoint cannot be written (a full disk, a damaged store): this
          // loop sees it at its next turn and starts over from the last checkpoint written.
          delivering = this.deliver(shardId, batch.map((r) => toLambdaRecord(r, source)))
            .then(
              () => undefined,
              (err: unknown) => void (deliveryFailed = new DeliveryFailed(err)),
            )
            .finally(() => {
              inDelivery = 0;
              updatePending();
            });
        } else if (readToEnd) {
          break;
        } else if (received === 0 || caughtUp) {
          await this.pause(buffer.length > 0 ? Math.min(idlePollMs, Math.max(1, bufferSince + windowMs - Date.now())) : idlePollMs);
        }
      } catch (err) {
        if (!this.running) break;
        const failure = err instanceof DeliveryFailed ? err.cause : err;
        if (err instanceof DeliveryFailed) state.checkpointFailures = (state.checkpointFailures ?? 0) + 1;
        else state.pollFailures = (state.pollFailures ?? 0) + 1;
        state.lastError = (failure as Error)?.message ?? String(failure);
        this.options.onError?.(`${err instanceof DeliveryFailed ? 'checkpointing' : 'reading'} ${shardId} failed; retrying from its checkpoint`, failure);
        // Start over from the checkpoint, once the batch in delivery settled (it may have failed too,
        // e.g. its checkpoint could not be written on a full disk): anything not checkpointed is read again.
        await delivering;
        deliveryFailed = undefined;
        iterator = undefined;
        readToEnd = false;
        buffer = [];
        updatePending();
        lastRead = state.checkpoint;
        await this.pause(1000);
      }
    }
    await delivering;
    if (deliveryFailed) this.options.onError?.(`checkpointing ${shardId} failed`, deliveryFailed.cause);
    // A stop may have cut the last delivery short; then the next poller reads the end again.
    if (readToEnd && this.running) await this.shardEnded(shardId);
  }

  /** Delivers one batch until it is done: processed, or dead-lettered after its retries. */
  private async deliver(shardId: string, batch: KinesisStreamRecord[]): Promise<void> {
    const { mapping } = this.options;
    const state = this.status.get(shardId)!;
    // Work list of (records, retries so far); bisection pushes halves with a fresh retry count.
    const work: { records: KinesisStreamRecord[]; retries: number }[] = [{ records: batch, retries: 0 }];
    while (work.length > 0) {
      const { records, retries } = work[0];
      const outcome = await this.invoke(records);
      state.lastInvokeAt = Date.now();
      if (outcome.ok && outcome.failedFrom === undefined) {
        this.checkpoint(shardId, records[records.length - 1].kinesis.sequenceNumber);
        work.shift();
        state.retrying = false;
        state.failedInvocations = 0;
        state.deadLetteredInARow = 0;
        continue;
      }
      state.failedInvocations = (state.failedInvocations ?? 0) + 1;
      state.lastError = outcome.error;
      if (outcome.ok) {
        // Partial batch response: everything before the lowest failed record is done.
        const from = records.findIndex((r) => r.kinesis.sequenceNumber === outcome.failedFrom);
        if (from > 0) this.checkpoint(shardId, records[from - 1].kinesis.sequenceNumber);
        work[0] = { records: from >= 0 ? records.slice(from) : records, retries };
      }
      if (!this.running) return; // stop: the checkpoint says where to resume
      state.retrying = true;
      const current = work[0];
      if (current.retries >= mapping.retryAttempts) {
        this.deadLetter(shardId, current.records, current.retries + 1, outcome.error);
        state.deadLetteredInARow = (state.deadLetteredInARow ?? 0) + 1;
        this.checkpoint(shardId, current.records[current.records.length - 1].kinesis.sequenceNumber);
        work.shift();
        state.retrying = false;
        continue;
      }
      if (!outcome.ok && mapping.bisectBatchOnError && current.records.length > 1) {
        const half = Math.ceil(current.records.length / 2);
        work.splice(0, 1, { records: current.records.slice(0, half), retries: 0 }, { records: current.records.slice(half), retries: 0 });
      } else {
        current.retries++;
      }
      await this.pause(Math.min(5000, (this.options.retryBaseDelayMs ?? 100) * 2 ** Math.min(current.retries, 6)));
    }
  }

  private async invoke(records: KinesisStreamRecord[]): Promise<{ ok: boolean; failedFrom?: string; error?: string }> {
    this.invocations++;
    const context = {
      functionName: this.options.functionName,
      awsRequestId: `${Date.now()}-${this.invocations}`,
      getRemainingTimeInMillis: () => 60_000,
    } as unknown as Context;
    this.recordsDelivered += records.length;
    const started = performance.now();
    try {
      const response = await this.options.handler({ Records: records }, context);
      const failures = this.options.mapping.reportBatchItemFailures ? response?.batchItemFailures ?? [] : [];
      if (failures.length === 0) return { ok: true };
      const lowest = failures
        .map((f) => f.itemIdentifier)
        .reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b));
      return { ok: true, failedFrom: lowest, error: `${failures.length} batch item failures` };
    } catch (err) {
      this.options.onError?.(`${this.options.functionName} failed on a batch of ${records.length}`, err);
      return { ok: false, error: (err as Error)?.message ?? String(err) };
    } finally {
      this.handlerMs += performance.now() - started;
    }
  }

  private checkpoint(shardId: string, sequenceNumber: string): void {
    this.options.checkpoints.set(shardId, sequenceNumber);
    const state = this.status.get(shardId)!;
    state.checkpoint = sequenceNumber;
    state.lastProgressAt = Date.now();
    state.checkpointFailures = 0;
  }

  private deadLetter(shardId: string, records: KinesisStreamRecord[], invokeCount: number, error: string | undefined): void {
    const first = records[0];
    const last = records[records.length - 1];
    const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
    this.options.deadLetters.put({
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: `${Date.now()}`,
        functionArn: `arn:aws:lambda:${this.options.region}:000000000000:function:${this.options.functionName}`,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: invokeCount,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: error ?? 'Unhandled' },
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: first.kinesis.sequenceNumber,
        endSequenceNumber: last.kinesis.sequenceNumber,
        approximateArrivalOfFirstRecord: iso(first.kinesis.approximateArrivalTimestamp),
        approximateArrivalOfLastRecord: iso(last.kinesis.approximateArrivalTimestamp),
        batchSize: records.length,
        streamArn: this.streamArn,
      },
      records,
    });
    this.deadLettered += records.length;
  }
}
