/**
 * Logistic regression over the featurizer's sparse vectors: a small hand-written optimiser
 * (AdaGrad SGD, shuffled epochs, lazy L2), prediction and a compact JSON model format. Pure.
 *
 * Training packs the examples once, in a seeded random order, into flat typed arrays (CSR) so
 * the inner loop allocates nothing and reads memory sequentially; each epoch then visits blocks of
 * BLOCK examples in a freshly shuffled block order. L2 is applied lazily: a weight's decay for the steps during which its feature was
 * absent is applied when the feature is next seen (and once more for every weight at the end),
 * which is what dense per-step L2 would have done, up to AdaGrad's step size changing meanwhile.
 * Deterministic for a seed (except `createdAt`, which defaults to now).
 */
import { random } from '../commons/random';
import { FEATURE_DIM, type SparseVector } from './features';

export interface Model {
  version: string;
  createdAt: string;
  featureDim: number;
  bias: number;
  /** Dense, featureDim long. */
  weights: Float64Array;
}

export interface TrainOptions {
  /** Passes over the data (default 6). */
  epochs?: number;
  /** AdaGrad base step (default 0.2). */
  learningRate?: number;
  /** L2 strength per example (objective: mean log loss + l2/2·‖w‖²; default 1e-6). */
  l2?: number;
  /** Shuffle seed (default 1). */
  seed?: number;
  /** Defaults to a name made of `createdAt`. */
  version?: string;
  /** ISO time; defaults to now. */
  createdAt?: string;
  featureDim?: number;
}


/** Examples per block of the per-epoch block shuffle. */
const BLOCK = 4096;

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function modelVersion(createdAt: string): string {
  return `m-${createdAt.replace(/[-:]/g, '').replace(/\.\d+/, '')}`;
}

/** (1 − x)^gap: L2 shrinkage over `gap` steps of size x; a 2nd-order series when gap·x < 1e-3 (relative error ≈ (gap·x)³/6). */
function decay(x: number, gap: number): number {
  if (x >= 1) return 0;
  const d = gap * x;
  return d < 1e-3 ? 1 - d + (d * d) / 2 : Math.exp(gap * Math.log1p(-x));
}

export function trainLogistic(xs: SparseVector[], ys: Uint8Array | number[], opts: TrainOptions = {}): Model {
  const n = xs.length;
  if (ys.length !== n) throw new RangeError(`xs has ${n} examples but ys has ${ys.length} labels`);
  const epochs = opts.epochs ?? 6;
  const lr = opts.learningRate ?? 0.2;
  const l2 = opts.l2 ?? 1e-6;
  const dim = opts.featureDim ?? FEATURE_DIM;
  const createdAt = opts.createdAt ?? new Date().toISOString();

  const rnd = random(opts.seed ?? 1);
  const shuffle = (a: Uint32Array) => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  };
  // Pack into CSR, in a shuffled order.
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  shuffle(perm);
  let nnz = 0;
  for (let i = 0; i < n; i++) nnz += xs[i].indices.length;
  const offsets = new Uint32Array(n + 1);
  const idx = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  const y = new Float64Array(n);
  for (let i = 0, k = 0; i < n; i++) {
    const x = xs[perm[i]];
    offsets[i] = k;
    for (let j = 0; j < x.indices.length; j++, k++) {
      const f = x.indices[j];
      if (!(f >= 0 && f < dim)) throw new RangeError(`feature index ${f} out of range [0, ${dim})`);
      idx[k] = f;
      val[k] = x.values[j];
    }
    y[i] = ys[perm[i]] ? 1 : 0;
  }
  offsets[n] = nnz;

  const w = new Float64Array(dim);
  const g2 = new Float64Array(dim).fill(1e-8); // AdaGrad accumulators
  const last = new Float64Array(dim); // step at which each weight's L2 decay was last applied
  let bias = 0;
  let biasG2 = 1e-8;
  const blocks = new Uint32Array(Math.ceil(n / BLOCK));
  for (let i = 0; i < blocks.length; i++) blocks[i] = i;
  let step = 0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffle(blocks);
    for (let bi = 0; bi < blocks.length; bi++) {
      const end = Math.min(n, (blocks[bi] + 1) * BLOCK);
      for (let e = blocks[bi] * BLOCK; e < end; e++) {
        const a = offsets[e];
        const b = offsets[e + 1];
        let z = bias;
        for (let k = a; k < b; k++) {
          const f = idx[k];
          if (l2 > 0) {
            const gap = step - last[f];
            if (gap > 0) {
              w[f] *= decay((lr / Math.sqrt(g2[f])) * l2, gap);
              last[f] = step;
            }
          }
          z += w[f] * val[k];
        }
        const g = sigmoid(z) - y[e];
        for (let k = a; k < b; k++) {
          const f = idx[k];
          const gf = g * val[k] + l2 * w[f];
          g2[f] += gf * gf;
          w[f] -= (lr / Math.sqrt(g2[f])) * gf;
          last[f] = step + 1;
        }
        biasG2 += g * g;
        bias -= (lr / Math.sqrt(biasG2)) * g;
        step++;
      }
    }
  }
  if (l2 > 0) {
    for (let f = 0; f < dim; f++) {
      const gap = step - last[f];
      if (gap > 0 && w[f] !== 0) w[f] *= decay((lr / Math.sqrt(g2[f])) * l2, gap);
    }
  }
  return { version: opts.version ?? modelVersion(createdAt), createdAt, featureDim: dim, bias, weights: w };
}

