/**
 * A consumer's per-shard checkpoints (the last sequence number fully processed), kept in one JSON
 * file under the data dir. Writes are serialized and atomic (write a temp file, then rename), so a
 * crash leaves either the old or the new checkpoint, never a torn one. A file that is not an object
 * of shard id to sequence number (or SHARD_END) is refused when read, naming the file and the
 * recovery: a damaged checkpoint must never make a consumer stall or skip records silently.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StateError } from './state-error';

/** The checkpoint of a shard that a reshard closed and that was read and delivered to its end. */
export const SHARD_END = 'SHARD_END';

/** Kinesis shard ids (`shardId-` and 12 digits, as both Kinesis and kinesalite name them). */
const SHARD_ID = /^shardId-\d{12}$/;
/**
 * Kinesis sequence numbers: "Pattern: 0|([1-9]\d{0,128})" (Kinesis API Reference, SequenceNumberRange
 * StartingSequenceNumber; the same pattern as GetShardIterator's StartingSequenceNumber).
 */
const SEQUENCE_NUMBER = /^(0|[1-9]\d{0,128})$/;

export function checkpointFile(dataDir: string, consumer: string): string {
  return join(dataDir, 'checkpoints', `${consumer}.json`);
}

/** What to do about a checkpoint file that cannot be trusted. */
export function checkpointRecovery(file: string): string {
  return `delete ${file} to have the consumer re-read its stream from the oldest record kept (TRIM_HORIZON; the consumers drop what they already processed, so each event still counts once), or restore the file from a backup`;
}

/** The positions a checkpoint file holds, or a StateError naming the file and what is wrong with it. */
export function parseCheckpoints(file: string, text: string): Record<string, string> {
  const refuse = (problem: string) => new StateError(file, problem, checkpointRecovery(file));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw refuse(`not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuse(`holds ${Array.isArray(value) ? 'an array' : JSON.stringify(value)?.slice(0, 40)}, not an object of shard id to sequence number`);
  for (const [shardId, position] of Object.entries(value)) {
    if (!SHARD_ID.test(shardId)) throw refuse(`${JSON.stringify(shardId).slice(0, 40)} is not a shard id`);
    if (typeof position !== 'string' || (position !== SHARD_END && !SEQUENCE_NUMBER.test(position))) {
      throw refuse(`the position of ${shardId}, ${JSON.stringify(position)?.slice(0, 40)}, is neither a sequence number nor ${SHARD_END}`);
    }
  }
  return value as Record<string, string>;
}

/** A checkpoint file's positions ({} when there is none), validated. */
export function readCheckpoints(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new StateError(file, `cannot be read (${(err as Error).message})`, checkpointRecovery(file));
  }
  return parseCheckpoints(file, text);
}

export class CheckpointStore {
  readonly file: string;
  private readonly positions: Record<string, string>;

  constructor(dataDir: string, consumer: string) {
    this.file = checkpointFile(dataDir, consumer);
    mkdirSync(dirname(this.file), { recursive: true });
    this.positions = readCheckpoints(this.file);
  }

  get(shardId: string): string | undefined {
    return this.positions[shardId];
  }

  all(): Readonly<Record<string, string>> {
    return this.positions;
  }

  set(shardId: string, sequenceNumber: string): void {
    this.positions[shardId] = sequenceNumber;
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.positions));
    renameSync(tmp, this.file);
  }
}
