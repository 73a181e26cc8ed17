/**
 * AWS list prices that `sdp cost` (local/cost/) bills the stack's template with: us-east-1, USD,
 * on-demand, no free tier (the free tiers are left out on purpose: a bill that is only small in an
 * account's first year, or below an account-wide allowance, says nothing about the design).
 *
 * Each price names the page it comes from, the day it was read and what was read there. Several
 * AWS pricing pages render their tables in the browser, so the stored copy of the page lacks the
 * figure; the source then says where the figure was read instead (a third-party copy of AWS's own
 * table, or an AWS whitepaper), and `note` says so. Change a figure here only with its source.
 */

export interface Price {
  /** Dollars per `unit`. */
  readonly usd: number;
  readonly unit: string;
  /** Where the figure was read. */
  readonly source: string;
  /** The day it was read (YYYY-MM-DD). */
  readonly read: string;
  /** What the source says, quoted or closely paraphrased. */
  readonly quote: string;
  readonly note?: string;
}

/** A price by volume tier: `upTo` is the tier's upper bound in the price's unit per month (Infinity for the last). */
export interface Tier {
  readonly upTo: number;
  readonly usd: number;
}

export interface TieredPrice extends Omit<Price, 'usd'> {
  readonly tiers: readonly Tier[];
}

const READ = '2026-12-05';

const KINESIS = 'https://aws.amazon.com/kinesis/data-streams/pricing/';
const KINESIS_NOTE = "the stored copy of AWS's page explains the units but its price table is rendered in the browser; the figure is AWS's published us-east-1 rate as copied by the source named in `quote`";
const DYNAMODB = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const DYNAMODB_PROVISIONED = 'https://aws.amazon.com/dynamodb/pricing/provisioned/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const APIGW = 'https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';
const S3 = 'https://aws.amazon.com/s3/pricing/';

