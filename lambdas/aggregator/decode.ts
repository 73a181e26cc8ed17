import type { KinesisStreamRecord } from 'aws-lambda';
import { streamEventSchema } from '../../schemas/events';
import { fence } from '../commons/sequence';
import type { FencedEvent } from './plan';

/** A Kinesis record of the events stream as the aggregator reads it; throws on a record that is not a valid event. */
export function decodeRecord(record: KinesisStreamRecord): FencedEvent {
  const json: unknown = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
  return { seq: fence(record.kinesis.sequenceNumber), event: streamEventSchema.parse(json) };
}
