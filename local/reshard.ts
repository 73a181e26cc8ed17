/**
 * Reshards a stream to a number of shards of equal hash key ranges, as UpdateShardCount does with
 * uniform scaling, through the SplitShard and MergeShards calls that kinesalite implements: first
 * every missing boundary is split off, then the shards between two boundaries are merged. The
 * closed parents keep their records; consumers read them to their ends before the children.
 */
import { MergeShardsCommand, SplitShardCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { isOpen, listShards } from '../lambdas/commons/shards';
import { streamStatus } from './provision';
import { waitFor } from './wait';

const HASH_KEYS = 2n ** 128n;

export interface ShardRange {
  shardId: string;
  start: bigint;
  end: bigint;
}

export type ReshardStep =
  | { split: string; at: bigint }
  | { merge: string; adjacent: string };

/** Where the shards of a stream of `count` equal shards start, the first (0) left out; as CreateStream lays them out. */
export function uniformBoundaries(count: number): bigint[] {
  const width = HASH_KEYS / BigInt(count);
  return Array.from({ length: count - 1 }, (_, i) => width * BigInt(i + 1));
}

/** The next split or merge on the way from `open` (the open shards) to `count` equal shards; undefined once there. */
export function nextReshardStep(open: readonly ShardRange[], count: number): ReshardStep | undefined {
  const shards = [...open].sort((a, b) => (a.start < b.start ? -1 : 1));
  const boundaries = uniformBoundaries(count);
  const starts = new Set(shards.map((s) => s.start));
  for (const at of boundaries) {
    if (starts.has(at)) continue;
    const shard = shards.find((s) => s.start < at && at <= s.end)!;
    // Kinesis splits only strictly inside a shard: start + 1 < at < end.
    if (at <= shard.start + 1n || at >= shard.end) throw new Error(`cannot split ${shard.shardId} at hash key ${at}: too close to its edge`);
    return { split: shard.shardId, at };
  }
  const wanted = new Set(boundaries);
  for (let i = 1; i < shards.length; i++) {
    if (!wanted.has(shards[i].start)) return { merge: shards[i - 1].shardId, adjacent: shards[i].shardId };
  }
  return undefined;
}

export function openRanges(shards: readonly Shard[]): ShardRange[] {
  return shards.filter(isOpen).map((s) => ({ shardId: s.ShardId!, start: BigInt(s.HashKeyRange!.StartingHashKey!), end: BigInt(s.HashKeyRange!.EndingHashKey!) }));
}

export interface ReshardOutcome {
  /** Open shards before. */
  from: number;
  /** Splits and merges made; both 0 when the stream already had `count` equal shards. */
  splits: number;
  merges: number;
}

/** Splits and merges `streamName` until it has `count` equal open shards, reporting each step. */
export async function reshardUniform(kinesis: KinesisClient, streamName: string, count: number, onStep: (line: string) => void = () => {}): Promise<ReshardOutcome> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`a stream needs a whole number of shards, at least 1 (got ${count})`);
  let from: number | undefined;
  let splits = 0;
  let merges = 0;
  for (;;) {
    const open = openRanges(await listShards(kinesis, streamName));
    from ??= open.length;
    const step = nextReshardStep(open, count);
    if (!step) return { from, splits, merges };
    if ('split' in step) {
      splits++;
      onStep(`splitting ${step.split} at hash key ${step.at}`);
      await kinesis.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: step.split, NewStartingHashKey: step.at.toString() }));
    } else {
      merges++;
      onStep(`merging ${step.merge} with ${step.adjacent}`);
      await kinesis.send(new MergeShardsCommand({ StreamName: streamName, ShardToMerge: step.merge, AdjacentShardToMerge: step.adjacent }));
    }
    await waitFor(`stream ${streamName} to become active after resharding`, async () => (await streamStatus(kinesis, streamName)) === 'ACTIVE', 30_000);
  }
}
