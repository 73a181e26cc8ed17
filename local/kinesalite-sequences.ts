/**
 * kinesalite computes every record's sequence number and hash key with bignumber.js: in a profile
 * of GetRecords and PutRecords that arithmetic was over half of the emulator thread's time. This
 * module puts native BigInt versions of the same functions in place on kinesalite's `db` module
 * (its actions call them through that module object), producing the same strings. Input the fast
 * path does not recognise (anything but a plain decimal string or integer) goes to kinesalite's
 * own function, so its errors and edge cases are unchanged.
 */
import { createHash } from 'node:crypto';

/** The functions of `kinesalite/db` that this module replaces. */
export interface KinesaliteSequenceFunctions {
  parseSequence(seq: string): SequenceObject;
  stringifySequence(obj: SequenceObject): string;
  incrementSequence(seqObj: SequenceObject | string, seqTime?: number | null): string;
  partitionKeyToHashKey(partitionKey: string): { comparedTo(other: unknown): number };
}

export interface SequenceObject {
  shardCreateTime: number;
  seqIx?: string | number;
  seqTime?: number;
  seqRand?: string;
  byte1?: string;
  shardIx?: number;
  version?: number | null;
}

const POW_2_124 = 2n ** 124n;
const POW_2_124_NEXT = 2n ** 125n * 16n;
const POW_2_185 = 2n ** 185n;
const POW_2_185_NEXT = (2n ** 185n * 3n) / 2n;
const DECIMAL = /^\d+$/;
const HEX = /^[0-9a-f]*$/;
const MAX_SHARD_CREATE_SECS = 16025175000;

const pad = (s: string, width: number) => s.padStart(width, '0').slice(-width);
const hexOfSecs = (ms: number) => pad(Math.floor(ms / 1000).toString(16), 9);
const shardIxToHex = (shardIx: number | undefined) => ('0000000' + (shardIx || 0).toString(16)).slice(-8);
const decimalOfHex = (hex: string) => BigInt('0x' + hex).toString();

function parseFast(seq: string): SequenceObject {
  let seqNum = BigInt(seq);
  if (seqNum < POW_2_124) seqNum += POW_2_124;
  const hex = seqNum.toString(16);
  const version = seqNum < POW_2_124_NEXT ? 0 : seqNum > POW_2_185 && seqNum < POW_2_185_NEXT ? parseInt(hex.slice(hex.length - 1), 16) : null;
  if (version == 2) {
    const seqIxHex = hex.slice(11, 27);
    let shardIxHex = hex.slice(38, 46);
    if (parseInt(seqIxHex[0], 16) > 7) throw new Error('Sequence index too high');
    if (parseInt(shardIxHex[0], 16) > 7) shardIxHex = '-' + shardIxHex;
    const shardCreateSecs = parseInt(hex.slice(1, 10), 16);
    if (shardCreateSecs >= MAX_SHARD_CREATE_SECS) throw new Error('Date too large: ' + shardCreateSecs);
    return {
      shardCreateTime: shardCreateSecs * 1000,
      seqIx: decimalOfHex(seqIxHex),
      byte1: hex.slice(27, 29),
      seqTime: parseInt(hex.slice(29, 38), 16) * 1000,
      shardIx: parseInt(shardIxHex, 16),
      version,
    };
  }
  if (version == 1) {
    return {
      shardCreateTime: parseInt(hex.slice(1, 10), 16) * 1000,
      byte1: hex.slice(11, 13),
      seqTime: parseInt(hex.slice(13, 22), 16) * 1000,
      seqRand: hex.slice(22, 36),
      seqIx: parseInt(hex.slice(36, 38), 16),
      shardIx: parseInt(hex.slice(38, 46), 16),
      version,
    };
  }
  if (version === 0) {
    const shardCreateSecs = parseInt(hex.slice(1, 10), 16);
    if (shardCreateSecs >= MAX_SHARD_CREATE_SECS) throw new Error('Date too large: ' + shardCreateSecs);
    return { shardCreateTime: shardCreateSecs * 1000, byte1: hex.slice(10, 12), seqRand: hex.slice(12, 28), shardIx: parseInt(hex.slice(28, 32), 16), version };
  }
  throw new Error('Unknown version: ' + version);
}

