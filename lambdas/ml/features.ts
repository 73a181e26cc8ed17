/**
 * The bid-win featurizer: the ONE encoding of an auction, shared by training (local trainer,
 * Athena training-set query) and serving (POST /predictions). Pure, no I/O.
 *
 * Only what is known when the bid is placed is an input (campaign, domain, creative, category, the
 * bid's own price): clearing price and clicks are not fields of `AuctionFeatures`, and
 * `featurize` reads only the fields named here, so leakage is impossible by construction.
 *
 * Encoding (hashing trick, FEATURE_DIM buckets, 0-based indices):
 * - each categorical field as the text `name=value` (missing, null or '' → `name=∅`), value 1,
 *   at `hashBucket(text)`;
 * - the category × price interaction as `creative_category×price=value`, value price/100, so a
 *   linear model can learn a price curve per category;
 * - `price/100` at index PRICE_INDEX (0) and `log1p(price)` at LOG_PRICE_INDEX (1).
 * Indices are sorted and de-duplicated; values colliding on one index are summed.
 *
 * `hashBucket(s) = parseInt(md5hex(s).slice(0, 8), 16) % FEATURE_DIM` (UTF-8 text) because SQL
 * engines compute the same number:
 *   Athena/Trino: from_base(substr(to_hex(md5(to_utf8(s))), 1, 8), 16) % 262144
 *   DuckDB:       ('0x' || substr(md5(s), 1, 8))::UBIGINT % 262144
 */
import { createHash } from 'node:crypto';

export interface AuctionFeatures {
  campaign_item_id: number | string;
  domain?: string | null;
  creative_id?: string | null;
  creative_category?: string | null;
  /** The bid's price (`win_price` of the bid event), not the clearing price. */
  bid_price: number;
}

export interface SparseVector {
  /** 0-based, strictly increasing. */
  indices: number[];
  values: number[];
}

export const FEATURE_DIM = 2 ** 18;
/** Reserved index of price/100. (A hashed feature landing here is summed with it: p ≈ 8e-6.) */
export const PRICE_INDEX = 0;
/** Reserved index of log1p(max(price, 0)). */
export const LOG_PRICE_INDEX = 1;
/** The marker of a missing categorical value. */
export const MISSING = '∅';
/** The categorical fields, in the order they are hashed. */
export const CATEGORICAL_FIELDS = ['campaign_item_id', 'domain', 'creative_id', 'creative_category'] as const;
/** Name of the category × price interaction feature. */
export const CATEGORY_PRICE = 'creative_category×price';

export function md5hex(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

// Categorical values repeat a lot (tens of campaigns, hundreds of domains): memoise the md5.
const bucketCache = new Map<string, number>();
const BUCKET_CACHE_MAX = 200_000;

export function hashBucket(s: string): number {
  let b = bucketCache.get(s);
  if (b === undefined) {
    b = parseInt(md5hex(s).slice(0, 8), 16) % FEATURE_DIM;
    if (bucketCache.size >= BUCKET_CACHE_MAX) bucketCache.clear();
    bucketCache.set(s, b);
  }
  return b;
}

/** The text of a categorical value: numbers and numeric strings agree (42 and '42' → '42'). */
export function categoryText(value: unknown): string {
  if (value === undefined || value === null) return MISSING;
  const s = String(value);
  return s === '' ? MISSING : s;
}

// Per-field memo of value → bucket, so the hot path hashes the short value, not `name=value`.
const fieldCaches = new Map<string, Map<string, number>>();

function fieldBucket(name: string, value: unknown): number {
  let cache = fieldCaches.get(name);
  if (!cache) fieldCaches.set(name, (cache = new Map()));
  const text = categoryText(value);
  let b = cache.get(text);
  if (b === undefined) {
    b = hashBucket(`${name}=${text}`);
    if (cache.size >= BUCKET_CACHE_MAX) cache.clear();
    cache.set(text, b);
  }
  return b;
}

export function featurize(f: AuctionFeatures): SparseVector {
  const price = f.bid_price;
  if (typeof price !== 'number' || !Number.isFinite(price)) throw new RangeError('bid_price must be a finite number');
  const p100 = price / 100;
  const idx = [
    PRICE_INDEX,
    LOG_PRICE_INDEX,
    fieldBucket('campaign_item_id', f.campaign_item_id),
    fieldBucket('domain', f.domain),
    fieldBucket('creative_id', f.creative_id),
    fieldBucket('creative_category', f.creative_category),
    fieldBucket(CATEGORY_PRICE, f.creative_category),
  ];
  const val = [p100, Math.log1p(Math.max(price, 0)), 1, 1, 1, 1, p100];
  return sortSum(idx, val);
}

/** Sorts by index (insertion sort: 7 entries) and sums values that share an index, in place. */
function sortSum(idx: number[], val: number[]): SparseVector {
  for (let i = 1; i < idx.length; i++) {
    const ki = idx[i];
    const kv = val[i];
    let j = i - 1;
    while (j >= 0 && idx[j] > ki) {
      idx[j + 1] = idx[j];
      val[j + 1] = val[j];
      j--;
    }
    idx[j + 1] = ki;
    val[j + 1] = kv;
  }
  let w = 0;
  for (let r = 1; r < idx.length; r++) {
    if (idx[r] === idx[w]) val[w] += val[r];
    else {
      w++;
      idx[w] = idx[r];
      val[w] = val[r];
    }
  }
  idx.length = w + 1;
  val.length = w + 1;
  return { indices: idx, values: val };
}

/**
 * One line of libsvm text, as SageMaker's built-in algorithms (XGBoost, linear learner in
 * libsvm mode) read it: `<label> <index>:<value> ...` with 1-BASED indices (index i here is
 * written i+1), ascending. `label` null writes 0 — inference input ignores the label column
 * but the format needs one.
 */
export function libsvmLine(label: 0 | 1 | null, x: SparseVector): string {
  let s = label === null ? '0' : String(label);
  for (let i = 0; i < x.indices.length; i++) s += ` ${x.indices[i] + 1}:${fmt(x.values[i])}`;
  return s;
}

function fmt(v: number): string {
  // Shortest round-trip text; integers stay integers ("1" not "1.0").
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(9)));
}
