/** A DuckDB in memory and a scratch directory for one test file's files, closed and removed after its tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface ScratchDuckDb {
  /** The connection (set once the suite's beforeAll ran). */
  readonly db: DuckDBConnection;
  /** A fresh file path in the scratch directory. */
  file(extension: string): string;
}

export function scratchDuckDb(prefix: string): ScratchDuckDb {
  let dir = '';
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  let files = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });
  afterAll(() => {
    connection?.closeSync();
    instance?.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get db() {
      return connection!;
    },
    file: (extension) => join(dir, `f${++files}${extension}`),
  };
}
