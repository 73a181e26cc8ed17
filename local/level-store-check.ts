/**
 * Opens an emulator's LevelDB store (kinesalite's, dynalite's) once before the emulator does, to
 * turn a damaged store into one line naming its directory. Left to the emulators, LevelDB's open
 * error ("Corruption: CURRENT file does not end with newline", "no meta-nextfile entry in
 * descriptor", a missing MANIFEST) escapes as an uncaught exception from kinesalite, and dynalite
 * reports only "Database is not open" on its first request. (A store whose write-ahead log alone is
 * damaged or gone opens as an empty or older store: that is found later, by the checkpoints that
 * point past it: checkpoint-positions.ts and state-check.ts.)
 */
import { StateError } from './state-error';

/** The part of leveldown (the LevelDB binding kinesalite and dynalite use; it ships no types) used here. */
interface LevelDown {
  open(options: { createIfMissing: boolean; errorIfExists: boolean }, callback: (err: Error | null) => void): void;
  close(callback: (err: Error | null) => void): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const leveldown = require('leveldown') as (location: string) => LevelDown;

export type LevelStoreKind = 'kinesis' | 'dynamodb';

const RECOVERY: Record<LevelStoreKind, (dir: string) => string> = {
  kinesis: (dir) =>
    `restore ${dir} from a backup, or delete it and the data dir's checkpoints/ to start with empty streams (the aggregates and the lake keep what they hold; the events only in the stream are lost)`,
  dynamodb: (dir) =>
    `restore ${dir} from a backup, or delete it and checkpoints/aggregator.json to rebuild the aggregates from the events stream (exact while the stream still holds every event: 24 hours)`,
};

export function checkLevelStore(kind: LevelStoreKind, dir: string): Promise<void> {
  const db = leveldown(dir);
  return new Promise((resolve, reject) => {
    db.open({ createIfMissing: true, errorIfExists: false }, (err) => {
      if (err) return reject(new StateError(dir, `the ${kind} emulator's store cannot be opened (${err.message.split('\n')[0]})`, RECOVERY[kind](dir)));
      db.close((closeErr) => (closeErr ? reject(closeErr) : resolve()));
    });
  });
}
