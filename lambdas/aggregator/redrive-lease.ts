/**
 * A redrive's hold on a shard (`sdp dlq redrive`, replay.ts), kept on the shard's journal item.
 *
 * The live aggregator writes join states without a condition, from states it read before it began
 * (journal.ts). A replay that rewrote one of those states in between would see its write undone.
 * So a replay takes the shard before it reads the states it rewrites, and lets go after writing
 * them: taking it increments the shard's redrive epoch, so no batch begins while it is held, and a
 * batch that read its states before it was taken reads them again. It then waits until the batch
 * writing when it was taken (if any) has finished. A batch that waited for a redrive to let go
 * begins before the shard is taken again, so reports keep moving while many letters are
 * replayed. The hold is renewed while the replay runs and lapses `holdMs` after the last renewal,
 * so a replay that dies stops the shard no longer than that; a replay whose hold lapsed must not
 * trust what it wrote meanwhile (`held`).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unlessConditionFails } from '../commons/dynamo-conditions';
import { IN_FLIGHT_MS, updateJournalItem, WAITING_FRESH_MS, type JournalItem } from './journal';
import { shardTaking, type HeldShard } from './shard-map';

const POLL_MS = 100;
/** Allowance for the clocks of the redrive and of the aggregator's environments. */
const CLOCK_MARGIN_MS = 5_000;

/** The shard could not be taken before the deadline: nothing was written; the redrive may simply be run again. */
export class ShardBusyError extends Error {}

export class RedriveLease {
  private readonly holder = randomUUID();
  private until = 0;
  private renewal: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly shardId: string,
    private readonly holdMs = 10_000,
  ) {}

  /**
   * Takes the shard (waiting until `deadline`, epoch ms), then waits until no batch is writing on
   * it, saying once through `onWait` what it waits for, if it has to. Resolves with the last
   * sequence number the shard's aggregator had begun by then, if any.
   */
  async take(deadline: number, onWait: (why: string) => void = () => {}): Promise<string | undefined> {
    await this.retryUntil(
      deadline,
      () =>
        this.update(
          'SET lease_holder = :me, lease_until = :until ADD redrive_epoch :one',
          '(attribute_not_exists(lease_until) OR lease_until < :now OR lease_holder = :me) AND (attribute_not_exists(batch_waiting) OR batch_waiting < :waitingBefore)',
          { ':one': 1, ':waitingBefore': Date.now() - WAITING_FRESH_MS },
        ),
      () => onWait(`waiting for shard ${this.shardId}: another redrive holds it, or a batch is about to run on it`),
    );
    const takenAt = Date.now();
    this.renewal = setInterval(() => void this.update('SET lease_until = :until', 'lease_holder = :me').catch(() => {}), this.holdMs / 4);
    this.renewal.unref();
    // No batch begins once the shard is taken, so the one writing began before: it finishes, or
    // its invocation times out, within IN_FLIGHT_MS of now, however long taking the shard took.
    const quiet = await this.retryUntil(
      Math.max(deadline, takenAt + IN_FLIGHT_MS + CLOCK_MARGIN_MS),
      () => this.update('SET lease_until = :until', 'lease_holder = :me AND (attribute_not_exists(in_flight_until) OR in_flight_until < :now)'),
      () => onWait(`waiting for the batch running on shard ${this.shardId} to finish`),
    );
    return quiet.last;
  }

  /** Whether the hold has not lapsed (with a margin for clocks): what was written under it stands. */
  held(marginMs = CLOCK_MARGIN_MS): boolean {
    return Date.now() < this.until - marginMs;
  }

  /** Lets go of the shard. If this fails, the hold lapses `holdMs` later. */
  async release(): Promise<void> {
    clearInterval(this.renewal);
    await unlessConditionFails(
      this.db.send(
        updateJournalItem(this.table, this.shardId, {
          UpdateExpression: 'REMOVE lease_holder, lease_until',
          ConditionExpression: 'lease_holder = :me',
          ExpressionAttributeValues: { ':me': this.holder },
        }),
      ),
    );
    this.until = 0;
  }

  /**
   * Sets the hold to last `holdMs` from now, along with `expression`, if `condition` holds;
   * resolves with the journal item, or undefined if the condition did not hold.
   */
  private async update(expression: string, condition: string, values: Record<string, unknown> = {}): Promise<JournalItem | undefined> {
    const now = Date.now();
    const out = await unlessConditionFails(
      this.db.send(
        updateJournalItem(this.table, this.shardId, {
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':me': this.holder, ':now': now, ':until': now + this.holdMs, ...values },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!out) return undefined;
    this.until = now + this.holdMs;
    return out.Attributes as JournalItem;
  }

  private async retryUntil(deadline: number, attempt: () => Promise<JournalItem | undefined>, onFirstWait: () => void): Promise<JournalItem> {
    for (let waited = false; ; waited = true) {
      const item = await attempt();
      if (item) return item;
      if (Date.now() >= deadline) {
        throw new ShardBusyError(`shard ${this.shardId} stayed busy (another redrive, or a batch still writing); run the redrive again`);
      }
      if (!waited) onFirstWait();
      await sleep(POLL_MS);
    }
  }
}

/**
 * The holds of every shard a replay of one letter needs (shard-map.ts), taken in a fixed order so
 * that two replays never wait on each other, and let go together.
 */
export class ShardHolds {
  private readonly leases: { shard: HeldShard; lease: RedriveLease }[];

  constructor(
    db: DynamoDBDocumentClient,
    table: string,
    private readonly shards: readonly HeldShard[],
    private readonly letterShard: string,
  ) {
    this.leases = shards.map((shard) => ({ shard, lease: new RedriveLease(db, table, shard.shardId) }));
  }

  /** Takes them all; resolves with each partition key's shard's position when it was taken (see RedriveLease.take). */
  async take(deadline: number, onWait?: (why: string) => void): Promise<(partitionKey: string) => string | undefined> {
    const positions = new Map<string, string | undefined>();
    for (const { shard, lease } of this.leases) positions.set(shard.shardId, await lease.take(deadline, onWait));
    return (partitionKey) => positions.get(shardTaking(partitionKey, this.shards, this.letterShard));
  }

  held(): boolean {
    return this.leases.every(({ lease }) => lease.held());
  }

  /** Lets go of every shard; one that fails lapses by itself. */
  async release(): Promise<void> {
    await Promise.all(this.leases.map(({ lease }) => lease.release().catch(() => {})));
  }
}
