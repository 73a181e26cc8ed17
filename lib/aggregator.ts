// The aggregator Lambda: fed by the events stream through an event source mapping (settings from schemas/resources.ts), it writes the tables and, when the stack has it, the aggregates stream.
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { aggregatesFeed, aggregatorMapping, aggregatorTimeoutSeconds, settings, stateTtlSeconds, streams, tables } from '../schemas/resources';
import { grantPutRecords, streamRetentionSeconds } from './data-stream';
import { deadLetterQueue } from './dead-letter-queue';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';

export interface AggregatorProps {
  /** Read through the event source mapping. */
  readonly eventsStream: kinesis.IStream;
  /** Receives every revision of every aggregate row; none (the aggregates feed off): revisions are not published. */
  readonly aggregatesStream?: kinesis.IStream;
  readonly txStateTable: dynamodb.ITable;
  readonly aggregatesTable: dynamodb.ITable;
  /** Per-shard journal and dead-letter evidence (tables.aggregatorJournal). */
  readonly journalTable: dynamodb.ITable;
  /** Window length in seconds overriding every declared period; may be a token (e.g. a CfnParameter's valueAsString), empty: as declared. @default each aggregation's declared period */
  readonly aggregationPeriodSeconds?: string;
  readonly functionProps?: Partial<HandlerFunctionProps>;
  /** Overrides for the event source mapping (applied last). */
  readonly eventSourceProps?: Partial<sources.KinesisEventSourceProps>;
  readonly deadLetterQueueProps?: sqs.QueueProps;
}

export class Aggregator extends Construct {
  public readonly aggregatorFunction: HandlerFunction;
  public readonly eventSource: sources.KinesisEventSource;
  /** Receives the position (shard, sequence numbers) of batches that failed every retry. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AggregatorProps) {
    super(scope, id);

    this.aggregatorFunction = new HandlerFunction(this, 'Aggregator', {
      handlerName: 'aggregator',
      memorySize: 512,
      timeout: Duration.seconds(aggregatorTimeoutSeconds),
      ...props.functionProps,
      environment: {
        [tables.txState.env]: props.txStateTable.tableName,
        [tables.aggregates.env]: props.aggregatesTable.tableName,
        [tables.aggregatorJournal.env]: props.journalTable.tableName,
        ...(props.aggregatesStream ? { [streams.aggregates.env]: props.aggregatesStream.streamName } : { [aggregatesFeed.env]: aggregatesFeed.off }),
        ...(props.aggregationPeriodSeconds !== undefined && { [settings.aggregationPeriodSeconds.env]: props.aggregationPeriodSeconds }),
        [settings.allowedLatenessSeconds.env]: String(settings.allowedLatenessSeconds.default),
        // Its default (7 days), or the stream's retention when longer (-c sdp:streamRetentionHours):
        // a replay must find the state of every event it re-reads.
        [settings.txStateTtlSeconds.env]: String(stateTtlSeconds(settings.txStateTtlSeconds.default, streamRetentionSeconds(props.eventsStream))),
        // How long the journal keeps dead-letter evidence (journal.ts: a day past the retention, at least 8 days).
        [settings.eventsStreamRetentionSeconds.env]: String(streamRetentionSeconds(props.eventsStream)),
        ...props.functionProps?.environment,
      },
    });
    const fn = this.aggregatorFunction.lambdaFunction;

    this.deadLetterQueue = deadLetterQueue(this, 'aggregator', props.deadLetterQueueProps);

    // Binding grants the function read access to the stream and decrypt on its key.
    this.eventSource = new sources.KinesisEventSource(props.eventsStream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: aggregatorMapping.batchSize,
      maxBatchingWindow: Duration.seconds(aggregatorMapping.maxBatchingWindowSeconds),
      bisectBatchOnError: aggregatorMapping.bisectBatchOnError,
      reportBatchItemFailures: aggregatorMapping.reportBatchItemFailures,
      retryAttempts: aggregatorMapping.retryAttempts,
      parallelizationFactor: aggregatorMapping.parallelizationFactor,
      onFailure: new sources.SqsDlq(this.deadLetterQueue),
      ...props.eventSourceProps,
    });
    fn.addEventSource(this.eventSource);

    props.txStateTable.grantReadWriteData(fn);
    props.aggregatesTable.grantReadWriteData(fn);
    props.journalTable.grantReadWriteData(fn);
    if (props.aggregatesStream) grantPutRecords(props.aggregatesStream, fn);
  }
}
