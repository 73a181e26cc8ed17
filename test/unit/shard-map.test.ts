/** Which shards a replay holds, and which of them takes an auction's events (lambdas/aggregator/shard-map.ts). */
import type { Shard } from '@aws-sdk/client-kinesis';
import { hashKeyOf, shardTaking, shardsOverlapping } from '../../lambdas/aggregator/shard-map';

const MAX = 2n ** 128n - 1n;
const MID = 2n ** 127n;
const shard = (id: string, start: bigint, end: bigint, closed = false): Shard => ({
  ShardId: id,
  HashKeyRange: { StartingHashKey: String(start), EndingHashKey: String(end) },
  SequenceNumberRange: { StartingSequenceNumber: '1', ...(closed && { EndingSequenceNumber: '2' }) },
});

describe('hashKeyOf', () => {
  it("is the partition key's MD5 digest as an integer, as Kinesis computes it", () => {
    expect(hashKeyOf('')).toBe(BigInt('0xd41d8cd98f00b204e9800998ecf8427e'));
  });
});

describe('shardsOverlapping', () => {
  it('is the shard alone on a stream never resharded', () => {
    const shards = [shard('shardId-000000000000', 0n, MID - 1n), shard('shardId-000000000001', MID, MAX)];
    expect(shardsOverlapping(shards, 'shardId-000000000001').map((s) => s.shardId)).toEqual(['shardId-000000000001']);
  });

  it("adds the open shards that took over a closed shard's hash keys, and no others", () => {
    const shards = [
      shard('shardId-000000000000', 0n, MID - 1n, true), // split into 2 and 3
      shard('shardId-000000000001', MID, MAX),
      shard('shardId-000000000002', 0n, MID / 2n - 1n),
      shard('shardId-000000000003', MID / 2n, MID - 1n),
    ];
    expect(shardsOverlapping(shards, 'shardId-000000000000').map((s) => s.shardId)).toEqual(['shardId-000000000000', 'shardId-000000000002', 'shardId-000000000003']);
  });

  it('is the shard alone when the stream no longer lists it', () => {
    expect(shardsOverlapping([shard('shardId-000000000001', 0n, MAX)], 'shardId-000000000000')).toEqual([{ shardId: 'shardId-000000000000' }]);
  });
});

describe('shardTaking', () => {
  const parent = 'shardId-000000000000';

  it("is the open child whose range holds the key's hash, else the letter's shard", () => {
    const held = shardsOverlapping([shard(parent, 0n, MAX, true), shard('shardId-000000000001', 0n, MID - 1n), shard('shardId-000000000002', MID, MAX)], parent);
    for (const key of ['a', 'b', 'c', 'tx-1', 'tx-2']) {
      expect(shardTaking(key, held, parent)).toBe(hashKeyOf(key) < MID ? 'shardId-000000000001' : 'shardId-000000000002');
    }
    expect(shardTaking('a', [{ shardId: parent, start: 0n, end: MAX }], parent)).toBe(parent);
  });
});
