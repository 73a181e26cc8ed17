/** A Kinesis record of the events stream as the aggregator reads it: a stream record of the pipeline (schemas/stream-record.ts). */
import type { KinesisStreamRecord } from 'aws-lambda';
import type { Pipeline } from '../../schemas/pipeline';
import { decodeStreamRecord } from '../../schemas/stream-record';
import { fence } from '../commons/sequence';
import type { FencedEvent } from './plan';

/** Throws on a record that is not a valid event of one of the pipeline's streams. */
export function decodeRecord(pipeline: Pipeline, record: KinesisStreamRecord): FencedEvent {
  const json: unknown = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
  return { seq: fence(record.kinesis.sequenceNumber), event: decodeStreamRecord(pipeline, json).record };
}