export const prices = {
  region: 'us-east-1',
  currency: 'USD',
  /** Hours in the month every hourly price is multiplied by (AWS's own calculator uses 730). */
  hoursPerMonth: 730,
  kinesis: {
    shardHour: {
      usd: 0.015, unit: 'shard-hour', source: KINESIS, read: READ, note: KINESIS_NOTE,
      quote: 'Provisioned: "You are charged for each shard at an hourly rate"; us-east-1 $0.015 per shard-hour (kindatechnical.com/aws-kinesis lesson 29: "5 shards * 24 hours * $0.015")',
    },
    putPayloadUnits: {
      usd: 0.014 / 1e6, unit: 'PUT payload unit (25 KB of a record)', source: 'http://aws.amazon.com/kinesis/pricing/', read: READ, note: KINESIS_NOTE,
      quote: '"A PUT Payload Unit is counted in 25KB payload chunks that comprise a record. For example, a 5KB record contains one PUT Payload Unit"; us-east-1 $0.014 per 1,000,000 PUT payload units',
    },
    extendedRetentionShardHour: {
      usd: 0.02, unit: 'shard-hour of retention beyond 24 h (up to 7 days)', source: KINESIS, read: READ, note: KINESIS_NOTE,
      quote: '"Extended data retention (beyond the first 24 hours and within the first seven days)" is charged extra; provisioned us-east-1 $0.020 per shard-hour',
    },
    onDemandStreamHour: {
      usd: 0.04, unit: 'stream-hour', source: KINESIS, read: READ, note: KINESIS_NOTE,
      quote: '"You\'re also charged for each stream operating in the on-demand capacity mode in your account at an hourly rate"; us-east-1 $0.04 per stream-hour',
    },
    onDemandDataInGb: {
      usd: 0.08, unit: 'GB written (records rounded up to 1 KB)', source: KINESIS, read: READ, note: KINESIS_NOTE,
      quote: '"Data-In ... is calculated as the number of data records you send to the service, multiplied by the size of each record rounded up to the nearest 1 KB"; us-east-1 $0.08 per GB',
    },
    onDemandDataOutGb: {
      usd: 0.04, unit: 'GB read (per consumer)', source: KINESIS, read: READ, note: KINESIS_NOTE,
      quote: 'on-demand "pricing is based on the volume of data ingested and retrieved"; us-east-1 $0.04 per GB retrieved',
    },
    onDemandExtendedRetentionGbMonth: {
      usd: 0.1, unit: 'GB-month retained beyond 24 h', source: KINESIS, read: READ, note: KINESIS_NOTE,
      quote: 'on-demand extended retention (up to 7 days) us-east-1 $0.10 per GB-month',
    },
  },
  dynamodb: {
    writeRequestUnits: {
      usd: 0.625 / 1e6, unit: 'write request unit (1 KB of item written)', source: 'https://airbyte.com/data-engineering-resources/dynamodb-pricing', read: READ,
      quote: '"After the 50% reduction implemented in late 2024: Write Request Units (WRU): $0.625 per million write request units" (US East); AWS: "One write request unit represents one write for an item up to 1 KB in size"',
      note: `AWS's own page (${DYNAMODB}) is not in the store; the November 2024 on-demand price cut halved the earlier $1.25 per million`,
    },
    readRequestUnits: {
      usd: 0.125 / 1e6, unit: 'read request unit (4 KB of item read, strongly consistent; eventually consistent reads take half)', source: 'https://airbyte.com/data-engineering-resources/dynamodb-pricing', read: READ,
      quote: '"Read Request Units (RRU): $0.125 per million read request units" (US East, after the late-2024 reduction); a read unit is one strongly consistent read (or two eventually consistent) of up to 4 KB',
      note: `AWS's own page (${DYNAMODB}) is not in the store`,
    },
    provisionedWcuHour: {
      usd: 0.00065, unit: 'provisioned write capacity unit-hour (one 1 KB write per second)', source: 'https://zeonedge.com/en/blog/dynamodb-cost-optimization-on-demand-provisioned-dax-single-table', read: READ,
      quote: '"Provisioned charges per hour for reserved capacity — $0.00065/WCU/hr and $0.00013/RCU/hr"; AWS: "For items up to 1 KB in size, one WCU can perform one standard write request per second"',
      note: `AWS's provisioned pricing page (${DYNAMODB_PROVISIONED}) is in the store but renders its price table in the browser; it says what a unit buys and that "You can use auto scaling to automatically adjust your table's capacity based on the specified utilization rate". Other copies of the us-east-1 rate agree: "$0.00065 per WCU-hour (~$0.47 per WCU-month)"`,
    },
    provisionedRcuHour: {
      usd: 0.00013, unit: 'provisioned read capacity unit-hour (one strongly consistent 4 KB read per second)', source: 'https://zeonedge.com/en/blog/dynamodb-cost-optimization-on-demand-provisioned-dax-single-table', read: READ,
      quote: '"Provisioned charges per hour for reserved capacity — $0.00065/WCU/hr and $0.00013/RCU/hr"; AWS: "For items up to 4 KB in size, one RCU can perform one strongly consistent read request per second"',
      note: `AWS's provisioned pricing page (${DYNAMODB_PROVISIONED}) renders its price table in the browser; other copies of the us-east-1 rate agree: "$0.00013 per RCU-hour (~$0.09 per RCU-month)"`,
    },
    storageGbMonth: {
      usd: 0.25, unit: 'GB-month of table storage', source: DYNAMODB, read: READ,
      quote: 'Standard table class data storage: $0.25 per GB-month (after the first 25 GB free, not applied here)',
      note: 'figure from AWS\'s published us-east-1 rate; the page is not in the store',
    },
    pitrGbMonth: {
      usd: 0.2, unit: 'GB-month of continuous backups (point-in-time recovery)', source: DYNAMODB, read: READ,
      quote: 'Continuous backups (PITR): $0.20 per GB-month',
      note: 'figure from AWS\'s published us-east-1 rate; the page is not in the store',
    },
  },
  lambda: {
    requests: {
      usd: 0.2 / 1e6, unit: 'invocation', source: LAMBDA, read: READ,
      quote: '"Lambda counts a request each time it starts executing in response to an event notification trigger ... or an invoke call, such as from Amazon API Gateway"; $0.20 per 1M requests',
    },
    gbSecondX86: {
      usd: 0.0000166667, unit: 'GB-second (x86_64)', source: 'https://cloudchipr.com/blog/aws-lambda-pricing', read: READ,
      quote: '"x86 Pricing - First 6 Billion GB-seconds per month: $0.0000166667 per GB-second" (US East (N. Virginia))',
    },
    gbSecondArm64: {
      usd: 0.0000133334, unit: 'GB-second (arm64)', source: 'https://cloudchipr.com/blog/aws-lambda-pricing', read: READ,
      quote: '"ARM Pricing - First 7.5 Billion GB-seconds per month: $0.0000133334 per GB-second" (US East (N. Virginia))',
    },
  },
  apiGateway: {
    restRequests: {
      unit: 'REST API request', source: APIGW, read: READ,
      quote: '"REST ... API calls: First 333 million requests (per month): $3.50 (per million); Next 667 million requests (per month): $2.80 (per million); Next 19 billion requests (per month): $2.38 (per million); Over 20 billion requests (per month): $1.51 (per million)"',
      tiers: [
        { upTo: 333e6, usd: 3.5 / 1e6 },
        { upTo: 1000e6, usd: 2.8 / 1e6 },
        { upTo: 20000e6, usd: 2.38 / 1e6 },
        { upTo: Infinity, usd: 1.51 / 1e6 },
      ],
    } satisfies TieredPrice,
    httpRequests: {
      unit: 'HTTP API request (512 KB metered increments)', source: APIGW, read: READ,
      quote: '"HTTP ... API calls (us-east-1): First 300 million requests (per month): $1.00 (per million); 300+ million requests (per month): $0.90 (per million). HTTP APIs are metered in 512 KB increments."',
      tiers: [
        { upTo: 300e6, usd: 1 / 1e6 },
        { upTo: Infinity, usd: 0.9 / 1e6 },
      ],
    } satisfies TieredPrice,
  },
  cloudwatch: {
    alarmMetric: {
      usd: 0.1, unit: 'standard-resolution alarm metric-month', source: 'https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm', read: READ,
      quote: '"$0.10/alarm-month for standard resolution"; AWS bills alarms per metric ("10 Alarm metrics" free tier, aws.amazon.com/cloudwatch/pricing/), so a metric-math alarm costs $0.10 for each metric it reads',
    },
    highResolutionAlarmMetric: {
      usd: 0.3, unit: 'high-resolution alarm metric-month', source: 'https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm', read: READ,
      quote: '"High-resolution alarms (10s) cost $0.30/month"',
    },
    dashboard: {
      usd: 3, unit: 'dashboard-month', source: 'https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards.md', read: READ,
      quote: '"dashboards at $3 each" (AWS\'s free tier: "3 Dashboards for up to 50 metrics per month", not applied here)',
    },
    customMetric: {
      usd: 0.3, unit: 'custom metric-month', source: 'https://signoz.io/guides/cloudwatch-pricing', read: READ,
      quote: '"Each unique combination of metric name, namespace, and dimension values counts as a separate billable metric, at $0.30/month for the first 10,000"',
    },
    logsIngestedGb: {
      usd: 0.5, unit: 'GB of logs ingested (standard class)', source: 'https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards.md', read: READ,
      quote: '"Logs ingestion at $0.50/GB"',
    },
    logsStoredGbMonth: {
      usd: 0.03, unit: 'GB-month of logs archived', source: CLOUDWATCH, read: READ,
      quote: 'Logs: store (archive) $0.03 per GB (us-east-1)',
      note: 'the stored copy of the page lists the dimensions; the figure is AWS\'s published us-east-1 rate',
    },
  },
  kms: {
    keyMonth: {
      usd: 1, unit: 'customer managed key-month', source: 'https://aws.amazon.com/kms/pricing/', read: READ,
      quote: '"Each AWS KMS key that you create in KMS costs $1/month." Automatic rotation adds $1/month per newly generated backing key (from the first rotation, a year on)',
    },
    requests: {
      usd: 0.03 / 1e4, unit: 'symmetric request', source: 'https://www.wring.co/blog/aws-kms-pricing-guide', read: READ,
      quote: '"API requests are $0.03 per 10,000 after the 20,000 free monthly requests"',
    },
  },
  s3: {
    storageGbMonth: {
      usd: 0.023, unit: 'GB-month (S3 Standard, first 50 TB)', source: S3, read: READ,
      quote: 'S3 Standard: first 50 TB / month $0.023 per GB',
      note: "AWS's published us-east-1 rate; the page is not in the store",
    },
    putRequests: {
      usd: 0.005 / 1000, unit: 'PUT, COPY, POST or LIST request', source: S3, read: READ,
      quote: 'PUT, COPY, POST, LIST requests (per 1,000 requests): $0.005',
      note: "AWS's published us-east-1 rate; the page is not in the store",
    },
    getRequests: {
      usd: 0.0004 / 1000, unit: 'GET or SELECT request (and all other requests)', source: S3, read: READ,
      quote: 'GET, SELECT, and all other requests (per 1,000 requests): $0.0004',
      note: "AWS's published us-east-1 rate; the page is not in the store",
    },
  },
  sqs: {
    requests: {
      usd: 0.4 / 1e6, unit: 'standard queue request (64 KB chunk)', source: 'https://aws.amazon.com/sqs/pricing/', read: READ,
      quote: 'Standard queue: $0.40 per million requests (after the first million free)',
      note: "AWS's published us-east-1 rate; the page is not in the store",
    },
  },
  sns: {
    publishes: {
      usd: 0.5 / 1e6, unit: 'publish (64 KB chunk)', source: 'https://aws.amazon.com/sns/pricing/', read: READ,
      quote: 'Standard topics: first 1 million requests/month free, then $0.50 per 1 million; email notifications $2.00 per 100,000',
      note: "AWS's published us-east-1 rate; the page is not in the store",
    },
  },
  glue: {
    catalogObjectMonth: {
      usd: 1 / 100_000, unit: 'Data Catalog object-month (database, table, partition)', source: 'https://aws.amazon.com/glue/pricing/', read: READ,
      quote: 'Data Catalog storage: free for the first million objects stored, then $1.00 per 100,000 objects per month',
      note: "AWS's published us-east-1 rate; the page is not in the store. Partition projection keeps partitions out of the catalog",
    },
  },
  athena: {
    scannedTb: {
      usd: 5, unit: 'TB scanned (SQL queries, 10 MB minimum per query)', source: 'https://aws.amazon.com/athena/pricing/', read: READ,
      quote: 'SQL queries: $5.00 per TB of data scanned',
      note: "AWS's published us-east-1 rate; the page is not in the store",
    },
  },
  stepFunctions: {
    standardTransitions: {
      usd: 0.025 / 1000, unit: 'state transition (standard workflow)', source: 'https://aws.amazon.com/step-functions/pricing/', read: READ,
      quote: 'Standard workflows: $0.025 per 1,000 state transitions (after 4,000 free)',
      note: "AWS's published us-east-1 rate; the page is not in the store",
    },
  },
  sagemaker: {
    /** Training instance-hours, by instance type. */
    trainingInstanceHour: {
      'ml.m5.large': {
        usd: 0.115, unit: 'ml.m5.large training instance-hour (billed per second)', source: 'https://randeepbhatia.com/courses/aws-serverless-ml/sagemaker-serverless', read: READ,
        quote: '"Hourly instance pricing: $0.115/hour for ml.m5.large and up"; lib/retraining.ts quotes the same ("≈ $0.115/hour, billed per second")',
      },
      'ml.m5.xlarge': {
        usd: 0.23, unit: 'ml.m5.xlarge training instance-hour (billed per second)', source: 'https://aws.amazon.com/sagemaker/pricing/', read: READ,
        quote: 'ml.m5.xlarge training $0.23 per hour',
        note: "AWS's published us-east-1 rate; the page is not in the store",
      },
    } as Record<string, Price>,
    serverlessInferenceGbSecond: {
      usd: 0.00002, unit: 'GB-second of serverless inference (configured memory × duration)', source: 'https://aws.amazon.com/sagemaker/pricing/', read: READ,
      quote: 'Serverless Inference: billed per second of compute at the configured memory; $0.0000200 per second for 1024 MB (scales with memory: 2048 MB $0.0000400/s)',
      note: "AWS's published us-east-1 rate; the page is not in the store",
    },
    serverlessInferenceDataGb: {
      usd: 0.016, unit: 'GB processed in and out', source: 'https://aws.amazon.com/sagemaker/pricing/', read: READ,
      quote: 'Serverless Inference data processing: $0.016 per GB in and out',
      note: "AWS's published us-east-1 rate; the page is not in the store",
    },
  },
  cloudfront: {
    dataOutGb: {
      usd: 0.085, unit: 'GB to the internet (first 10 TB, North America)', source: 'https://aws.amazon.com/cloudfront/pricing/', read: READ,
      quote: 'Pay-as-you-go: first 10 TB per month $0.085 per GB (United States, Mexico, Canada)',
      note: "AWS's published rate; the page is not in the store. A distribution costs nothing idle",
    },
    httpsRequests: {
      usd: 0.01 / 10_000, unit: 'HTTPS request', source: 'https://aws.amazon.com/cloudfront/pricing/', read: READ,
      quote: 'HTTPS requests: $0.0100 per 10,000',
      note: "AWS's published rate; the page is not in the store",
    },
  },
  eventBridge: {
    scheduledRule: {
      usd: 0, unit: 'scheduled rule invocation', source: 'https://aws.amazon.com/eventbridge/pricing/', read: READ,
      quote: 'Events published by AWS services (schedules among them) are free; custom events $1.00 per million',
      note: "AWS's published rate; the page is not in the store",
    },
  },
} as const;

/** The regions the table prices: `sdp cost --region` refuses the others. */
export const pricedRegions: readonly string[] = [prices.region];

/** Dollars for `quantity` units a month of a tiered price (each tier billed at its own rate). */
export function tieredCost(price: TieredPrice, quantity: number): number {
  let left = quantity;
  let below = 0;
  let usd = 0;
  for (const tier of price.tiers) {
    const inTier = Math.min(left, tier.upTo - below);
    if (inTier <= 0) break;
    usd += inTier * tier.usd;
    left -= inTier;
    below = tier.upTo;
  }
  return usd;
}
