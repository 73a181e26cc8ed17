/**
 * Parquet value encodings of flat arrays, written straight into byte arrays: PLAIN (int64,
 * double, UTF-8 strings, booleans), RLE booleans, dictionary indexes, DELTA_BINARY_PACKED int64,
 * and the RLE/bit-packed hybrid of definition levels. Integers arrive as JS numbers (safe
 * integers) and are written as int64 without a BigInt per value.
 *
 * The PLAIN and delta encoders return a view of one shared buffer, valid until the next of them
 * runs: their pages are compressed right away.
 */
import { ByteWriter } from 'hyparquet-writer';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { Scratch } from './scratch';

const scratch = new Scratch();

const TWO_32 = 4_294_967_296;

/** Little-endian int64 of a safe integer at `offset`. */
function setInt64(view: DataView, offset: number, v: number): void {
  view.setUint32(offset, v >>> 0, true);
  view.setInt32(offset + 4, Math.floor(v / TWO_32), true);
}

export function plainInt64(values: Float64Array): Uint8Array {
  const out = scratch.bytes(values.length * 8);
  const view = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < values.length; i++) setInt64(view, i * 8, values[i]);
  return out.subarray(0, values.length * 8);
}

export function plainDouble(values: Float64Array): Uint8Array {
  const out = scratch.bytes(values.length * 8);
  const view = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
  return out.subarray(0, values.length * 8);
}

/** Each string as its UTF-8 byte length (4 bytes, little-endian) and bytes. */
export function plainStrings(values: readonly string[], from = 0, to = values.length): Uint8Array {
  let bound = 0;
  for (let i = from; i < to; i++) bound += 4 + 3 * values[i].length;
  const out = scratch.bytes(bound);
  let o = 0;
  for (let i = from; i < to; i++) {
    const n = out.write(values[i], o + 4);
    out[o] = n;
    out[o + 1] = n >>> 8;
    out[o + 2] = n >>> 16;
    out[o + 3] = n >>> 24;
    o += 4 + n;
  }
  return out.subarray(0, o);
}

/** Booleans bit-packed, first value in the lowest bit. */
export function plainBooleans(values: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) out[i >> 3] |= values[i] << (i & 7);
  return out;
}

/** The RLE/bit-packed hybrid of small non-negative integers (levels, dictionary indexes). */
export function rleHybrid(values: Uint8Array | Int32Array, bitWidth: number): Uint8Array {
  const writer = new ByteWriter(Math.max(64, Math.ceil((values.length * bitWidth) / 8) + 64));
  writeRleBitPackedHybrid(writer, values, bitWidth);
  return writer.getBytes();
}

/** RLE-encoded booleans: the hybrid's byte length (4 bytes, little-endian), then the hybrid. */
export function rleBooleans(values: Uint8Array): Uint8Array {
  const hybrid = rleHybrid(values, 1);
  const out = new Uint8Array(4 + hybrid.length);
  new DataView(out.buffer).setUint32(0, hybrid.length, true);
  out.set(hybrid, 4);
  return out;
}

/** Bits needed for a non-negative integer below 2^53. */
export function bitWidth(v: number): number {
  return v < TWO_32 ? 32 - Math.clz32(v) : 64 - Math.clz32(Math.floor(v / TWO_32));
}

/** Dictionary indexes: their bit width (one byte), then their hybrid. */
export function dictionaryIndexes(indexes: Int32Array, dictionarySize: number): Uint8Array {
  const width = Math.max(1, bitWidth(dictionarySize - 1));
  const hybrid = rleHybrid(indexes, width);
  const out = new Uint8Array(1 + hybrid.length);
  out[0] = width;
  out.set(hybrid, 1);
  return out;
}

/** Writes unsigned integers below 2^53 as a little-endian bit stream. */
class BitPacker {
  private acc = 0;
  private bits = 0;

  constructor(
    readonly out: Uint8Array,
    public offset: number,
  ) {}

  /** `width` ≤ 24 bits of `v`, so the accumulator (< 8 bits pending) never passes 31 bits. */
  private put(v: number, width: number): void {
    this.acc |= v << this.bits;
    this.bits += width;
    while (this.bits >= 8) {
      this.out[this.offset++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  write(v: number, width: number): void {
    while (width > 24) {
      this.put(v % 65536, 16);
      v = Math.floor(v / 65536);
      width -= 16;
    }
    this.put(v, width);
  }
}

function varint(out: Uint8Array, offset: number, v: number): number {
  while (v >= 128) {
    out[offset++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[offset++] = v;
  return offset;
}

const zigzag = (v: number) => (v >= 0 ? 2 * v : -2 * v - 1);

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINIBLOCK = BLOCK / MINIBLOCKS;
/** Values within this of zero, and of each other, keep their deltas and zigzags exact as doubles. */
const EXACT = 2 ** 51;

/**
 * DELTA_BINARY_PACKED int64 (blocks of 128 deltas in 4 miniblocks), computed in doubles. Returns
 * undefined when the values are too far apart (or from zero) for that to be exact; the caller
 * then writes them PLAIN.
 */
export function deltaBinaryPacked(values: Float64Array): Uint8Array | undefined {
  const n = values.length;
  let min = 0;
  let max = 0;
  if (n > 0) {
    min = max = values[0];
    for (let i = 1; i < n; i++) {
      const v = values[i];
      if (v < min) min = v;
      else if (v > max) max = v;
    }
  }
  if (max - min >= EXACT || -min >= EXACT || max >= EXACT) return undefined;

  const blocks = Math.ceil(Math.max(0, n - 1) / BLOCK);
  // Per block: min delta, widths, and up to 8 bytes per value (miniblocks are padded to full).
  const out = scratch.bytes(40 + blocks * (10 + MINIBLOCKS + BLOCK * 8));
  let o = varint(out, 0, BLOCK);
  o = varint(out, o, MINIBLOCKS);
  o = varint(out, o, n);
  o = varint(out, o, zigzag(n > 0 ? values[0] : 0));
  const deltas = new Float64Array(BLOCK);
  const packer = new BitPacker(out, 0);
  for (let start = 1; start < n; start += BLOCK) {
    const count = Math.min(BLOCK, n - start);
    let minDelta = Infinity;
    for (let j = 0; j < count; j++) {
      const d = values[start + j] - values[start + j - 1];
      deltas[j] = d;
      if (d < minDelta) minDelta = d;
    }
    o = varint(out, o, zigzag(minDelta));
    const widths = o;
    o += MINIBLOCKS;
    packer.offset = o;
    for (let m = 0; m < MINIBLOCKS; m++) {
      const from = m * MINIBLOCK;
      if (from >= count) {
        out[widths + m] = 0;
        continue;
      }
      const to = Math.min(from + MINIBLOCK, count);
      let maxRel = 0;
      for (let j = from; j < to; j++) if (deltas[j] - minDelta > maxRel) maxRel = deltas[j] - minDelta;
      const width = bitWidth(maxRel);
      out[widths + m] = width;
      if (width === 0) continue;
      // A miniblock is always MINIBLOCK values wide: the last one is padded with zeros.
      for (let j = from; j < from + MINIBLOCK; j++) packer.write(j < to ? deltas[j] - minDelta : 0, width);
    }
    o = packer.offset;
  }
  return out.subarray(0, o);
}
