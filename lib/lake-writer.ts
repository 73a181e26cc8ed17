// The lake writer Lambda: fed by the events stream and the aggregates stream (when the stack has one) (settings from lakeWriterMapping in schemas/resources.ts), it writes raw and Parquet files under raw/ and parquet/ (undecodable records under errors/) and records what it wrote in the lake-seen table.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { lakeBucket, lakeWriterMapping, settings, stateTtlSeconds, streams, tables, type TableDef } from '../schemas/resources';
import { ERRORS_PREFIX } from '../schemas/lake';
import { LAKE_DATA_PREFIXES, grantLakeObjects } from './data-lake';
import { streamRetentionSeconds } from './data-stream';
import { deadLetterQueue } from './dead-letter-queue';
import { tableFrom, type TableCapacity } from './state-tables';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';

export interface LakeWriterProps {
  readonly lakeBucket: s3.Bucket;
  /** Read through an event source mapping: every event. */
  readonly eventsStream: kinesis.IStream;
  /** Read through a second event source mapping: every revision of every aggregate row. None (the aggregates feed off): the lake has no aggregates table. */
  readonly aggregatesStream?: kinesis.IStream;
  /** @default RemovalPolicy.RETAIN, as the platform's other tables */
  readonly removalPolicy?: RemovalPolicy;
  readonly lakeSeenProps?: Partial<dynamodb.TableProps>;
  /** How lake-seen is billed. @default on demand */
  readonly tableCapacity?: TableCapacity;
  readonly functionProps?: Partial<HandlerFunctionProps>;
  /** Overrides for both event source mappings (applied last). */
  readonly eventSourceProps?: Partial<sources.KinesisEventSourceProps>;
  readonly deadLetterQueueProps?: sqs.QueueProps;
}

export class LakeWriter extends Construct {
  public readonly lakeWriterFunction: HandlerFunction;
  /** Which events of each identity the writer has written (tables.lakeSeen), expired by TTL. */
  public readonly lakeSeen: dynamodb.Table;
  public readonly eventsSource: sources.KinesisEventSource;
  public readonly aggregatesSource?: sources.KinesisEventSource;
  /** Receives the position (shard, sequence numbers) of batches of either stream that failed every retry. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: LakeWriterProps) {
    super(scope, id);

    const def: TableDef = tables.lakeSeen;
    this.lakeSeen = tableFrom(this, 'LakeSeen', def, props.removalPolicy ?? RemovalPolicy.RETAIN, props.lakeSeenProps, props.tableCapacity);

    const environment: Record<string, string> = {
      [lakeBucket.env]: props.lakeBucket.bucketName,
      [def.env]: this.lakeSeen.tableName,
      // Tells a batch of the aggregates stream from one of the events stream (by its ARN's name).
      ...(props.aggregatesStream ? { [streams.aggregates.env]: props.aggregatesStream.streamName } : {}),
      // How long a lake-seen row outlives the write of its identity's last event.
      // Its default (8 days), or a day more than a longer retention (-c sdp:streamRetentionHours).
      [settings.lakeSeenTtlSeconds.env]: String(stateTtlSeconds(settings.lakeSeenTtlSeconds.default, streamRetentionSeconds(props.eventsStream), 24 * 3600)),
      // How long a copy of an event can still be re-read: a state must outlive it (select.ts).
      [settings.eventsStreamRetentionSeconds.env]: String(streamRetentionSeconds(props.eventsStream)),
      ...props.functionProps?.environment,
    };
    this.lakeWriterFunction = new HandlerFunction(this, 'LakeWriter', {
      handlerName: 'lake-writer',
      // A batch of up to lakeWriterMapping.batchSize records becomes Parquet and gzip in memory.
      memorySize: 1024,
      timeout: Duration.minutes(2),
      ...props.functionProps,
      environment,
    });
    const fn = this.lakeWriterFunction.lambdaFunction;
    this.node.addValidation({ validate: () => stateOutlivesStream(environment, props.eventsStream) });

    this.deadLetterQueue = deadLetterQueue(this, 'lake writer', props.deadLetterQueueProps);

    // No bisect and no partial batch responses: a failed batch is retried whole, with the same
    // records, so it rewrites the same files (see lakeWriterMapping).
    const mapping = (): sources.KinesisEventSourceProps => ({
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: lakeWriterMapping.batchSize,
      maxBatchingWindow: Duration.seconds(lakeWriterMapping.maxBatchingWindowSeconds),
      bisectBatchOnError: lakeWriterMapping.bisectBatchOnError,
      reportBatchItemFailures: lakeWriterMapping.reportBatchItemFailures,
      retryAttempts: lakeWriterMapping.retryAttempts,
      parallelizationFactor: lakeWriterMapping.parallelizationFactor,
      onFailure: new sources.SqsDlq(this.deadLetterQueue),
      ...props.eventSourceProps,
    });
    // Binding grants the function read access to each stream and decrypt on its key.
    this.eventsSource = new sources.KinesisEventSource(props.eventsStream, mapping());
    fn.addEventSource(this.eventsSource);
    if (props.aggregatesStream) {
      this.aggregatesSource = new sources.KinesisEventSource(props.aggregatesStream, mapping());
      fn.addEventSource(this.aggregatesSource);
    }

    // It only puts objects (raw/, parquet/, and errors/ for records it cannot decode): no read, no
    // list, no delete.
    grantLakeObjects(props.lakeBucket, fn, ['put'], [...LAKE_DATA_PREFIXES, ERRORS_PREFIX]);
    this.lakeSeen.grantReadWriteData(fn);
  }
}


/**
 * The invariant behind "each event in the lake once, whatever is re-read": a lake-seen state lives
 * at least as long as the stream keeps the records it covers, so a replay reaching back to the
 * stream's oldest record still finds the state of every event it re-reads (select.ts). DynamoDB
 * deletes expired items late, never early: "DynamoDB typically deletes expired items within two
 * days of expiration. [...] Items that have expired and not been deleted will still show up in
 * reads, queries, and scans." (API reference, UpdateTimeToLive): a state may outlive its TTL, which
 * is harmless; it is never gone before it. Fails synth when the function's TTL (its environment,
 * overrides included) is shorter than the stream's retention.
 */
function stateOutlivesStream(environment: Record<string, string>, stream: kinesis.IStream): string[] {
  const ttl = Number(environment[settings.lakeSeenTtlSeconds.env]);
  const retention = streamRetentionSeconds(stream);
  return ttl >= retention
    ? []
    : [`lake writer: ${settings.lakeSeenTtlSeconds.env} (${ttl} s) is shorter than the events stream's retention (${retention} s): a replay could re-read events whose lake-seen state expired, and write them twice`];
}
