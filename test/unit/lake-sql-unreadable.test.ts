/**
 * The local SQL over a lake holding what DuckDB cannot read: raw lines with a lone surrogate
 * ("\ud800"), bytes that are not UTF-8, lines that are not JSON or have a value of the wrong type,
 * a truncated gzip file, Parquet files garbled inside or holding a string that is not UTF-8.
 * Each query still answers, over every readable row, and what was left out is reported naming the
 * file (and the lines, for raw files). A query wrong in itself still fails.
 */
// hyparquet-writer is an ES module that jest's CommonJS runtime cannot load; Node's require can.
jest.mock('hyparquet-writer', () =>
  (process as unknown as { getBuiltinModule(id: string): typeof import('node:module') }).getBuiltinModule('node:module').createRequire(__filename)('hyparquet-writer'),
);

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LakeSql, skippedWarning, type SkippedFile } from '../../local/lake-sql';
import { eventGroups } from '../../lambdas/lake-writer/rows';
import { toNdjsonGzip, toParquet } from '../../lambdas/lake-writer/parquet';
import { parquetKey, rawKey, type Partition } from '../../schemas/lake';
import type { StreamEvent } from '../../pipelines/adtech/events';

const T = Date.UTC(2026, 0, 1, 10);
const partition: Partition = { dt: '2026-01-01', hour: '10' };
const bid = (tx_id: string): StreamEvent => ({ type: 'bid', tx_id, app_uid: 'u', campaign_item_id: 7, received_at: T, event_time: T });

