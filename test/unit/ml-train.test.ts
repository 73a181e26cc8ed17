/** Training the bid-win model on generated traffic with a known win function, and the model format. */
import { bayesOptimalAuc, generateWorkload, makeWinWorld } from '../../pipelines/adtech/workload';
import { featurize } from '../../lambdas/ml/features';
import { parseModel, predictProba, serializeModel, trainLogistic } from '../../lambdas/ml/logistic';
import { evaluate, isHoldout } from '../../lambdas/ml/evaluate';

const workload = generateWorkload({ auctions: 60_000, winModel: true, seed: 11, now: 1_700_000_000_000 });
const auctions = workload.auctions!;
const train = auctions.filter((a) => !isHoldout(a.tx_id));
const held = auctions.filter((a) => isHoldout(a.tx_id));
const xs = train.map((a) => featurize(a.features));
const ys = Uint8Array.from(train.map((a) => a.won));
const hxs = held.map((a) => featurize(a.features));
const hys = held.map((a) => a.won);

describe('ground truth (winModel)', () => {
  test('wins follow the world: impressions are the auctions won; the realistic counts are used', () => {
    expect(workload.world!.campaignIds).toHaveLength(50);
    expect(workload.world!.domains).toHaveLength(200);
    expect(workload.world!.creatives).toHaveLength(40);
    expect(workload.world!.categories).toHaveLength(8);
    expect(workload.totals.impressions).toBe(auctions.filter((a) => a.won).length);
    expect(workload.totals.bids).toBe(60_000);
    const meanP = auctions.reduce((s, a) => s + a.p, 0) / auctions.length;
    expect(workload.totals.impressions / 60_000).toBeCloseTo(meanP, 1);
    for (const a of auctions.slice(0, 100)) expect(workload.world!.winProbability(a.features)).toBe(a.p);
  });

  test('the world is fixed for a seed and the price matters', () => {
    const a = makeWinWorld({ seed: 11 });
    const b = makeWinWorld({ seed: 11 });
    const f = { campaign_item_id: 3, domain: 'site5.example', creative_id: 'cr1', creative_category: 'cat1', bid_price: 100 };
    expect(a.winProbability(f)).toBe(b.winProbability(f));
    expect(a.winProbability({ ...f, bid_price: 190 })).toBeGreaterThan(a.winProbability(f));
    expect(makeWinWorld({ seed: 12 }).winProbability(f)).not.toBe(a.winProbability(f));
  });

  test('clearing prices never exceed the bid; the default workload is unchanged by the option', () => {
    const bids = new Map(workload.events.filter((e) => e.type === 'bid').map((e) => [e.body.tx_id, e.body.win_price as number]));
    for (const e of workload.events) if (e.type === 'impression') expect(e.body.win_price as number).toBeLessThanOrEqual(bids.get(e.body.tx_id)!);
    const plain = generateWorkload({ auctions: 100, seed: 5, now: 1 });
    expect(plain.auctions).toBeUndefined();
    expect(plain.world).toBeUndefined();
  });
});

describe('trainLogistic', () => {
  const model = trainLogistic(xs, ys, { seed: 1, createdAt: '2024-05-01T12:00:00.000Z' });
  const ev = evaluate(model, hxs, hys);
  const bayes = bayesOptimalAuc(workload);

  test('reaches ≥ 0.97 × the Bayes-optimal AUC on held-out auctions', () => {
    expect(bayes).toBeGreaterThan(0.7);
    expect(ev.auc).toBeGreaterThanOrEqual(0.97 * bayes);
    expect(ev.auc).toBeLessThanOrEqual(bayes + 0.01);
    expect(ev.count).toBe(held.length);
  });

  test('is calibrated: each well-filled bin observes close to what it predicts', () => {
    for (const bin of ev.calibration) if (bin.count > 500) expect(Math.abs(bin.meanPredicted! - bin.observedRate!)).toBeLessThan(0.05);
    // and its log loss is close to that of the true probabilities
    const trueLoss = -held.reduce((s, a) => s + (a.won ? Math.log(a.p) : Math.log(1 - a.p)), 0) / held.length;
    expect(ev.logLoss).toBeLessThan(trueLoss + 0.02);
  });

  test('is deterministic for a seed and names its version', () => {
    const again = trainLogistic(xs.slice(0, 5000), ys.slice(0, 5000), { seed: 3, createdAt: '2024-05-01T12:00:00.000Z', epochs: 2 });
    const twice = trainLogistic(xs.slice(0, 5000), ys.slice(0, 5000), { seed: 3, createdAt: '2024-05-01T12:00:00.000Z', epochs: 2 });
    expect(twice.weights).toEqual(again.weights);
    expect(twice.bias).toBe(again.bias);
    expect(model.version).toBe('m-20240501T120000Z');
    expect(trainLogistic(xs.slice(0, 10), ys.slice(0, 10), { version: 'v7' }).version).toBe('v7');
  });

  test('rejects mismatched inputs', () => {
    expect(() => trainLogistic(xs.slice(0, 3), ys.slice(0, 2))).toThrow(/labels/);
    expect(() => trainLogistic([{ indices: [5], values: [1] }], [1], { featureDim: 4 })).toThrow(/out of range/);
  });

  test('serializes sparsely and parses back to the same predictions (float32 weights)', () => {
    const text = serializeModel(model);
    expect(text.length).toBeLessThan(20_000);
    const back = parseModel(text);
    expect(back.version).toBe(model.version);
    expect(back.createdAt).toBe(model.createdAt);
    expect(back.featureDim).toBe(model.featureDim);
    for (const x of hxs.slice(0, 200)) expect(predictProba(back, x)).toBeCloseTo(predictProba(model, x), 5);
    expect(() => parseModel('{"format":"other"}')).toThrow(/not an sdp/);
  });

  test('a dense model round-trips too', () => {
    const weights = Float64Array.from({ length: 16 }, (_, i) => i - 7.5);
    const dense = { version: 'd', createdAt: 'x', featureDim: 16, bias: 0.25, weights };
    const back = parseModel(serializeModel(dense));
    expect(JSON.parse(serializeModel(dense)).encoding).toBe('dense');
    expect(Array.from(back.weights)).toEqual(Array.from(weights));
    expect(back.bias).toBe(0.25);
  });
});
