/** The way from a stream's open shards to N equal shards by splits and merges (local/reshard.ts). */
import { nextReshardStep, uniformBoundaries, type ShardRange } from '../../local/reshard';

const HASH_KEYS = 2n ** 128n;
let ids = 0;
const newShard = (start: bigint, end: bigint): ShardRange => ({ shardId: `shardId-${String(ids++).padStart(12, '0')}`, start, end });

/** Open shards as CreateStream lays them out for `count` shards. */
function created(count: number): ShardRange[] {
  const starts = [0n, ...uniformBoundaries(count)];
  return starts.map((start, i) => newShard(start, (starts[i + 1] ?? HASH_KEYS) - 1n));
}

/** Applies steps as Kinesis does, checking each is one it accepts; returns the final layout and the steps taken. */
function reshard(open: ShardRange[], count: number): { open: ShardRange[]; splits: number; merges: number } {
  let splits = 0;
  let merges = 0;
  for (let step = nextReshardStep(open, count); step; step = nextReshardStep(open, count)) {
    if ('split' in step) {
      const parent = open.find((s) => s.shardId === step.split)!;
      expect(step.at > parent.start + 1n && step.at < parent.end).toBe(true);
      open = [...open.filter((s) => s !== parent), newShard(parent.start, step.at - 1n), newShard(step.at, parent.end)];
      splits++;
    } else {
      const a = open.find((s) => s.shardId === step.merge)!;
      const b = open.find((s) => s.shardId === step.adjacent)!;
      expect(a.end + 1n).toBe(b.start);
      open = [...open.filter((s) => s !== a && s !== b), newShard(a.start, b.end)];
      merges++;
    }
    expect(splits + merges).toBeLessThan(100);
  }
  return { open: [...open].sort((x, y) => (x.start < y.start ? -1 : 1)), splits, merges };
}

const layout = (open: ShardRange[]) => open.map((s) => [s.start, s.end]);

describe('uniformBoundaries', () => {
  it('divides the 128-bit hash key space in equal parts, as CreateStream does', () => {
    expect(uniformBoundaries(1)).toEqual([]);
    expect(uniformBoundaries(2)).toEqual([2n ** 127n]);
    expect(uniformBoundaries(3)).toEqual([HASH_KEYS / 3n, (HASH_KEYS / 3n) * 2n]);
  });
});

describe('nextReshardStep', () => {
  it.each([
    [1, 4, 3, 0],
    [4, 1, 0, 3],
    [2, 3, 2, 1],
    [3, 2, 1, 2],
    [4, 8, 4, 0],
    [8, 4, 0, 4],
  ])('goes from %i equal shards to %i with %i splits and %i merges', (from, to, splits, merges) => {
    const out = reshard(created(from), to);
    expect(layout(out.open)).toEqual(layout(created(to)));
    expect([out.splits, out.merges]).toEqual([splits, merges]);
  });

  it('takes no step when the shards are already equal and as many as wanted', () => {
    expect(nextReshardStep(created(4), 4)).toBeUndefined();
  });

  it('evens out a stream that was split by hand, keeping its shard count', () => {
    const [first, second] = created(2);
    const uneven = [newShard(first.start, 1000n), newShard(1001n, first.end), second];
    const out = reshard(uneven, 3);
    expect(layout(out.open)).toEqual(layout(created(3)));
  });

  it('refuses a split that Kinesis would refuse, naming the shard', () => {
    const tiny = [newShard(0n, 2n ** 127n), newShard(2n ** 127n + 1n, HASH_KEYS - 1n)];
    expect(() => nextReshardStep(tiny, 2)).toThrow(/cannot split shardId-\d+ at hash key/);
  });
});
