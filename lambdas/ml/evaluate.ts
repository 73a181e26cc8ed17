/**
 * Evaluating a bid-win model on held-out data: exact AUC (ties rank-averaged), log loss,
 * calibration bins, and the stable held-out split. Pure.
 *
 * The split is by tx_id: `isHoldout(tx_id)` hashes it with the featurizer's md5 bucket, so the
 * same auctions are held out on every retrain and the split is computable in SQL:
 *   Athena/Trino: from_base(substr(to_hex(md5(to_utf8(tx_id))), 1, 8), 16) % 262144 < fraction * 262144
 *   DuckDB:       ('0x' || substr(md5(tx_id), 1, 8))::UBIGINT % 262144 < fraction * 262144
 */
import { FEATURE_DIM, hashBucket, type SparseVector } from './features';
import { predictProba, type Model } from './logistic';

type Nums = ArrayLike<number>;

export interface CalibrationBin {
  lower: number;
  upper: number;
  /** Mean score in the bin; null when the bin is empty. */
  meanPredicted: number | null;
  /** Share of positives in the bin; null when the bin is empty. */
  observedRate: number | null;
  count: number;
}

export interface Evaluation {
  auc: number;
  logLoss: number;
  calibration: CalibrationBin[];
  count: number;
  positives: number;
}

/** Area under the ROC curve, exact (Mann-Whitney), tied scores get their average rank. NaN if one class is absent. */
export function auc(scores: Nums, labels: Nums): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError('scores and labels differ in length');
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++) {
      if (labels[order[k]]) {
        pos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Mean negative log likelihood; scores clipped to [1e-15, 1 − 1e-15]. NaN for no examples. */
export function logLoss(scores: Nums, labels: Nums): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError('scores and labels differ in length');
  if (n === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(Math.max(scores[i], 1e-15), 1 - 1e-15);
    sum -= labels[i] ? Math.log(p) : Math.log(1 - p);
  }
  return sum / n;
}

/** Equal-width bins over [0, 1] (the last includes 1); every bin is returned, empty ones with nulls. */
export function calibration(scores: Nums, labels: Nums, bins = 10): CalibrationBin[] {
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  const count = new Uint32Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(scores[i] * bins)));
    sumP[b] += scores[i];
    sumY[b] += labels[i] ? 1 : 0;
    count[b]++;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    meanPredicted: count[b] ? sumP[b] / count[b] : null,
    observedRate: count[b] ? sumY[b] / count[b] : null,
    count: count[b],
  }));
}

export function evaluate(model: Model, xs: SparseVector[], ys: Nums): Evaluation {
  const scores = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) scores[i] = predictProba(model, xs[i]);
  let positives = 0;
  for (let i = 0; i < ys.length; i++) if (ys[i]) positives++;
  return { auc: auc(scores, ys), logLoss: logLoss(scores, ys), calibration: calibration(scores, ys), count: xs.length, positives };
}

/** Whether an auction belongs to the held-out split: stable across retrains, identical in SQL. */
export function isHoldout(tx_id: string, fraction = 0.2): boolean {
  return hashBucket(tx_id) < fraction * FEATURE_DIM;
}

/** A deterministic split of 0..n-1 for data without tx_ids (prefer `isHoldout`). */
export function splitHoldout(n: number, fraction: number, seed = 1): { train: number[]; holdout: number[] } {
  const train: number[] = [];
  const holdout: number[] = [];
  for (let i = 0; i < n; i++) (isHoldout(`${seed}:${i}`, fraction) ? holdout : train).push(i);
  return { train, holdout };
}
