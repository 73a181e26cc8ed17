/**
 * A Kinesis record as Lambda's event source mapping hands it to a function: what the local poller
 * delivers, and what a dead-lettered batch's records are read back as.
 */
import type { _Record } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';

export interface RecordSource {
  shardId: string;
  streamArn: string;
  region: string;
  /** The function's execution role, as Lambda names it in each record. */
  invokeIdentityArn: string;
}

export function toLambdaRecord(r: Pick<_Record, 'PartitionKey' | 'SequenceNumber' | 'Data' | 'ApproximateArrivalTimestamp'>, source: RecordSource): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: r.PartitionKey!,
      sequenceNumber: r.SequenceNumber!,
      data: Buffer.from(r.Data!).toString('base64'),
      approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${r.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: source.invokeIdentityArn,
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
  };
}
