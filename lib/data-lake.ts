// The lake bucket (raw and Parquet files by event time; schemas/lake.ts says where) with its lifecycle, the access-log bucket, and the object grants lake handlers get on raw/ and parquet/ only.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LAKE_PREFIXES } from '../schemas/lake';

/** The prefixes of the lake's tables: `raw` and `parquet`. */
export const LAKE_DATA_PREFIXES: readonly string[] = Object.values(LAKE_PREFIXES);

/**
 * The S3 actions each kind of lake access allows, spelled out (no wildcard actions). `list` is
 * s3:ListBucket, which also makes a missing key answer 404 instead of 403.
 */
export const LAKE_ACCESS_ACTIONS = {
  list: ['s3:ListBucket'],
  read: ['s3:GetObject'],
  put: ['s3:PutObject'],
  delete: ['s3:DeleteObject'],
} as const;
export type LakeAccess = keyof typeof LAKE_ACCESS_ACTIONS;

export interface DataLakeProps {
  /**
   * Age at which raw/ files move to S3 Glacier Instant Retrieval: still readable by Athena and the
   * lake tools in milliseconds, at a fraction of the storage price. It is 90 days by default, the
   * storage class's minimum billable duration, and well past compaction (which rewrites only partitions
   * closed for the allowed lateness). @default Duration.days(90)
   */
  readonly rawTransitionAfter?: Duration;
  /**
   * Age at which raw/ files are deleted. The Parquet copy keeps every row, but raw JSON is the
   * only copy of fields the typed tables leave out, so this is opt-in. @default never
   */
  readonly rawExpiration?: Duration;
  /**
   * How long an overwritten or deleted lake file stays recoverable as a noncurrent version.
   * Compaction deletes files on purpose; this is the window to undo a bad run. @default Duration.days(7)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /** @default Duration.days(90) */
  readonly accessLogsExpiration?: Duration;
  /** @default RemovalPolicy.RETAIN: the lake is the platform's long-term record */
  readonly removalPolicy?: RemovalPolicy;
  /** Overrides for the lake bucket (applied last). */
  readonly bucketProps?: Partial<s3.BucketProps>;
}

export class DataLake extends Construct {
  /** The lake: `raw/<table>/dt=…/hour=…/` and `parquet/<table>/dt=…/hour=…/`. */
  public readonly bucket: s3.Bucket;
  /** Server access logs of the lake bucket and of the platform's other buckets. */
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataLakeProps = {}) {
    super(scope, id);
    // Log delivery through a bucket policy for logging.s3.amazonaws.com, scoped to the source
    // bucket, instead of the legacy LogDeliveryWrite ACL (which needs ACLs enabled on the bucket).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // Server access log delivery supports SSE-S3 only on the target bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: props.accessLogsExpiration ?? Duration.days(90) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
    // cdk-nag's S1 exempts a bucket that receives other buckets' access logs: no acknowledgement.

    const rawPrefix = `${LAKE_PREFIXES.raw}/`;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // SSE-S3, not KMS: every object is encrypted at rest either way, but with a KMS key every
      // reader and writer (Athena users, the lake handlers, exports) would need grants on the key,
      // and every put and get of the writer's many small files would be a billed KMS request.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // Versioned, so a file that compaction (or a bad deploy) deletes or overwrites can be restored
      // for noncurrentVersionExpiration; older versions expire, so retries and compaction cost little.
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
        {
          id: 'raw-to-glacier-ir',
          prefix: rawPrefix,
          transitions: [
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: props.rawTransitionAfter ?? Duration.days(90),
            },
          ],
          ...(props.rawExpiration ? { expiration: props.rawExpiration } : {}),
        },
      ],
      removalPolicy,
      ...props.bucketProps,
    });
  }
}

/**
 * Lets a lake handler take the given kinds of access under the given prefixes (by default raw/ and
 * parquet/) and nothing else in the bucket. Object actions are granted on `<prefix>/*`; listing on
 * the bucket with an s3:prefix condition on the same patterns.
 */
export function grantLakeObjects(
  bucket: s3.Bucket,
  grantee: iam.IGrantable,
  access: readonly LakeAccess[],
  prefixes: readonly string[] = LAKE_DATA_PREFIXES,
): void {
  const patterns = prefixes.map((p) => `${p}/*`);
  const objectActions = access.filter((a) => a !== 'list').flatMap((a) => LAKE_ACCESS_ACTIONS[a]);
  if (objectActions.length > 0) {
    for (const pattern of patterns) bucket.grants.actionsOnObjectKeys(grantee, pattern, ...objectActions);
    const principal = grantee.grantPrincipal;
    if (principal instanceof Construct) {
      const bucketId = Stack.of(bucket).resolve((bucket.node.defaultChild as s3.CfnBucket).logicalId) as string;
      for (const pattern of patterns) {
        Validations.of(principal).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${pattern}]`,
          reason: `Object actions (${objectActions.join(', ')}) under one lake prefix only: the handler's files are named per table, event-time partition and batch, keys it cannot know in advance.`,
        });
      }
    }
  }
  if (access.includes('list')) {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...LAKE_ACCESS_ACTIONS.list],
      resourceArns: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': patterns } },
    });
  }
}

export interface DisposableBucketProps {
  /** Where the bucket's access logs go; without one, cdk-nag S1 is acknowledged with `unloggedReason`. */
  readonly accessLogsBucket?: s3.IBucket;
  readonly accessLogsPrefix: string;
  readonly expiration: Duration;
  /** Id of the lifecycle rule that expires the copies. */
  readonly expirationRuleId: string;
  readonly removalPolicy: RemovalPolicy;
  /** Why the bucket may go without access logs when no log bucket is given. */
  readonly unloggedReason: string;
}

/**
 * A bucket of disposable copies (query results, training sets): encrypted, private, TLS-only,
 * unversioned, its objects expiring, incomplete uploads aborted after a day, access logged.
 */
export function disposableBucket(scope: Construct, id: string, props: DisposableBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    versioned: false,
    serverAccessLogsBucket: props.accessLogsBucket,
    serverAccessLogsPrefix: props.accessLogsBucket ? props.accessLogsPrefix : undefined,
    lifecycleRules: [
      { id: props.expirationRuleId, expiration: props.expiration },
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
    removalPolicy: props.removalPolicy,
  });
  if (!props.accessLogsBucket) Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: props.unloggedReason });
  return bucket;
}
