/**
 * The platform's resources, defined once: stream names, table key schemas, the settings handlers
 * read from their environment. The CDK constructs (lib/) and the local runtime (local/) both build
 * what they create from these definitions, so the two homes cannot drift apart.
 */

export interface StreamDef {
  /** Logical name; also the stream name in the local platform. */
  readonly name: string;
  /** Environment variable through which handlers learn the stream's real name. */
  readonly env: string;
}

export interface TableDef {
  readonly name: string;
  readonly env: string;
  readonly partitionKey: { name: string; type: 'S' | 'N' };
  readonly sortKey?: { name: string; type: 'S' | 'N' };
  /** Attribute that holds the expiry time (epoch seconds), when the table uses TTL. */
  readonly ttlAttribute?: string;
}

export const streams = {
  events: { name: 'events', env: 'EVENTS_STREAM_NAME' },
  /** Every revision of every aggregation's (group, window) row, for real-time consumers. */
  aggregates: { name: 'aggregates', env: 'AGGREGATES_STREAM_NAME' },
} as const satisfies Record<string, StreamDef>;

/**
 * Whether the aggregates stream (the feed of every row revision: README, "The aggregates stream")
 * exists. In AWS it is a provisioned shard, "$0.015 per shard hour" ($10.95 a month) whether or
 * not anything reads it, so a stack has it only when deployed with `-c sdp:aggregatesFeed=true`
 * (lib/sdp-stack.ts). Without it the aggregator publishes no revisions (its function's environment
 * says AGGREGATES_FEED=off) and the lake has no `aggregates` table (the revision history); reports
 * are unchanged and the saved queries that summed it answer the same from the event tables
 * (queries/, test/unit/saved-queries-semantics.test.ts). The local platform always has the feed:
 * its live console reads it, and a local stream costs nothing.
 */
export const aggregatesFeed = { env: 'AGGREGATES_FEED', context: 'sdp:aggregatesFeed', off: 'off' } as const;

/**
 * The events stream's retention in hours, `cdk deploy -c sdp:streamRetentionHours=N` (lib/sdp-stack.ts),
 * default settings.eventsStreamRetentionSeconds (24 h). Kinesis: "A Kinesis data stream stores
 * records from 24 hours by default, up to 8760 hours (365 days)" (Developer Guide, Change the data
 * retention period); "Extended data retention (beyond the first 24 hours and within the first seven
 * days)" is billed per shard-hour (schemas/prices.ts). It is how long a dead-lettered batch can be
 * redriven (`sdp dlq redrive`): longer buys operators time at $0.02 a shard-hour (~$14.60 a month
 * per shard for 7 days). The state tables' TTLs follow it when it is longer than theirs
 * (stateTtlSeconds), so a replay never meets an expired state.
 */
export const streamRetention = { context: 'sdp:streamRetentionHours', minHours: 24, maxHours: 8760 } as const;

/**
 * The TTL a state table needs for a stream kept `retentionSeconds`: its default, or longer when
 * the retention plus `marginSeconds` is longer (never shorter: the defaults also dedupe resends of
 * events up to MAX_EVENT_AGE_SECONDS old).
 */
export function stateTtlSeconds(defaultSeconds: number, retentionSeconds: number, marginSeconds = 0): number {
  return Math.max(defaultSeconds, retentionSeconds + marginSeconds);
}

/** False when the environment says the stack has no aggregates stream (aggregatesFeed). */
export function aggregatesFeedOn(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[aggregatesFeed.env] !== aggregatesFeed.off;
}

/**
 * How the tables whose traffic grows with events (tx-state, lake-seen, aggregates, the aggregator's
 * journal) are billed: `-c sdp:tableCapacity=on-demand` (the default: per request, nothing idle) or
 * `provisioned` (per capacity unit-hour, with Application Auto Scaling target tracking on reads
 * and writes between `minCapacity` and `-c sdp:maxTableCapacity=N`). On-demand bills "$0.625 per
 * million write request units"; provisioned "$0.00065/WCU/hr" (schemas/prices.ts): a write unit
 * used every second of an hour costs $0.00225 on demand and $0.00065 provisioned, $0.00093 at 70 %
 * utilization, so steady traffic pays about 40 % of on-demand. Auto scaling follows traffic, it
 * does not anticipate it: "auto scaling triggers when your consumed capacity breaches the
 * configured target utilization for two consecutive minutes" (DynamoDB developer guide,
 * provisioned capacity mode), so a burst above the capacity is throttled until it has caught up:
 * the handlers retry throttled writes (the SDK, then the batch), which delays events, never loses
 * or doubles them (a batch throttled past its retries is dead-lettered, and redriven exactly once).
 * `maxCapacityQuota` is DynamoDB's default table-level throughput quota (the same guide: "to scale
 * beyond the table-level read and write throughput limit of 40,000 ... you can request a quota
 * increase"), the largest maximum accepted here.
 */
