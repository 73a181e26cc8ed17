/**
 * A consumer's per-shard checkpoints (the last sequence number fully processed), kept in one JSON
 * file under the data dir. Writes are serialized and atomic (write a temp file, then rename), so a
 * crash leaves either the old or the new checkpoint, never a torn one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class CheckpointStore {
  private readonly file: string;
  private readonly positions: Record<string, string>;

  constructor(dataDir: string, consumer: string) {
    this.file = join(dataDir, 'checkpoints', `${consumer}.json`);
    mkdirSync(dirname(this.file), { recursive: true });
    try {
      this.positions = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read checkpoints ${this.file}: ${(err as Error).message}`);
      this.positions = {};
    }
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
