/**
 * Dead letters of a deployed stack (`sdp dlq list|redrive --aws`): Lambda sends the on-failure
 * record of a Kinesis batch (its shard and sequence range, not its records) to an SQS queue per
 * consumer. Listing peeks at the queues; redriving reads each batch's records back from the stream
 * (while the stream's retention lasts), replays them with the handlers' own code against the
 * stack's resources (named by `cdk deploy --outputs-file`), and deletes the message once replayed.
 */
import { readFileSync } from 'node:fs';
import type { KinesisStreamRecord } from 'aws-lambda';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { aggregatesFeed, feedOutput, resourceOutputs } from '../schemas/resources';
import type { DeadLetter } from './dead-letters';
import { toLambdaRecord } from './lambda-records';

export type StackOutputs = Record<string, string>;

/** The outputs of one stack from a `cdk deploy --outputs-file` file. */
export function readStackOutputs(file: string, stack?: string): StackOutputs {
  let all: Record<string, StackOutputs>;
  try {
    all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, StackOutputs>;
  } catch (err) {
    throw new Error(`cannot read the stack outputs ${file} (write them with npx cdk deploy --outputs-file ${file}): ${(err as Error).message}`);
  }
  const names = Object.keys(all);
  const name = stack ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) throw new Error(`${file} holds the outputs of ${names.length} stacks (${names.join(', ')}); name one with --stack`);
  const outputs = all[name];
  if (!outputs) throw new Error(`${file} has no outputs of a stack ${name}`);
  return outputs;
}

/** The environment under which handler code reaches the stack's resources. */
export function deployedEnvironment(outputs: StackOutputs): Record<string, string> {
  // A stack deployed without the aggregates feed has no aggregates stream to name.
  const feedOff = outputs[feedOutput.key] === aggregatesFeed.off;
  const needed = Object.entries(resourceOutputs).filter(([key]) => !(feedOff && key === 'AggregatesStreamName'));
  const missing = needed.filter(([key]) => !outputs[key]).map(([key]) => key);
  if (missing.length > 0) throw new Error(`the stack outputs lack ${missing.join(', ')}: redeploy the stack with this version of sdp`);
  return { ...Object.fromEntries(needed.map(([key, env]) => [env, outputs[key]])), ...(feedOff ? { [feedOutput.env]: aggregatesFeed.off } : {}) };
}

export const deadLetterQueueOutputs = { aggregator: 'AggregatorDeadLetterQueueUrl', 'lake-writer': 'LakeWriterDeadLetterQueueUrl' } as const;
export type DeployedConsumer = keyof typeof deadLetterQueueOutputs;

export interface QueuedLetter {
  consumer: DeployedConsumer;
  messageId: string;
  receiptHandle: string;
  letter: Omit<DeadLetter, 'records'>;
}

const MAX_RECEIVE_ROUNDS = 100;

/**
 * Every letter on a consumer's queue. Each is received hidden from other readers for
 * `visibilitySeconds` (so that the next round brings new ones); `release` makes them visible again
 * once all are read (a listing), otherwise they stay hidden while they are replayed.
 */
export async function receiveLetters(
  sqs: Pick<SQSClient, 'send'>,
  queueUrl: string,
  consumer: DeployedConsumer,
  options: { visibilitySeconds: number; release: boolean },
): Promise<QueuedLetter[]> {
  const letters = new Map<string, QueuedLetter>();
  for (let round = 0; round < MAX_RECEIVE_ROUNDS; round++) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: options.visibilitySeconds, WaitTimeSeconds: 0 }));
    const fresh = (out.Messages ?? []).filter((m) => m.MessageId && !letters.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const m of fresh) {
      letters.set(m.MessageId!, { consumer, messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, letter: JSON.parse(m.Body ?? '{}') as QueuedLetter['letter'] });
    }
  }
  if (options.release) {
    for (const letter of letters.values()) {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: letter.receiptHandle, VisibilityTimeout: 0 }));
    }
  }
  return [...letters.values()];
}

export async function deleteLetter(sqs: Pick<SQSClient, 'send'>, queueUrl: string, letter: QueuedLetter): Promise<void> {
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: letter.receiptHandle }));
}

/** A dead-lettered batch's records, read back from its stream by their sequence range, as Lambda delivered them. */
export async function readBatchRecords(kinesis: Pick<KinesisClient, 'send'>, info: DeadLetter['KinesisBatchInfo'], region: string): Promise<KinesisStreamRecord[]> {
  const end = BigInt(info.endSequenceNumber);
  const streamName = info.streamArn.slice(info.streamArn.lastIndexOf('/') + 1);
  let iterator = (
    await kinesis.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: info.startSequenceNumber }),
    )
  ).ShardIterator;
  const records: KinesisStreamRecord[] = [];
  while (iterator) {
    const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
    for (const r of out.Records ?? []) {
      if (BigInt(r.SequenceNumber!) > end) return checked(records, info);
      records.push(toLambdaRecord(r, { shardId: info.shardId, streamArn: info.streamArn, region, invokeIdentityArn: '' }));
    }
    if ((out.Records ?? []).length === 0 && out.MillisBehindLatest === 0) break;
    iterator = out.NextShardIterator;
  }
  return checked(records, info);
}

function checked(records: KinesisStreamRecord[], info: DeadLetter['KinesisBatchInfo']): KinesisStreamRecord[] {
  if (records[0]?.kinesis.sequenceNumber !== info.startSequenceNumber || records.at(-1)?.kinesis.sequenceNumber !== info.endSequenceNumber) {
    throw new Error(`the stream no longer holds the batch ${info.shardId} ${info.startSequenceNumber}…${info.endSequenceNumber} (past its retention?)`);
  }
  return records;
}
