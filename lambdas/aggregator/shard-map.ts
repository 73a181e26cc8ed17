/**
 * Which shards of the events stream a replay of one shard's dead letter must hold (replay.ts):
 * the letter's shard, and, when the stream was resharded since, every open shard whose hash key
 * range overlaps it: their aggregators now take the events of the letter's partition keys.
 */
import { createHash } from 'node:crypto';
import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { isOpen, listShards } from '../commons/shards';

export interface HeldShard {
  shardId: string;
  /** The shard's hash key range, when known. */
  start?: bigint;
  end?: bigint;
}

/** Kinesis's hash key of a partition key: its MD5 digest as a 128-bit integer. */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** From the stream's shards: `shardId` and the open shards overlapping its hash key range, in a fixed order. */
export function shardsOverlapping(shards: readonly Shard[], shardId: string): HeldShard[] {
  const rangeOf = (s: Shard): HeldShard => ({ shardId: s.ShardId!, start: BigInt(s.HashKeyRange!.StartingHashKey!), end: BigInt(s.HashKeyRange!.EndingHashKey!) });
  const own = shards.find((s) => s.ShardId === shardId);
  if (!own?.HashKeyRange) return [{ shardId }];
  const range = rangeOf(own);
  const open = shards
    .filter((s) => s.ShardId !== shardId && isOpen(s) && s.HashKeyRange)
    .map(rangeOf)
    .filter((s) => s.start! <= range.end! && range.start! <= s.end!);
  return [range, ...open].sort((a, b) => (a.shardId < b.shardId ? -1 : 1));
}

/** The held shard whose hash key range takes `partitionKey` now: an open one if any, else the letter's. */
export function shardTaking(partitionKey: string, held: readonly HeldShard[], letterShard: string): string {
  const key = hashKeyOf(partitionKey);
  const open = held.filter((s) => s.shardId !== letterShard && s.start !== undefined && s.start <= key && key <= s.end!);
  return open[0]?.shardId ?? letterShard;
}

export async function shardsToHold(kinesis: Pick<KinesisClient, 'send'>, streamName: string, shardId: string): Promise<HeldShard[]> {
  return shardsOverlapping(await listShards(kinesis, streamName), shardId);
}
