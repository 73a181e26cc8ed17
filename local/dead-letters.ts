/**
 * The local on-failure destination: a batch whose retries are exhausted is written as one JSON
 * file, shaped like the record Lambda sends to an on-failure destination for Kinesis
 * (requestContext, KinesisBatchInfo) plus the records themselves, so it can be replayed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KinesisStreamRecord } from 'aws-lambda';
import { StateError } from './state-error';

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

/**
 * A dead letter file's letter, or a StateError naming the file: a letter holds records still to
 * redrive, so a damaged one is for the operator to restore or set aside, never skipped silently.
 */
export function parseDeadLetter(file: string, text: string): DeadLetter {
  const refuse = (problem: string) =>
    new StateError(file, problem, `restore it from a backup, or move it out of ${dirname(file)} (its records are then not redriven; the stream holds them for its retention, 24 hours)`);
  let letter: Partial<DeadLetter> | null;
  try {
    letter = JSON.parse(text) as Partial<DeadLetter> | null;
  } catch (err) {
    throw refuse(`the dead letter is not valid JSON (${(err as Error).message})`);
  }
  const info = letter?.KinesisBatchInfo;
  if (typeof letter !== 'object' || letter === null || typeof letter.timestamp !== 'string' || typeof info?.shardId !== 'string' || typeof info.startSequenceNumber !== 'string' || !Array.isArray(letter.records)) {
    throw refuse('not a dead letter (it needs timestamp, KinesisBatchInfo with shardId and startSequenceNumber, and records)');
  }
  if (letter.records.some((r) => typeof r?.kinesis?.data !== 'string' || typeof r.kinesis.sequenceNumber !== 'string')) throw refuse('a record of the dead letter has no kinesis data or sequence number');
  return letter as DeadLetter;
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
    .map(({ consumer, file }) => ({ consumer, file, letter: parseDeadLetter(file, readFileSync(file, 'utf8')) }))
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
        const { records: _records, ...summary } = parseDeadLetter(file, readFileSync(file, 'utf8'));
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