export const tableCapacity = {
  context: 'sdp:tableCapacity',
  maxContext: 'sdp:maxTableCapacity',
  modes: ['on-demand', 'provisioned'] as const,
  targetUtilizationPercent: 70,
  minCapacity: 1,
  defaultMaxCapacity: 4000,
  maxCapacityQuota: 40_000,
} as const;

export type TableCapacityMode = (typeof tableCapacity.modes)[number];

/** The aggregator's batching window, `cdk deploy -c sdp:reportsBatchingWindowSeconds=N` (settings.reportsBatchingWindowSeconds). */
export const reportsWindowContext = 'sdp:reportsBatchingWindowSeconds';
/** The alarm topic under a customer managed key ($1 a month), `-c sdp:alarmTopicKey=true`. */
export const alarmTopicKeyContext = 'sdp:alarmTopicKey';
/** The CloudWatch dashboard ($3 a month at list price), on unless `-c sdp:dashboard=false`. */
export const dashboardContext = 'sdp:dashboard';
/** `-c sdp:pipelines=adtech,telemetry`: the pipelines the stack runs, shipped names or pipeline files (schemas/active-pipeline.ts). */
export const pipelinesContext = 'sdp:pipelines';

/**
 * Every context value the stack reads (`cdk deploy -c key=value`), with what it changes: the
 * deploy options. `sdp cost -c key=value` prices the stack synthesized with them and refuses a key
 * not listed here (the stack would ignore it, and the bill would not change).
 */
export const deployOptions: Readonly<Record<string, string>> = {
  [aggregatesFeed.context]: 'true: the aggregates stream (a feed of every row revision) and the lake\'s aggregates table',
  [streamRetention.context]: `hours the events stream keeps records (${streamRetention.minHours}..${streamRetention.maxHours}): the window to redrive a dead-lettered batch`,
  [tableCapacity.context]: `${tableCapacity.modes.join(' or ')}: how the state tables are billed`,
  [tableCapacity.maxContext]: 'the auto scaling maximum of provisioned tables, per table and dimension',
  [reportsWindowContext]: 'seconds the aggregator gathers records per batch (0..300): fewer row writes, later reports',
  [alarmTopicKeyContext]: 'true: the alarm topic under a customer managed key',
  [dashboardContext]: 'false: no CloudWatch dashboard',
  [pipelinesContext]: 'the pipelines the stack runs, comma-separated shipped names (adtech, telemetry) or pipeline files (default adtech)',
};

export const tables = {
  /**
   * The aggregator's state per (aggregation, join key), or per (aggregation, event identity) for an
   * aggregation without a join: which events were seen, their times and measured values, the root's
   * group (lambdas/aggregator/plan.ts AggState). The name is historical (it began as per-auction state).
   */
  txState: {
    name: 'tx-state',
    env: 'TX_STATE_TABLE_NAME',
    partitionKey: { name: 'state_key', type: 'S' },
    ttlAttribute: 'expires_at',
  },
  /** One row per (aggregation, group, window): the measures the reports read (schemas/aggregates.ts). */
  aggregates: {
    name: 'aggregates',
    env: 'AGGREGATES_TABLE_NAME',
    partitionKey: { name: 'group', type: 'S' },
    sortKey: { name: 'period', type: 'N' },
  },
  /**
   * Per identity value, which events (of which streams) the lake writer has written, so each lands
   * in the lake once (lambdas/lake-writer/select.ts). The key attribute keeps its first name, `tx_id`
   * (adtech's identity): renaming it would replace the deployed table.
   */
  lakeSeen: {
    name: 'lake-seen',
    env: 'LAKE_SEEN_TABLE_NAME',
    partitionKey: { name: 'tx_id', type: 'S' },
    ttlAttribute: 'expires_at',
  },
  /**
   * Per shard: the aggregator's journal of the batch it is applying (its range and the rows it
   * touches), and, for every batch abandoned to the dead-letter destination, the evidence of how
   * much of it reached the rows: what `sdp dlq redrive` needs to replay it without counting twice.
   */
  aggregatorJournal: {
    name: 'aggregator-journal',
    env: 'AGGREGATOR_JOURNAL_TABLE_NAME',
    partitionKey: { name: 'shard_id', type: 'S' },
    sortKey: { name: 'entry', type: 'S' },
    ttlAttribute: 'expires_at',
  },
  /** One item per scheduled job that must not overlap itself (compaction): who runs it, until when (lambdas/commons/job-lease.ts). */
  jobLeases: {
    name: 'job-leases',
    env: 'JOB_LEASES_TABLE_NAME',
    partitionKey: { name: 'job', type: 'S' },
    ttlAttribute: 'expires_at',
  },
} as const satisfies Record<string, TableDef>;

