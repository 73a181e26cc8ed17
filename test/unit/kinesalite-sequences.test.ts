/**
 * Unit tests for local/kinesalite-sequences.ts: the BigInt sequence and hash-key functions give
 * kinesalite's own answers (strings, parsed objects, errors, comparisons) over many random inputs.
 */
import { useBigIntSequences, type KinesaliteSequenceFunctions, type SequenceObject } from '../../local/kinesalite-sequences';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesaliteDb = require('kinesalite/db') as KinesaliteSequenceFunctions;
const original: KinesaliteSequenceFunctions = { ...kinesaliteDb };
const fast: KinesaliteSequenceFunctions = { ...kinesaliteDb };
useBigIntSequences(fast);

let state = 42;
const random = () => {
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return state / 2 ** 31;
};
const int = (max: number) => Math.floor(random() * max);
const hex = (digits: number) => Array.from({ length: digits }, () => int(16).toString(16)).join('');

function outcome<T>(f: () => T): { value?: T; error?: string } {
  try {
    return { value: f() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function randomSequenceObject(): SequenceObject {
  const version = [undefined, null, 2, 1, 0][int(5)];
  return {
    shardCreateTime: 1_400_000_000_000 + int(2_000_000_000) * 1000 + int(1000),
    seqIx: [undefined, int(10), String(int(2 ** 31)), BigInt('0x7' + hex(15)).toString(), 0][int(5)],
    seqTime: [undefined, 1_700_000_000_000 + int(1e9), 0][int(3)],
    shardIx: [undefined, int(4), int(5000), 0][int(4)],
    byte1: [undefined, hex(2)][int(2)],
    seqRand: [undefined, hex(14), hex(16)][int(3)],
    version,
  };
}

describe('kinesalite sequences on BigInt', () => {
  it('stringifies, parses and increments as kinesalite does', () => {
    for (let i = 0; i < 3000; i++) {
      const obj = randomSequenceObject();
      const s = outcome(() => original.stringifySequence(obj));
      expect(outcome(() => fast.stringifySequence(obj))).toEqual(s);
      if (s.value === undefined) continue;
      expect(outcome(() => fast.parseSequence(s.value!))).toEqual(outcome(() => original.parseSequence(s.value!)));
      expect(outcome(() => fast.incrementSequence(s.value!))).toEqual(outcome(() => original.incrementSequence(s.value!)));
      const seqTime = 1_700_000_000_000 + int(1e9);
      expect(outcome(() => fast.incrementSequence(obj, seqTime))).toEqual(outcome(() => original.incrementSequence(obj, seqTime)));
    }
  });

  it('parses arbitrary numbers, and rejects bad ones with kinesalite’s errors', () => {
    const inputs = ['0', '1', '12345678901234567890', BigInt('0x' + hex(40)).toString(), BigInt('0x2' + hex(45)).toString(), '1e5', '-5', 'abc', '', ' 7'];
    for (let i = 0; i < 500; i++) inputs.push(BigInt('0x' + hex(1 + int(48))).toString());
    for (const seq of inputs) expect(outcome(() => fast.parseSequence(seq))).toEqual(outcome(() => original.parseSequence(seq)));
  });

  it('compares partition-key hashes with shard ranges as kinesalite does', () => {
    const bounds = ['0', '85070591730234615865843651857942052863', '170141183460469231731687303715884105727', '340282366920938463463374607431768211455'];
    for (let i = 0; i < 1000; i++) {
      const key = `tx-${int(1e9)}`;
      const [a, b] = [original.partitionKeyToHashKey(key), fast.partitionKeyToHashKey(key)];
      for (const bound of [...bounds, 0]) expect(Math.sign(b.comparedTo(bound))).toBe(Math.sign(a.comparedTo(bound)));
    }
  });
});
