/**
 * The local on-failure destination: a batch whose retries are exhausted is written as one JSON
 * file, shaped like the record Lambda sends to an on-failure destination for Kinesis
 * (requestContext, KinesisBatchInfo) plus the records themselves, so it can be replayed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KinesisStreamRecord } from 'aws-lambda';

export interface DeadLetter {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: 'RetryAttemptsExhausted'; approximateInvokeCount: number };
  responseContext: { statusCode: number; executedVersion: string; functionError: string };
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
  /** Local extension: the failed records, ready to replay. */
  records: KinesisStreamRecord[];
}

export class DeadLetterStore {
  readonly dir: string;

  constructor(dataDir: string, consumer: string) {
    this.dir = join(dataDir, 'dlq', consumer);
    mkdirSync(this.dir, { recursive: true });
  }

  put(letter: DeadLetter): string {
    const name = `${letter.timestamp.replace(/[:.]/g, '-')}_${letter.KinesisBatchInfo.shardId}_${letter.KinesisBatchInfo.startSequenceNumber}.json`;
    const file = join(this.dir, name);
    writeFileSync(`${file}.tmp`, JSON.stringify(letter, null, 2));
    renameSync(`${file}.tmp`, file);
    return file;
  }

  count(): number {
    return readdirSync(this.dir).filter((f) => f.endsWith('.json')).length;
  }
}

/** Every dead letter under a data dir, oldest first, with the consumer it came from. */
export function listDeadLetters(dataDir: string): { consumer: string; file: string; letter: DeadLetter }[] {
  return letterFiles(dataDir)
    .map(({ consumer, file }) => ({ consumer, file, letter: JSON.parse(readFileSync(file, 'utf8')) as DeadLetter }))
    .sort((a, b) => a.letter.timestamp.localeCompare(b.letter.timestamp));
}

export type DeadLetterSummary = Omit<DeadLetter, 'records'>;

/** Letters never change once written (they are renamed into place): each is read once, records left out. */
const summaries = new Map<string, DeadLetterSummary>();

/** Like listDeadLetters without the records, reading only letters it has not read before: for views refreshed often. */
export function deadLetterSummaries(dataDir: string): { consumer: string; file: string; letter: DeadLetterSummary }[] {
  return letterFiles(dataDir)
    .map(({ consumer, file }) => {
      let letter = summaries.get(file);
      if (!letter) {
        const { records: _records, ...summary } = JSON.parse(readFileSync(file, 'utf8')) as DeadLetter;
        summaries.set(file, (letter = summary));
      }
      return { consumer, file, letter };
    })
    .sort((a, b) => a.letter.timestamp.localeCompare(b.letter.timestamp));
}

function letterFiles(dataDir: string): { consumer: string; file: string }[] {
  const root = join(dataDir, 'dlq');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((consumer) =>
    readdirSync(join(root, consumer))
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ consumer, file: join(root, consumer, f) })),
  );
}

/** Moves a replayed dead letter aside (into `redriven/` beside it), so it is neither listed nor replayed again. */
export function markRedriven(file: string): string {
  const dir = join(dirname(file), 'redriven');
  mkdirSync(dir, { recursive: true });
  const target = join(dir, basename(file));
  renameSync(file, target);
  return target;
}
