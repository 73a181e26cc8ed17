/** Held-out metrics (AUC, log loss, calibration), the stable split, and the quality gate. */
import { auc, calibration, evaluate, isHoldout, logLoss, splitHoldout } from '../../lambdas/ml/evaluate';
import { qualityGate } from '../../lambdas/ml/gate';
import { FEATURE_DIM, hashBucket } from '../../lambdas/ml/features';
import type { Model } from '../../lambdas/ml/logistic';

describe('auc', () => {
  test('perfect, inverted and hand-computed cases', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    // positives 0.35, 0.8; negatives 0.1, 0.4. Pairs (pos > neg): 0.35>0.1, 0.8>0.1, 0.8>0.4 = 3 of 4.
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  });

  test('ties count one half', () => {
    expect(auc([0.5, 0.5], [0, 1])).toBe(0.5);
    // pos {0.5, 0.9}, neg {0.5, 0.1}: 0.5 vs 0.5 tie (½), 0.5>0.1, 0.9>0.5, 0.9>0.1 → 3.5/4.
    expect(auc([0.5, 0.9, 0.5, 0.1], [1, 1, 0, 0])).toBe(0.875);
    expect(auc(new Array(10).fill(0.3), [0, 1, 0, 1, 1, 0, 0, 0, 1, 0])).toBe(0.5);
  });

  test('NaN without both classes', () => {
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(auc([], [])).toBeNaN();
  });
});

describe('logLoss', () => {
  test('hand-computed', () => {
    expect(logLoss([0.5, 0.5], [0, 1])).toBeCloseTo(Math.log(2), 12);
    expect(logLoss([0.9, 0.2], [1, 0])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 12);
    expect(logLoss([0, 1], [1, 0])).toBeCloseTo(-Math.log(1e-15), 2); // clipped, not Infinity
  });
});

describe('calibration', () => {
  test('equal-width bins with mean score, observed rate and count; empty bins are null', () => {
    const bins = calibration([0.05, 0.15, 0.12, 0.95, 1], [0, 1, 0, 1, 1], 10);
    expect(bins).toHaveLength(10);
    expect(bins[0]).toEqual({ lower: 0, upper: 0.1, meanPredicted: 0.05, observedRate: 0, count: 1 });
    expect(bins[1].count).toBe(2);
    expect(bins[1].meanPredicted).toBeCloseTo(0.135);
    expect(bins[1].observedRate).toBe(0.5);
    expect(bins[5]).toEqual({ lower: 0.5, upper: 0.6, meanPredicted: null, observedRate: null, count: 0 });
    expect(bins[9].count).toBe(2); // 1 falls in the last bin
    expect(bins[9].observedRate).toBe(1);
  });
});

describe('evaluate', () => {
  test('scores a model on a data set', () => {
    const weights = new Float64Array(8);
    weights[1] = 2;
    const model: Model = { version: 't', createdAt: '2024-01-01T00:00:00.000Z', featureDim: 8, bias: -1, weights };
    const xs = [{ indices: [1], values: [1] }, { indices: [2], values: [1] }, { indices: [1], values: [0.5] }];
    const r = evaluate(model, xs, [1, 0, 1]);
    expect(r.count).toBe(3);
    expect(r.positives).toBe(2);
    expect(r.auc).toBe(1);
    const p = [1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(1)), 0.5];
    expect(r.logLoss).toBeCloseTo(-(Math.log(p[0]) + Math.log(1 - p[1]) + Math.log(p[2])) / 3, 12);
    expect(r.calibration).toHaveLength(10);
  });
});

describe('held-out split', () => {
  test('isHoldout is the md5 bucket of tx_id, stable and close to the fraction', () => {
    expect(isHoldout('abc-1')).toBe(hashBucket('abc-1') < 0.2 * FEATURE_DIM);
    const ids = Array.from({ length: 20000 }, (_, i) => `run-${i}`);
    const held = ids.filter((id) => isHoldout(id));
    expect(held.length / ids.length).toBeGreaterThan(0.18);
    expect(held.length / ids.length).toBeLessThan(0.22);
    expect(ids.filter((id) => isHoldout(id))).toEqual(held);
    // A smaller fraction holds out a subset of a larger one.
    expect(ids.filter((id) => isHoldout(id, 0.1)).every((id) => isHoldout(id, 0.2))).toBe(true);
  });

  test('splitHoldout is deterministic and partitions 0..n-1', () => {
    const a = splitHoldout(1000, 0.25, 3);
    expect(splitHoldout(1000, 0.25, 3)).toEqual(a);
    expect([...a.train, ...a.holdout].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(a.holdout.length).toBeGreaterThan(200);
    expect(a.holdout.length).toBeLessThan(300);
    expect(splitHoldout(1000, 0.25, 4).holdout).not.toEqual(a.holdout);
  });
});

describe('qualityGate', () => {
  test('accepts the first model above the floor', () => {
    expect(qualityGate({ candidate: { auc: 0.8 }, floor: 0.7 })).toMatchObject({ deploy: true, reason: expect.stringMatching(/first model/) });
  });
  test('refuses below the floor, with or without a current model', () => {
    expect(qualityGate({ candidate: { auc: 0.65 }, floor: 0.7 })).toMatchObject({ deploy: false, reason: expect.stringMatching(/below the floor/) });
    expect(qualityGate({ candidate: { auc: 0.65 }, current: { auc: 0.6 }, floor: 0.7 }).deploy).toBe(false);
  });
  test('refuses a model worse than the current one on the same data', () => {
    expect(qualityGate({ candidate: { auc: 0.79 }, current: { auc: 0.8 }, floor: 0.7 })).toMatchObject({ deploy: false, reason: expect.stringMatching(/worse than current/) });
  });
  test('accepts a better or equal model, and a slightly worse one within the tolerance', () => {
    expect(qualityGate({ candidate: { auc: 0.81 }, current: { auc: 0.8 }, floor: 0.7 }).deploy).toBe(true);
    expect(qualityGate({ candidate: { auc: 0.8 }, current: { auc: 0.8 }, floor: 0.7 }).deploy).toBe(true);
    expect(qualityGate({ candidate: { auc: 0.795 }, current: { auc: 0.8 }, floor: 0.7, tolerance: 0.01 }).deploy).toBe(true);
    expect(qualityGate({ candidate: { auc: 0.785 }, current: { auc: 0.8 }, floor: 0.7, tolerance: 0.01 }).deploy).toBe(false);
  });
  test('refuses a candidate without a usable AUC', () => {
    expect(qualityGate({ candidate: { auc: NaN }, floor: 0.5 }).deploy).toBe(false);
  });
});
