/**
 * Dictionary encoding of a column chunk's values: the distinct values in order of first
 * appearance and each value's index into them, when that pays.
 */

export interface Dictionary<T> {
  values: T[];
  /** Per value, its index into `values`. */
  indexes: Int32Array;
}

/** Above this share of distinct values a column is not worth a dictionary. */
const MOSTLY_DISTINCT = 0.5;
const SAMPLES = 1000;

/** Share of distinct values among up to 1,000 values sampled evenly across the column. */
function distinctShare<T>(values: ArrayLike<T>): number {
  const samples = Math.min(values.length, SAMPLES);
  const seen = new Set<T>();
  for (let i = 0; i < samples; i++) seen.add(values[samples === 1 ? 0 : Math.floor((i * (values.length - 1)) / (samples - 1))]);
  return samples === 0 ? 1 : seen.size / samples;
}

/**
 * The dictionary of the values, or undefined when most of them are distinct (judged on a sample
 * first, then on the whole chunk): such a column is smaller and faster written PLAIN.
 */
export function dictionaryOf<T extends string | number>(values: ArrayLike<T>): Dictionary<T> | undefined {
  if (distinctShare(values) > MOSTLY_DISTINCT) return undefined;
  const limit = values.length * MOSTLY_DISTINCT;
  const index = new Map<T, number>();
  const distinct: T[] = [];
  const indexes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let k = index.get(v);
    if (k === undefined) {
      if (distinct.length >= limit) return undefined;
      k = distinct.length;
      index.set(v, k);
      distinct.push(v);
    }
    indexes[i] = k;
  }
  return { values: distinct, indexes };
}