function stringifyFast(obj: SequenceObject): string {
  const seqTime = obj.seqTime || obj.shardCreateTime;
  if (obj.version == null || obj.version == 2) {
    const seqIx = BigInt(obj.seqIx || 0).toString(16);
    return decimalOfHex(
      ['2', hexOfSecs(obj.shardCreateTime), (obj.shardIx || 0).toString(16).slice(-1), pad(seqIx, 16), obj.byte1 || '00', hexOfSecs(seqTime), shardIxToHex(obj.shardIx), '2'].join(''),
    );
  }
  if (obj.version == 1) {
    return decimalOfHex(
      ['2', hexOfSecs(obj.shardCreateTime), (obj.shardIx || 0).toString(16).slice(-1), obj.byte1 || '00', hexOfSecs(seqTime), obj.seqRand || '00000000000000', ('0' + (obj.seqIx || 0).toString(16)).slice(-2), shardIxToHex(obj.shardIx), '1'].join(''),
    );
  }
  return decimalOfHex(['1', hexOfSecs(obj.shardCreateTime), obj.byte1 || '00', obj.seqRand || '0000000000000000', shardIxToHex(obj.shardIx).slice(-4)].join(''));
}

const isNonNegativeInteger = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && DECIMAL.test(v));
const fastStringifiable = (obj: SequenceObject) =>
  (obj.version == null || obj.version === 0 || obj.version === 1 || obj.version === 2) &&
  (obj.seqIx === undefined || isNonNegativeInteger(obj.seqIx)) &&
  Number.isFinite(obj.shardCreateTime) &&
  obj.shardCreateTime >= 0 &&
  (obj.seqTime === undefined || Number.isFinite(obj.seqTime)) &&
  (obj.shardIx === undefined || (Number.isSafeInteger(obj.shardIx) && obj.shardIx >= 0)) &&
  [obj.byte1, obj.seqRand].every((piece) => piece === undefined || HEX.test(piece));

/** A partition key's 128-bit hash, compared as kinesalite's actions compare a BigNumber. */
class HashKey {
  private static readonly parsed = new Map<string, bigint>();

  constructor(readonly value: bigint) {}

  comparedTo(other: unknown): number {
    const o = HashKey.toBigInt(other);
    return this.value < o ? -1 : this.value > o ? 1 : 0;
  }

  private static toBigInt(other: unknown): bigint {
    if (other instanceof HashKey) return other.value;
    if (typeof other === 'number') return BigInt(other);
    const text = String(other);
    let value = HashKey.parsed.get(text);
    if (value === undefined) {
      value = BigInt(text);
      if (HashKey.parsed.size < 10_000) HashKey.parsed.set(text, value);
    }
    return value;
  }
}

/** Replaces the sequence and hash-key functions of kinesalite's `db` module in place. */
export function useBigIntSequences(db: KinesaliteSequenceFunctions): void {
  const original = { parseSequence: db.parseSequence, stringifySequence: db.stringifySequence };
  const parseSequence = (seq: string) => (typeof seq === 'string' && DECIMAL.test(seq) ? parseFast(seq) : original.parseSequence(seq));
  const stringifySequence = (obj: SequenceObject) => (fastStringifiable(obj) ? stringifyFast(obj) : original.stringifySequence(obj));
  db.parseSequence = parseSequence;
  db.stringifySequence = stringifySequence;
  db.incrementSequence = (seqObj, seqTime) => {
    const parsed = typeof seqObj == 'string' ? parseSequence(seqObj) : seqObj;
    return stringifySequence({
      shardCreateTime: parsed.shardCreateTime,
      seqIx: parsed.seqIx,
      seqTime: seqTime || (parsed.seqTime as number) + 1000,
      shardIx: parsed.shardIx,
    });
  };
  db.partitionKeyToHashKey = (partitionKey) => new HashKey(BigInt('0x' + createHash('md5').update(partitionKey, 'utf8').digest('hex')));
}
