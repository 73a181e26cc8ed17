/** The shared bid-win featurizer: determinism, parity between callers, no leakage, libsvm text. */
import { createHash } from 'node:crypto';
import { FEATURE_DIM, LOG_PRICE_INDEX, PRICE_INDEX, featurize, hashBucket, libsvmLine, type AuctionFeatures } from '../../lambdas/ml/features';

const base: AuctionFeatures = { campaign_item_id: 42, domain: 'site3.example', creative_id: 'cr7', creative_category: 'cat2', bid_price: 120 };

describe('featurize', () => {
  test('hashBucket is the first 8 hex digits of md5, modulo FEATURE_DIM (what SQL computes)', () => {
    const hex = createHash('md5').update('domain=site3.example').digest('hex');
    expect(hashBucket('domain=site3.example')).toBe(parseInt(hex.slice(0, 8), 16) % FEATURE_DIM);
    expect(FEATURE_DIM).toBe(262144);
    // A fixed value, so a change of the encoding (which would invalidate deployed models) is noticed.
    expect(hashBucket('campaign_item_id=42')).toBe(parseInt(createHash('md5').update('campaign_item_id=42').digest('hex').slice(0, 8), 16) % 262144);
  });

  test('deterministic: the same input gives the same vector, sorted, de-duplicated', () => {
    const a = featurize(base);
    expect(featurize({ ...base })).toEqual(a);
    expect([...a.indices].sort((x, y) => x - y)).toEqual(a.indices);
    expect(new Set(a.indices).size).toBe(a.indices.length);
    expect(a.indices.length).toBe(7); // price, log price, 4 categoricals, category×price
    expect(a.indices.every((i) => Number.isInteger(i) && i >= 0 && i < FEATURE_DIM)).toBe(true);
  });

  test('encodes price at reserved indices, categoricals as 1, category×price as price/100', () => {
    const v = featurize(base);
    const at = (i: number) => v.values[v.indices.indexOf(i)];
    expect(at(PRICE_INDEX)).toBeCloseTo(1.2);
    expect(at(LOG_PRICE_INDEX)).toBeCloseTo(Math.log1p(120));
    for (const text of ['campaign_item_id=42', 'domain=site3.example', 'creative_id=cr7', 'creative_category=cat2']) expect(at(hashBucket(text))).toBe(1);
    expect(at(hashBucket('creative_category×price=cat2'))).toBeCloseTo(1.2);
  });

  test('parity: key order, number vs numeric string id, undefined vs null vs missing vs empty', () => {
    const reordered = { bid_price: 120, creative_category: 'cat2', creative_id: 'cr7', domain: 'site3.example', campaign_item_id: '42' };
    expect(featurize(reordered)).toEqual(featurize(base));
    const missing = featurize({ campaign_item_id: 42, bid_price: 50 });
    expect(featurize({ campaign_item_id: 42, bid_price: 50, domain: null, creative_id: undefined, creative_category: '' })).toEqual(missing);
    expect(missing.indices).toContain(hashBucket('domain=∅'));
    expect(missing.indices).toContain(hashBucket('creative_category×price=∅'));
  });

  test('different values give different vectors', () => {
    expect(featurize({ ...base, domain: 'site4.example' })).not.toEqual(featurize(base));
    expect(featurize({ ...base, bid_price: 121 })).not.toEqual(featurize(base));
  });

  test('no leakage: fields known only after the auction do not change the vector', () => {
    const leaky = { ...base, clearing_price: 80, win_price: 80, impression: true, clicked: 1, click: true, won: 1, label: 1 };
    expect(featurize(leaky as unknown as AuctionFeatures)).toEqual(featurize(base));
  });

  test('rejects a price that is not a finite number', () => {
    expect(() => featurize({ ...base, bid_price: NaN })).toThrow(/bid_price/);
    expect(() => featurize({ ...base, bid_price: '12' as unknown as number })).toThrow(/bid_price/);
  });
});

describe('libsvmLine', () => {
  test('label then ascending 1-based index:value pairs', () => {
    expect(libsvmLine(1, { indices: [11, 98], values: [1, 0.5] })).toBe('1 12:1 99:0.5');
    expect(libsvmLine(0, { indices: [0], values: [1.2] })).toBe('0 1:1.2');
    expect(libsvmLine(null, { indices: [3], values: [2] })).toBe('0 4:2');
  });

  test('a featurized auction round-trips through the text', () => {
    const v = featurize(base);
    const [label, ...pairs] = libsvmLine(1, v).split(' ');
    expect(label).toBe('1');
    const parsed = pairs.map((p) => p.split(':').map(Number));
    expect(parsed.map(([i]) => i - 1)).toEqual(v.indices);
    parsed.forEach(([, x], k) => expect(x).toBeCloseTo(v.values[k], 8));
  });
});