describe('local SQL over a lake with unreadable rows and files', () => {
  let root: string;
  const put = (key: string, body: Uint8Array) => {
    const path = join(root, `${key}._S3rver_object`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
    return path;
  };
  const bcns = (events: StreamEvent[]) => eventGroups(events).find((g) => g.table === 'bcns')!;
  const rawLine = (tx: string) => `{"type":"bid","tx_id":"${tx}","app_uid":"u","campaign_item_id":7,"received_at":${T},"event_time":${T}}`;
  let paths: Record<string, string>;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sdp-lake-sql-test-'));
    const good = bcns([bid('g1'), bid('g2')]);
    const parquet = toParquet('bcns', good.rows);
    const garbled = Buffer.from(parquet);
    for (let i = 4; i < 60; i++) garbled[i] = 0x41; // header and footer intact, the first page not
    const notUtf8 = Buffer.from(toParquet('bcns', bcns([bid('p1'), bid('second')]).rows));
    notUtf8[notUtf8.indexOf('second')] = 0xff;
    paths = {
      good: put(rawKey('bcns', partition, 'good'), toNdjsonGzip(good.records)),
      surrogate: put(rawKey('bcns', partition, 'surrogate'), gzipSync(`${rawLine('s1')}\n${rawLine('\\ud800')}\n${rawLine('s2')}\n${rawLine('x\\udc00')}\n`)),
      badUtf8: put(rawKey('bcns', partition, 'bad-utf8'), gzipSync(Buffer.concat([Buffer.from(`${rawLine('u1')}\n`), Buffer.from(rawLine('\u00ff')).map((b, i, a) => (i === a.indexOf(0xc3) ? 0xff : b))]))),
      notJson: put(rawKey('bcns', partition, 'not-json'), gzipSync(`${rawLine('j1')}\n{"type":"bid","tx_id":\n${rawLine('j2')}\n`)),
      wrongType: put(rawKey('bcns', partition, 'wrong-type'), gzipSync(`${rawLine('w1')}\n${rawLine('w2').replace('"campaign_item_id":7', '"campaign_item_id":"seven"')}\n`)),
      onlyBad: put(rawKey('bcns', partition, 'only-bad'), gzipSync(`${rawLine('\\udfff')}\n`)),
      truncated: put(rawKey('bcns', partition, 'truncated'), toNdjsonGzip(good.records).slice(0, 30)),
      parquetGood: put(parquetKey('bcns', partition, 'good'), parquet),
      parquetGarbled: put(parquetKey('bcns', partition, 'garbled'), garbled),
      parquetNotUtf8: put(parquetKey('bcns', partition, 'not-utf8'), notUtf8),
      parquetGarbage: put(parquetKey('bcns', partition, 'garbage'), Buffer.from('PAR1 not parquet at all')),
      // Parquet's magic at both ends, garbage between: DuckDB fails as early as making the view.
      parquetFooter: put(parquetKey('bcns', partition, 'footer'), Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(40, 0x5a), Buffer.from([20, 0, 0, 0]), Buffer.from('PAR1')])),
    };
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function run(sql: string): Promise<{ rows: Record<string, unknown>[]; skipped: SkippedFile[]; warned: string[] }> {
    const warned: string[] = [];
    const lake = await LakeSql.open(root, { onSkip: (s) => warned.push(skippedWarning(s)) });
    try {
      return { rows: (await lake.query(sql)).rows, skipped: lake.skipped, warned };
    } finally {
      lake.close();
    }
  }
  const byPath = (skipped: SkippedFile[]) => Object.fromEntries(skipped.map((s) => [s.path, { lines: s.lines, reason: s.reason }]));

  it('answers over the raw table with every readable line, leaving out the others by file and line', async () => {
    const { rows, skipped, warned } = await run('SELECT tx_id FROM raw_bcns ORDER BY tx_id');
    expect(rows.map((r) => r.tx_id)).toEqual(['g1', 'g2', 'j1', 'j2', 's1', 's2', 'u1', 'w1']);
    expect(byPath(skipped.filter((s) => s.path.includes('/raw/')))).toEqual({
      [paths.surrogate]: { lines: [2, 4], reason: 'tx_id holds a lone surrogate (not valid Unicode) (and 1 more)' },
      [paths.badUtf8]: { lines: [2], reason: 'not valid UTF-8' },
      [paths.notJson]: { lines: [2], reason: expect.stringMatching(/^not JSON/) },
      [paths.wrongType]: { lines: [2], reason: 'campaign_item_id not an integer' },
      [paths.onlyBad]: { lines: undefined, reason: 'no readable line: tx_id holds a lone surrogate (not valid Unicode)' },
      [paths.truncated]: { lines: undefined, reason: expect.stringMatching(/^not a readable gzip file/) },
    });
    expect(warned).toContain(`warning: left out unreadable lines 2, 4 of lake file ${paths.surrogate}: tx_id holds a lone surrogate (not valid Unicode) (and 1 more)`);
    expect(warned).toContain(`warning: left out unreadable lake file ${paths.truncated}: ${skipped.find((s) => s.path === paths.truncated)!.reason}`);
  });

  it('answers over the Parquet table without the files DuckDB cannot read, naming them', async () => {
    const { rows, skipped } = await run('SELECT tx_id, dt, hour FROM parquet_bcns ORDER BY tx_id');
    expect(rows).toEqual([
      { tx_id: 'g1', dt: '2026-01-01', hour: '10' },
      { tx_id: 'g2', dt: '2026-01-01', hour: '10' },
    ]);
    const reasons = byPath(skipped);
    expect(reasons[paths.parquetGarbled]).toEqual({ lines: undefined, reason: expect.stringMatching(/Invalid/) });
    expect(reasons[paths.parquetNotUtf8]).toEqual({ lines: undefined, reason: expect.stringMatching(/not valid UTF8/) });
    expect(reasons[paths.parquetFooter]).toEqual({ lines: undefined, reason: expect.stringMatching(/Parquet|footer|Invalid/i) });
    expect(reasons[paths.parquetGarbage]).toBeDefined();
  });

  it('still fails a query that is wrong in itself', async () => {
    await expect(run('SELECT nope FROM parquet_bcns')).rejects.toThrow(/Binder Error/);
  });
});
