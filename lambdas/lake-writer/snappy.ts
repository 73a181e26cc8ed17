/**
 * Snappy compression (the raw format, as Parquet pages hold it), after the reference
 * implementation's CompressFragment: the input in 64 KiB fragments, each with its own hash table
 * of 4-byte sequences, literals and copies written straight into one output array. hyparquet-
 * writer's compressor makes the same bytes' worth of choices but appends byte by byte through a
 * growing buffer, which made it a tenth of the lake writer's time.
 */

import { Scratch } from './scratch';

const FRAGMENT = 1 << 16;
const MAX_HASH_BITS = 14;
/** Bytes at the end of a fragment that are never searched for a match (reads stay in bounds). */
const INPUT_MARGIN = 15;

const hashTables: Uint16Array[] = [];
const scratch = new Scratch();

function load32(a: Uint8Array, i: number): number {
  return a[i] | (a[i + 1] << 8) | (a[i + 2] << 16) | (a[i + 3] << 24);
}

function varint(out: Uint8Array, o: number, v: number): number {
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[o++] = v;
  return o;
}

function emitLiteral(out: Uint8Array, o: number, input: Uint8Array, from: number, length: number): number {
  const n = length - 1;
  if (n < 60) {
    out[o++] = n << 2;
  } else {
    const bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
    out[o++] = (59 + bytes) << 2;
    for (let i = 0; i < bytes; i++) out[o++] = n >>> (8 * i);
  }
  if (length < 32) {
    for (let i = 0; i < length; i++) out[o + i] = input[from + i];
  } else {
    out.set(input.subarray(from, from + length), o);
  }
  return o + length;
}

function emitCopyUpTo64(out: Uint8Array, o: number, offset: number, length: number): number {
  if (length < 12 && offset < 2048) {
    out[o++] = 1 + ((length - 4) << 2) + ((offset >>> 8) << 5);
    out[o++] = offset & 0xff;
  } else {
    out[o++] = 2 + ((length - 1) << 2);
    out[o++] = offset & 0xff;
    out[o++] = offset >>> 8;
  }
  return o;
}

function emitCopy(out: Uint8Array, o: number, offset: number, length: number): number {
  while (length >= 68) {
    o = emitCopyUpTo64(out, o, offset, 64);
    length -= 64;
  }
  if (length > 64) {
    o = emitCopyUpTo64(out, o, offset, 60);
    length -= 60;
  }
  return emitCopyUpTo64(out, o, offset, length);
}

/** Compresses input[start, end) (at most one fragment) into out at o; returns the new end of out. */
function compressFragment(input: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  const length = end - start;
  let bits = 8;
  while (bits < MAX_HASH_BITS && 1 << bits < length) bits++;
  const table = (hashTables[bits] ??= new Uint16Array(1 << bits));
  table.fill(0);
  const shift = 32 - bits;
  const hash = (v: number) => Math.imul(v, 0x1e35a7bd) >>> shift;

  let nextEmit = start;
  if (length >= INPUT_MARGIN) {
    const ipLimit = end - INPUT_MARGIN;
    let ip = start + 1;
    let nextHash = hash(load32(input, ip));
    for (;;) {
      // Look for a match, skipping faster the longer none is found.
      let skip = 32;
      let nextIp = ip;
      let candidate: number;
      do {
        ip = nextIp;
        const h = nextHash;
        nextIp = ip + (skip++ >> 5);
        if (nextIp > ipLimit) return nextEmit < end ? emitLiteral(out, o, input, nextEmit, end - nextEmit) : o;
        nextHash = hash(load32(input, nextIp));
        candidate = start + table[h];
        table[h] = ip - start;
      } while (load32(input, ip) !== load32(input, candidate));

      o = emitLiteral(out, o, input, nextEmit, ip - nextEmit);
      // Emit copies while the next position matches too.
      do {
        const base = ip;
        let matched = 4;
        while (ip + matched < end && input[ip + matched] === input[candidate + matched]) matched++;
        ip += matched;
        o = emitCopy(out, o, base - candidate, matched);
        nextEmit = ip;
        if (ip >= ipLimit) return nextEmit < end ? emitLiteral(out, o, input, nextEmit, end - nextEmit) : o;
        table[hash(load32(input, ip - 1))] = ip - 1 - start;
        const h = hash(load32(input, ip));
        candidate = start + table[h];
        table[h] = ip - start;
      } while (load32(input, ip) === load32(input, candidate));
      nextHash = hash(load32(input, ++ip));
    }
  }
  return nextEmit < end ? emitLiteral(out, o, input, nextEmit, end - nextEmit) : o;
}

/**
 * The input snappy-compressed: its length as a varint, then literals and copies. The result is a
 * view of a buffer reused by the next call.
 */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const out = scratch.bytes(32 + input.length + Math.floor(input.length / 6));
  let o = varint(out, 0, input.length);
  for (let start = 0; start < input.length; start += FRAGMENT) {
    o = compressFragment(input, start, Math.min(start + FRAGMENT, input.length), out, o);
  }
  return out.subarray(0, o);
}
