/** Unit tests for lambdas/aggregator/sequence.ts: sequence numbers as fences, shard ids. */
import { fence, shardOf } from '../../lambdas/commons/sequence';

// Real-looking Kinesis sequence numbers (56 digits), and shorter ones such as kinesalite's.
const seqs = [
  '49590338271490256608559692538361571095921575989136588898',
  '49590338271490256608559692540925702759324208523137515618',
  '49651505085739424282347553331060055551063655306335305730',
  '4959033827149025660855969253836157109592157598913658889', // 55 digits: numerically smaller
  '49545115243490985018280067714973144582180062593244200961',
  '100',
  '99',
  '0',
  '1',
];

describe('fence', () => {
  it('pads to a fixed width', () => {
    const widths = new Set(seqs.map((s) => fence(s).length));
    expect(widths.size).toBe(1);
    expect(fence('99')).toMatch(/^0+99$/);
  });

  it('makes string order equal numeric order', () => {
    const byString = [...seqs].sort((a, b) => (fence(a) < fence(b) ? -1 : fence(a) > fence(b) ? 1 : 0));
    const byNumber = [...seqs].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    expect(byString).toEqual(byNumber);
    // Unpadded, the 55-digit number would sort after a 56-digit one that is larger.
    expect(seqs[3] > seqs[4]).toBe(true);
    expect(fence(seqs[3]) < fence(seqs[4])).toBe(true);
  });

  it('keeps order for every pair, including adjacent numbers', () => {
    const base = BigInt(seqs[0]);
    const all = [...seqs, (base + 1n).toString(), (base - 1n).toString()];
    for (const a of all) {
      for (const b of all) {
        expect(fence(a) < fence(b)).toBe(BigInt(a) < BigInt(b));
        expect(fence(a) === fence(b)).toBe(BigInt(a) === BigInt(b));
      }
    }
  });

  it('preserves the number', () => {
    for (const s of seqs) expect(BigInt(fence(s))).toBe(BigInt(s));
  });

  it.each(['', 'abc', '12a3', '-5', '1.5', ' 12', '1e10', '0x1f', '9'.repeat(65)])('rejects %p', (s) => {
    expect(() => fence(s)).toThrow(/sequence number/);
  });
});

describe('shardOf', () => {
  it('takes the shard id from a Lambda eventID', () => {
    expect(shardOf(`shardId-000000000000:${seqs[0]}`)).toBe('shardId-000000000000');
    expect(shardOf(`shardId-000000000007:${seqs[1]}`)).toBe('shardId-000000000007');
  });

  it.each(['', 'shardId-000000000000', `:${seqs[0]}`])('rejects %p', (id) => {
    expect(() => shardOf(id)).toThrow(/eventID/);
  });
});