/** The bid-win model's endpoint (SageMaker in AWS, the local model server locally). */
export const modelEndpoint = {
  name: 'sdp-bid-win',
  env: 'MODEL_ENDPOINT_NAME',
  /** The endpoint's one production variant (its CloudWatch metrics' VariantName dimension). */
  variantName: 'AllTraffic',
} as const;

/**
 * The model registry, in the lake bucket: `models/<version>/model.json` and `metrics.json` for
 * every trained model, `models/current.json` naming the deployed one (with its metrics and the
 * quality gate's decision).
 */
export const modelRegistry = { prefix: 'models/', current: 'models/current.json' } as const;

/**
 * The one metric (namespace sdp, dimension service=lake) that both the lake writer (stream records it
 * cannot decode, written under errors/) and compaction (lake files it cannot read, left in place)
 * publish besides their own, so one alarm (lib/observability.ts, UnreadableData) reads one metric.
 */
export const unreadableDataMetric = { name: 'UnreadableData', service: 'lake' } as const;

/** The lake bucket: raw and Parquet files, models; LAKE_BUCKET_NAME holds its real name. */
export const lakeBucket = { name: 'sdp-lake', env: 'LAKE_BUCKET_NAME' } as const;

/**
 * Stack outputs that name the deployed resources, by the environment variable a handler reads
 * them from: commands that run handler code against a deployed stack (sdp dlq redrive --aws) set
 * their environment from `cdk deploy --outputs-file`. A stack without the aggregates feed has no
 * AggregatesStreamName but the output AggregatesFeed, `off` (feedOutput).
 */
export const resourceOutputs = {
  EventsStreamName: streams.events.env,
  AggregatesStreamName: streams.aggregates.env,
  TxStateTableName: tables.txState.env,
  AggregatesTableName: tables.aggregates.env,
  AggregatorJournalTableName: tables.aggregatorJournal.env,
  LakeSeenTableName: tables.lakeSeen.env,
  LakeBucketName: lakeBucket.env,
} as const;

/** The stack output that says whether the aggregates feed exists (absent in stacks older than the option: they have it). */
export const feedOutput = { key: 'AggregatesFeed', env: aggregatesFeed.env } as const;

/** Settings handlers read from their environment, with their defaults. */
export const settings = {
  aggregationPeriodSeconds: { env: 'AGGREGATION_PERIOD_SECONDS', default: 60 },
  /** How long the aggregator's state is kept after its last event (DynamoDB TTL). */
  txStateTtlSeconds: { env: 'TX_STATE_TTL_SECONDS', default: 7 * 24 * 3600 },
  /**
   * How long the lake writer's record of an event (lake-seen) is kept after it is written
   * (DynamoDB TTL). Never shorter than eventsStreamRetentionSeconds: a replay of the stream must
   * find the record of every event it re-reads (checked at synth, lib/lake-writer.ts). 8 days: a
   * resend of an event up to MAX_EVENT_AGE_SECONDS (7 days) old still finds it, with a day to spare
   * so a resend arriving within a day of the first copy's write needs no refresh of the record
   * (lambdas/lake-writer/select.ts). A longer stream retention (streamRetention) raises it to a day
   * past the retention (stateTtlSeconds); never lower.
   */
  lakeSeenTtlSeconds: { env: 'LAKE_SEEN_TTL_SECONDS', default: 8 * 24 * 3600 },
  /**
   * How long the lake writer gathers a shard's records before it writes them (its event source
   * mapping's MaximumBatchingWindowInSeconds; the local poller honours the same value): the lake
   * is this much staler than the stream, as behind Firehose's buffering, and in exchange each
   * batch is half a minute of traffic, not a second. Each batch PUTs a raw and a Parquet file per
   * table and partition (~10 objects), so at 1 s batches a shard costs ~10 S3 PUTs a second,
   * $130 a month at "$0.005 per 1,000 requests" (S3 pricing, PUT, COPY, POST, LIST), whatever the
   * traffic; at 30 s about $4 (docs/cost-design.md). Not longer: the lake must be readable within
   * the minute that `sdp audit --wait` and a user's first query allow (the README's walkthrough
   * runs with this default). A batch still ends early when it is full (lakeWriterMapping.batchSize)
   * or reaches Lambda's 6 MB payload. Lambda: "You can configure MaximumBatchingWindowInSeconds to
   * any value from 0 seconds to 300 seconds in increments of seconds."
   */
  lakeBatchingWindowSeconds: { env: 'LAKE_BATCHING_WINDOW_SECONDS', default: 30 },
  /**
   * How long the aggregator's event source mapping gathers a shard's records before it invokes
   * (MaximumBatchingWindowInSeconds; `cdk deploy -c sdp:reportsBatchingWindowSeconds=N`, the local
   * poller reads this variable). 0, the default: Lambda reads each shard about once a second and
   * invokes with what it read, so reports are about a second behind the API. Each batch updates
   * every (campaign, window) row it touches once, so the row writes a shard costs are about one per
   * touched row per batch whatever the traffic: a window of N seconds divides them (and the
   * journal's two writes per batch) by about N, and adds up to N seconds to every report's
   * freshness. Lambda: "You can configure MaximumBatchingWindowInSeconds to any value from 0
   * seconds to 300 seconds in increments of seconds."
   */
  reportsBatchingWindowSeconds: { env: 'REPORTS_BATCHING_WINDOW_SECONDS', default: 0 },
  /**
   * How long the events stream keeps a record (its retention period): how far back a replay (a
   * redrive, a reset checkpoint) reaches. 24 hours by default, the retention the shard price
   * includes; longer with `-c sdp:streamRetentionHours=N` (streamRetention), billed per shard-hour.
   */
  eventsStreamRetentionSeconds: { env: 'EVENTS_STREAM_RETENTION_SECONDS', default: 24 * 3600 },
  /** A client timestamp further in the future than this is not plausible; received_at is used. */
  maxClockSkewSeconds: { env: 'MAX_CLOCK_SKEW_SECONDS', default: 300 },
  /** An event arriving later than this after its event time is counted as late, not in its window. */
  allowedLatenessSeconds: { env: 'ALLOWED_LATENESS_SECONDS', default: 3600 },
  /** Held-out AUC a newly trained bid-win model must reach to be deployed. */
  modelAucFloor: { env: 'MODEL_AUC_FLOOR', default: 0.6 },
  /** Scheduled retraining runs only when at least this many auctions arrived since the last one. */
  retrainMinNewAuctions: { env: 'RETRAIN_MIN_NEW_AUCTIONS', default: 1000 },
  /** A client timestamp older than this is not plausible; received_at is used. */
  maxEventAgeSeconds: { env: 'MAX_EVENT_AGE_SECONDS', default: 7 * 24 * 3600 },
} as const;

