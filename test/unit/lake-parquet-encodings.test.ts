/**
 * The lake writer's own Parquet encoders (lambdas/lake-writer/snappy.ts, parquet-encodings.ts)
 * against the decoders of hyparquet, the reader compaction uses, and DuckDB's reading of whole
 * files where the encoders' edge cases meet: timestamps too far apart for the delta encoder,
 * pages split within a row group, nulls across page boundaries, statistics in the footer.
 */
jest.mock('hyparquet-writer', () =>
  (process as unknown as { getBuiltinModule(id: string): typeof import('node:module') }).getBuiltinModule('node:module').createRequire(__filename)('hyparquet-writer'),
);

import { writeFileSync } from 'node:fs';
import { scratchDuckDb } from '../support/duckdb';
import { snappyUncompress } from 'hyparquet/src/snappy.js';
import { readParquetRows } from '../../lambdas/compaction/files';
import { snappyCompress } from '../../lambdas/lake-writer/snappy';
import { deltaBinaryPacked } from '../../lambdas/lake-writer/parquet-encodings';
import { toParquet } from '../../lambdas/lake-writer/parquet';
import { toRow } from '../../lambdas/lake-writer/rows';
import { random } from '../../lambdas/commons/random';
import type { LakeRow } from '../../schemas/lake';

const H10 = Date.UTC(2026, 10, 21, 10);

describe('snappyCompress', () => {
  const next = random(11);
  const bytes = (n: number, alphabet: number) => Uint8Array.from({ length: n }, () => (next() < 0.2 ? Math.floor(next() * 256) : Math.floor(next() * alphabet)));
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(7)],
    ['shorter than the input margin', Uint8Array.from({ length: 14 }, (_, i) => i)],
    ['a long run (copies longer than 64 bytes)', new Uint8Array(200_000).fill(3)],
    ['repetitive text across 64 KiB fragments', Buffer.from(Array.from({ length: 20_000 }, (_, i) => `site${i % 37}.example`).join('|'))],
    ['random bytes (long literals)', bytes(100_000, 256)],
    ['few symbols', bytes(150_001, 4)],
  ];
  test.each(cases)('%s: decompresses to the input, and no larger than snappy allows', (_, input) => {
    const compressed = snappyCompress(input).slice();
    expect(compressed.length).toBeLessThanOrEqual(32 + input.length + input.length / 6);
    const back = new Uint8Array(input.length);
    snappyUncompress(compressed, back);
    expect(Buffer.from(back).equals(Buffer.from(input))).toBe(true);
  });

  test('repetitive input shrinks', () => {
    expect(snappyCompress(new Uint8Array(100_000)).length).toBeLessThan(5_000);
  });
});

describe('deltaBinaryPacked', () => {
  test('declines values too far apart to delta exactly in doubles (the caller writes them PLAIN)', () => {
    expect(deltaBinaryPacked(Float64Array.of(0, 2 ** 52))).toBeUndefined();
    expect(deltaBinaryPacked(Float64Array.of(-(2 ** 51)))).toBeUndefined();
    expect(deltaBinaryPacked(Float64Array.of(H10, H10 + 1))).toBeDefined();
  });
});

describe('toParquet edge cases read back by hyparquet and DuckDB', () => {
  const scratch = scratchDuckDb('sdp-lake-enc-');

  function write(bytes: Uint8Array): string {
    const file = scratch.file('.parquet');
    writeFileSync(file, bytes);
    return file;
  }
  const query = async (sql: string) => (await scratch.db.runAndReadAll(sql)).getRowObjects();

  test('timestamps: far apart, before 1970, and past the delta range, each exact', async () => {
    const times = [H10, 0, -86_400_000 * 365 * 50, H10 + 1, 2 ** 52, 2 ** 53 - 1, H10 - 2 ** 51, H10];
    const rows = times.map((t, i) => toRow('clicks', { tx_id: `t${i}`, event_time: t, received_at: H10 + i }));
    const bytes = toParquet('clicks', rows);
    expect(await readParquetRows('clicks', bytes)).toEqual(rows);
    const back = await query(`SELECT epoch_ms(event_time)::DOUBLE AS t FROM read_parquet('${write(bytes)}')`);
    expect(back.map((r) => r.t)).toEqual(times);
  });

  test('a row group of several pages, nulls across their boundaries; types, nulls and footer statistics', async () => {
    const n = 60_000;
    const long = 'x'.repeat(40);
    const rows: LakeRow[] = Array.from({ length: n }, (_, i) =>
      toRow('bcns', i % 4 === 3
        ? { type: 'click', tx_id: `${long}-${i}`, received_at: H10 + i, event_time: H10 + ((i * 7919) % 3_600_000) }
        : { type: 'bid', tx_id: `${long}-${i}`, app_uid: `app-${long}-${i}`, campaign_item_id: i % 50, domain: i % 3 ? `d${i % 9}.example` : undefined, win_price: i * 3, received_at: H10 + i, event_time: H10 + ((i * 7919) % 3_600_000) }),
    );
    const bytes = toParquet('bcns', rows);
    expect(await readParquetRows('bcns', bytes)).toEqual(rows);

    const file = write(bytes);
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`);
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toMatchObject({ tx_id: 'VARCHAR', campaign_item_id: 'BIGINT', win_price: 'BIGINT', event_time: 'TIMESTAMP' });
    const [counts] = await query(
      `SELECT count(*)::INT AS n, count(app_uid)::INT AS app_uid, count(domain)::INT AS domain, sum(win_price)::DOUBLE AS price, count(DISTINCT tx_id)::INT AS tx FROM read_parquet('${file}')`,
    );
    const bids = rows.filter((r) => r.type === 'bid');
    expect(counts).toEqual({
      n,
      app_uid: bids.length,
      domain: bids.filter((r) => r.domain !== null).length,
      price: bids.reduce((s, r) => s + (r.win_price as number), 0),
      tx: n,
    });
    const stats = await query(
      `SELECT path_in_schema AS p, stats_min_value AS lo, stats_max_value AS hi, stats_null_count::INT AS nulls FROM parquet_metadata('${file}') WHERE path_in_schema IN ('campaign_item_id', 'event_time')`,
    );
    expect(stats).toEqual([
      { p: 'campaign_item_id', lo: '0', hi: '49', nulls: n / 4 },
      { p: 'event_time', lo: '2026-11-21 10:00:00', hi: expect.stringMatching(/^2026-11-21 10:59:59/), nulls: 0 },
    ]);
  });

  test('auctions: booleans, RLE and PLAIN alike, and nullable timestamps', async () => {
    for (const n of [5, 100]) {
      const rows: LakeRow[] = Array.from({ length: n }, (_, i) =>
        toRow('auctions', { tx_id: `a${i}`, app_uid: 'u', campaign_item_id: 1, bid_price: 10, won: i % 3 === 0, clearing_price: i % 3 === 0 ? 7 : undefined, clicked: i % 5 === 0, event_time: H10 + i, impression_time: i % 3 === 0 ? H10 + i + 5 : undefined }),
      );
      const bytes = toParquet('auctions', rows);
      expect(await readParquetRows('auctions', bytes)).toEqual(rows);
      const [back] = await query(`SELECT count(*) FILTER (WHERE won)::INT AS won, count(*) FILTER (WHERE clicked)::INT AS clicked, count(impression_time)::INT AS imp FROM read_parquet('${write(bytes)}')`);
      expect(back).toEqual({ won: Math.ceil(n / 3), clicked: Math.ceil(n / 5), imp: Math.ceil(n / 3) });
    }
  });
});
