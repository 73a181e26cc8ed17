// The compaction Lambda and its EventBridge schedule: merges the small files of closed lake partitions under raw/ and parquet/ into larger ones, with its crash-safety manifests under compaction/.
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { lakeBucket, settings } from '../schemas/resources';
import { COMPACTION_PREFIX } from '../schemas/lake';
import { LAKE_DATA_PREFIXES, grantLakeObjects } from './data-lake';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';

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

  constructor(scope: Construct, id: string, props: CompactionProps) {
    super(scope, id);

    this.compactionFunction = new HandlerFunction(this, 'Compaction', {
      handlerName: 'compaction',
      // Reads a partition's files and writes them back merged: the longest and largest Lambda allows
      // room for big partitions; a run cut short is finished by the next (compaction is idempotent).
      memorySize: 2048,
      timeout: Duration.minutes(15),
      ...props.functionProps,
      functionProps: {
        // A failed run is not retried: the next scheduled run picks up where it stopped, and no
        // retry can overlap it.
        retryAttempts: 0,
        // Two runs listing different inputs of one partition would both commit: one run at a time.
        reservedConcurrentExecutions: 1,
        ...props.functionProps?.functionProps,
      },
      environment: {
        [lakeBucket.env]: props.lakeBucket.bucketName,
        [settings.allowedLatenessSeconds.env]:
          props.allowedLatenessSeconds ?? String(settings.allowedLatenessSeconds.default),
        ...props.functionProps?.environment,
      },
    });
    const fn = this.compactionFunction.lambdaFunction;
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
