/** How many shards the local Kinesis allows. */

/** Shards a local events stream may have: every consumer reads each shard in a loop of its own. */
export const MAX_LOCAL_SHARDS = 64;

/**
 * kinesalite's limit on open shards across streams: a reshard splits before it merges, so up to
 * twice the wanted shards are open at once; the aggregates stream has one more.
 */
export const KINESALITE_SHARD_LIMIT = 2 * MAX_LOCAL_SHARDS + 1;

/** Shards of the local events stream: each is consumed in parallel, so more keep both cores busy. */
export const DEFAULT_SHARDS = 4;