export function predictProba(model: Model, x: SparseVector): number {
  let z = model.bias;
  const w = model.weights;
  for (let k = 0; k < x.indices.length; k++) {
    const f = x.indices[k];
    if (f >= 0 && f < w.length) z += w[f] * x.values[k];
  }
  return sigmoid(z);
}

interface ModelJson {
  format: 'sdp-logistic/1';
  version: string;
  createdAt: string;
  featureDim: number;
  bias: number;
  /** 'dense': weights = all featureDim weights; 'sparse': weights at `indices` only, rest 0. */
  encoding: 'dense' | 'sparse';
  /** base64 of a little-endian Uint32Array (sparse only). */
  indices?: string;
  /** base64 of a little-endian Float32Array. */
  weights: string;
}

function b64(a: Float32Array | Uint32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function fromB64<T>(s: string, make: (buf: ArrayBuffer, n: number) => T): T {
  const buf = Buffer.from(s, 'base64');
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return make(copy, buf.byteLength / 4);
}

/**
 * JSON with the weights as base64 of a Float32Array (so parsed weights are float32-rounded);
 * stored sparsely (non-zero indices + values) when that is smaller than dense.
 */
export function serializeModel(model: Model): string {
  const nz: number[] = [];
  for (let f = 0; f < model.weights.length; f++) if (Math.fround(model.weights[f]) !== 0) nz.push(f);
  const base = { format: 'sdp-logistic/1' as const, version: model.version, createdAt: model.createdAt, featureDim: model.featureDim, bias: model.bias };
  let json: ModelJson;
  if (nz.length * 2 < model.weights.length) {
    const ind = new Uint32Array(nz);
    const ws = new Float32Array(nz.length);
    for (let i = 0; i < nz.length; i++) ws[i] = model.weights[nz[i]];
    json = { ...base, encoding: 'sparse', indices: b64(ind), weights: b64(ws) };
  } else {
    json = { ...base, encoding: 'dense', weights: b64(Float32Array.from(model.weights)) };
  }
  return JSON.stringify(json);
}

export function parseModel(text: string): Model {
  const j = JSON.parse(text) as ModelJson;
  if (j.format !== 'sdp-logistic/1') throw new Error(`not an sdp logistic model (format ${String(j.format)})`);
  if (!Number.isInteger(j.featureDim) || j.featureDim <= 0) throw new Error('bad featureDim');
  const weights = new Float64Array(j.featureDim);
  const ws = fromB64(j.weights, (b, n) => new Float32Array(b, 0, n));
  if (j.encoding === 'dense') {
    if (ws.length !== j.featureDim) throw new Error('dense weights do not match featureDim');
    weights.set(ws);
  } else {
    const ind = fromB64(j.indices ?? '', (b, n) => new Uint32Array(b, 0, n));
    if (ind.length !== ws.length) throw new Error('sparse indices and weights differ in length');
    for (let i = 0; i < ind.length; i++) {
      if (ind[i] >= j.featureDim) throw new Error('sparse index out of range');
      weights[ind[i]] = ws[i];
    }
  }
  return { version: j.version, createdAt: j.createdAt, featureDim: j.featureDim, bias: j.bias, weights };
}
