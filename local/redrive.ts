/**
 * `sdp dlq redrive` on the local platform: replays dead letters beside the running platform with
 * the handlers' own code and environment, and moves each replayed letter aside. Aggregator letters
 * go through the exact replay (lambdas/aggregator/replay.ts); lake-writer letters are handed to the
 * lake writer again as the same batch, which rewrites the same files and skips every event the
 * lake-seen states say another batch wrote (only the same batch writes the same files).
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { handlerEnvironment, type PlatformOutputs } from './platform';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { listDeadLetters, markRedriven, type DeadLetter } from './dead-letters';
import { deadLetterQueueOutputs, deleteLetter, deployedEnvironment, readBatchRecords, receiveLetters, type DeployedConsumer, type StackOutputs } from './aws-dead-letters';

export interface RedriveOutcome {
  consumer: string;
  file: string;
  shard: string;
  records: number;
  ok: boolean;
  /** What the replay did, or why it failed. */
  detail: string;
}

/** `notice`: what a replay waits for, as it happens. */
type Replayer = (letter: DeadLetter, notice: (line: string) => void) => Promise<string>;

const replayAggregator: Replayer = async (letter, notice) => {
  // Loaded once the environment names the platform's resources: handler modules read it when loaded.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { replayAggregatorBatch } = require('../lambdas/aggregator/replay') as typeof import('../lambdas/aggregator/replay');
  const r = await replayAggregatorBatch(letter.KinesisBatchInfo.shardId, letter.records, { onWait: notice });
  const net = Object.entries(r.added).filter(([, n]) => n !== 0).map(([c, n]) => `${c} ${n > 0 ? '+' : ''}${n}`).join(', ');
  const resumed = r.resumed > 0 ? `, ${r.resumed} written by an interrupted run` : '';
  return `${r.states} states: ${r.alreadyStored} already stored, ${r.replayed} records replayed${resumed}; ${r.rowsChanged} rows changed${net ? ` (${net})` : ''}`;
};

const replayLakeWriter: Replayer = async (letter) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../lambdas/lake-writer/handler') as typeof import('../lambdas/lake-writer/handler');
  await handler({ Records: letter.records } as KinesisStreamEvent);
  return `${letter.records.length} records handed to the lake writer again`;
};

const replayers: Record<string, Replayer> = {
  aggregator: replayAggregator,
  'lake-writer': replayLakeWriter,
  'lake-writer-events': replayLakeWriter,
  'lake-writer-aggregates': replayLakeWriter,
};

/** Replays one letter with its consumer's code; resolves with what the replay did. */
export async function replayLetter(consumer: string, letter: DeadLetter, notice: (line: string) => void = () => {}): Promise<string> {
  const replay = replayers[consumer];
  if (!replay) throw new Error(`no replay is known for the consumer ${consumer}`);
  return replay(letter, notice);
}

export async function redriveDeadLetters(
  platform: PlatformOutputs,
  select: (consumer: string, file: string) => boolean,
  onProgress: (outcome: RedriveOutcome) => void = () => {},
  onNotice: (line: string) => void = () => {},
): Promise<RedriveOutcome[]> {
  Object.assign(process.env, handlerEnvironment(platform, { aggregationPeriodSeconds: platform.AggregationPeriodSeconds }));
  const outcomes: RedriveOutcome[] = [];
  for (const { consumer, file, letter } of listDeadLetters(platform.DataDir).filter((l) => select(l.consumer, l.file))) {
    const base = { consumer, file, shard: letter.KinesisBatchInfo.shardId, records: letter.records.length };
    const outcome = await attempt(base, async () => {
      const detail = await replayLetter(consumer, letter, onNotice);
      markRedriven(file);
      return detail;
    });
    outcomes.push(outcome);
    onProgress(outcome);
  }
  return outcomes;
}

/**
 * `sdp dlq redrive --aws`: the same replays against a deployed stack, each letter's records read
 * back from its stream, its message deleted once replayed; a letter that fails stays on its queue
 * (visible again after the visibility timeout).
 */
export async function redriveDeployedDeadLetters(
  outputs: StackOutputs,
  clients: { kinesis: Pick<KinesisClient, 'send'>; sqs: Pick<SQSClient, 'send'>; region: string },
  select: (consumer: DeployedConsumer, messageId: string) => boolean,
  onProgress: (outcome: RedriveOutcome) => void = () => {},
  onNotice: (line: string) => void = () => {},
): Promise<RedriveOutcome[]> {
  Object.assign(process.env, deployedEnvironment(outputs));
  const outcomes: RedriveOutcome[] = [];
  for (const consumer of Object.keys(deadLetterQueueOutputs) as DeployedConsumer[]) {
    const queueUrl = outputs[deadLetterQueueOutputs[consumer]];
    if (!queueUrl) throw new Error(`the stack outputs lack ${deadLetterQueueOutputs[consumer]}: redeploy the stack with this version of sdp`);
    for (const queued of await receiveLetters(clients.sqs, queueUrl, consumer, { visibilitySeconds: REDRIVE_VISIBILITY_SECONDS, release: false })) {
      if (!select(consumer, queued.messageId)) continue;
      const info = queued.letter.KinesisBatchInfo;
      const base = { consumer, file: queued.messageId, shard: info?.shardId ?? '?', records: info?.batchSize ?? 0 };
      const outcome = await attempt(base, async () => {
        if (!info) throw new Error('the message is not a Lambda on-failure record of a Kinesis batch');
        const records = await readBatchRecords(clients.kinesis, info, clients.region);
        const detail = await replayLetter(consumer, { ...queued.letter, records }, onNotice);
        await deleteLetter(clients.sqs, queueUrl, queued);
        return detail;
      });
      outcomes.push(outcome);
      onProgress(outcome);
    }
  }
  return outcomes;
}

async function attempt(base: Omit<RedriveOutcome, 'ok' | 'detail'>, replay: () => Promise<string>): Promise<RedriveOutcome> {
  try {
    return { ...base, ok: true, detail: await replay() };
  } catch (err) {
    return { ...base, ok: false, detail: (err as Error).message };
  }
}

/** Long enough to replay a batch; a letter whose replay failed is visible again after it. */
const REDRIVE_VISIBILITY_SECONDS = 300;