export type SettingName = keyof typeof settings;

/** Reads a numeric setting from the environment, falling back to its default; rejects nonsense. */
export function readSetting(name: SettingName, env: NodeJS.ProcessEnv = process.env): number {
  const def = settings[name];
  const raw = env[def.env];
  if (raw === undefined || raw === '') return def.default;
  const value = Number(raw);
  const zeroAllowed = def.default === 0;
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed)) {
    throw new Error(`${def.env} must be a ${zeroAllowed ? 'non-negative' : 'positive'} number, got "${raw}"`);
  }
  return value;
}

/** Reads the real name of a stream or table from the environment (set by CDK or the local runtime). */
export function resourceName(def: StreamDef | TableDef, env: NodeJS.ProcessEnv = process.env): string {
  return env[def.env] || def.name;
}

/**
 * Event source mapping settings for the lake writer. No bisect and no partial batch responses:
 * a failed batch is retried whole, with the same records, so it rewrites the same files. The
 * batching window is settings.lakeBatchingWindowSeconds (its default in AWS; the local platform
 * reads its environment, local/platform.ts).
 */
export const lakeWriterMapping = {
  batchSize: 5000,
  maxBatchingWindowSeconds: settings.lakeBatchingWindowSeconds.default,
  bisectBatchOnError: false,
  reportBatchItemFailures: false,
  retryAttempts: 10,
  parallelizationFactor: 1,
} as const;

/** How long one aggregator invocation may run (the Lambda function's timeout). */
export const aggregatorTimeoutSeconds = 60;

/**
 * Event source mapping settings for the aggregator, shared by CDK and the local poller. No
 * batching window: Lambda reads each shard about once a second and invokes with what it read, so a
 * window would only add its length to every report's freshness (goal p99 ≤ 2 s). The local poller,
 * which reads far more often than once a second, collects batches for at least 250 ms instead
 * (local/consumer-worker.ts). Up to 3,000 records a batch: a batch writes each touched
 * (campaign, window) row once, so a backlog drains with fewer row updates than at 1,000 (they
 * halved; `npm run bench -- pipeline`, 3 alternating pairs: 5,188 → 5,923 events/s, medians); a
 * shard in step with its writers (1,000 records/s at most) gives smaller batches anyway.
 */
export const aggregatorMapping = {
  batchSize: 3000,
  maxBatchingWindowSeconds: 0,
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
  retryAttempts: 10,
  parallelizationFactor: 1,
} as const;
