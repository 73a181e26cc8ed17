// The compaction Lambda and its EventBridge schedule: merges the small files of closed lake partitions under raw/ and parquet/ into larger ones, with its crash-safety manifests under compaction/.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { lakeBucket, settings, tables } from '../schemas/resources';
import { COMPACTION_PREFIX } from '../schemas/lake';
import { LAKE_DATA_PREFIXES, grantLakeObjects } from './data-lake';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';
import { tableFrom } from './state-tables';

export interface CompactionProps {
  readonly lakeBucket: s3.Bucket;
  /** How often compaction runs. @default Schedule.rate(Duration.hours(1)) */
  readonly schedule?: events.Schedule;
  /**
   * A partition is closed, and compacted, once it is older than this. May be a token.
   * @default settings.allowedLatenessSeconds.default
   */
  readonly allowedLatenessSeconds?: string;
  readonly functionProps?: Partial<HandlerFunctionProps>;
}

export class Compaction extends Construct {
  public readonly compactionFunction: HandlerFunction;
  public readonly rule: events.Rule;
  /** The lease that keeps compaction runs from overlapping (lambdas/commons/job-lease.ts). */
  public readonly leases: dynamodb.Table;

  constructor(scope: Construct, id: string, props: CompactionProps) {
    super(scope, id);
    // Leases only: nothing to keep when the stack goes.
    this.leases = tableFrom(this, 'JobLeases', tables.jobLeases, RemovalPolicy.DESTROY);

    this.compactionFunction = new HandlerFunction(this, 'Compaction', {
      handlerName: 'compaction',
      // Reads a partition's files and writes them back merged: the longest and largest Lambda allows
      // room for big partitions; a run cut short is finished by the next (compaction is idempotent).
      memorySize: 2048,
      timeout: Duration.minutes(15),
      ...props.functionProps,
      functionProps: {
        // A failed run is not retried: the next scheduled run picks up where it stopped. Runs never
        // overlap (two listing different inputs of one partition would both commit): each takes
        // the compaction lease first, instead of reserved concurrency 1, which an account cannot
        // grant while it has fewer than 100 unreserved concurrent executions (new accounts often
        // have a quota of 10).
        retryAttempts: 0,
        ...props.functionProps?.functionProps,
      },
      environment: {
        [lakeBucket.env]: props.lakeBucket.bucketName,
        [tables.jobLeases.env]: this.leases.tableName,
        [settings.allowedLatenessSeconds.env]:
          props.allowedLatenessSeconds ?? String(settings.allowedLatenessSeconds.default),
        ...props.functionProps?.environment,
      },
    });
    const fn = this.compactionFunction.lambdaFunction;
    this.leases.grant(fn, 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    // The partitions' files, and the manifests (compaction/) that make a run crash-safe.
    grantLakeObjects(props.lakeBucket, fn, ['list', 'read', 'put', 'delete'], [
      ...LAKE_DATA_PREFIXES,
      COMPACTION_PREFIX.replace(/\/$/, ''),
    ]);

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'sdp: compact the closed partitions of the lake',
      schedule: props.schedule ?? events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(fn)],
    });
  }
}
