/**
 * The lake's file formats (lambdas/lake-writer/parquet.ts), read back by DuckDB as the local SQL
 * will read them: Parquet with the tables' types (timestamps as TIMESTAMP, nulls as NULL) and
 * gzip NDJSON through read_json with the tables' columns.
 */
// hyparquet-writer is an ES module, which jest's CommonJS runtime cannot load; Node's own require
// can (require(esm)), so the test gets the module from it.
jest.mock('hyparquet-writer', () =>
  (process as unknown as { getBuiltinModule(id: string): typeof import('node:module') }).getBuiltinModule('node:module').createRequire(__filename)('hyparquet-writer'),
);

import { writeFileSync } from 'node:fs';
import { scratchDuckDb } from '../support/duckdb';
import type { StreamEvent } from '../../pipelines/adtech/events';
import { duckdbJsonColumns, duckdbJsonSelect, lakeTable, type LakeRow, type LakeTable } from '../../schemas/lake';
import { eventGroups, toRow } from '../../lambdas/lake-writer/rows';
import { auctionRows } from '../../lambdas/ml/auction-rows';
import { toNdjsonGzip, toParquet } from '../../lambdas/lake-writer/parquet';

const H10 = Date.UTC(2026, 10, 21, 10);

const scratch = scratchDuckDb('sdp-lake-test-');

function write(bytes: Uint8Array, extension: string): string {
  const file = scratch.file(extension);
  writeFileSync(file, bytes);
  return file;
}

/** The table's columns as comparable JS values: int64 and timestamps (as epoch ms) read as DOUBLE. */
function comparable(table: LakeTable): string {
  return lakeTable(table).columns
    .map((c) => (c.type === 'timestamp' ? `epoch_ms("${c.name}")::DOUBLE AS "${c.name}"` : c.type === 'int64' ? `"${c.name}"::DOUBLE AS "${c.name}"` : `"${c.name}"`))
    .join(', ');
}

async function types(source: string): Promise<Record<string, string>> {
  const rows = (await scratch.db.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjects();
  return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

async function readParquet(table: LakeTable, file: string): Promise<LakeRow[]> {
  return (await scratch.db.runAndReadAll(`SELECT ${comparable(table)} FROM read_parquet('${file}')`)).getRowObjects() as LakeRow[];
}

const events: StreamEvent[] = [
  { type: 'bid', tx_id: 'tx-ünïcødé-🦆', app_uid: 'u1', campaign_item_id: 9_007_199_254_740_991, domain: 'news.example', creative_id: 'c7', creative_category: 'sports', win_price: 120, received_at: H10 + 7, event_time: H10 + 1, timestamp: H10 + 1 },
  { type: 'bid', tx_id: 'tx-2', app_uid: 'u2', campaign_item_id: 42, received_at: H10 + 8, event_time: H10 + 2 },
  { type: 'impression', tx_id: 'tx-ünïcødé-🦆', win_price: 95, received_at: H10 + 9, event_time: H10 + 3, timestamp: '2026-11-21T10:00:00.003Z' },
  { type: 'click', tx_id: 'tx-ünïcødé-🦆', received_at: H10 + 10, event_time: H10 + 3_599_999 },
  { type: 'impression', tx_id: 'tx-3', win_price: 0, received_at: H10 + 11, event_time: H10 + 4 },
];

describe('toParquet read back by DuckDB', () => {
  test('bcns: the types of the table, timestamps as TIMESTAMP, values and nulls as written', async () => {
    const rows = events.map((e) => toRow('bcns', e));
    const file = write(toParquet('bcns', rows), '.parquet');
    expect(await types(`read_parquet('${file}')`)).toEqual({
      type: 'VARCHAR', tx_id: 'VARCHAR', app_uid: 'VARCHAR', campaign_item_id: 'BIGINT', domain: 'VARCHAR', creative_id: 'VARCHAR',
      creative_category: 'VARCHAR', win_price: 'BIGINT', event_time: 'TIMESTAMP', received_at: 'TIMESTAMP',
    });
    expect(await readParquet('bcns', file)).toEqual(rows);
    const [first] = (await scratch.db.runAndReadAll(`SELECT strftime(event_time, '%Y-%m-%d %H:%M:%S.%g') AS t, date_trunc('hour', event_time)::VARCHAR AS h FROM read_parquet('${file}') LIMIT 1`)).getRowObjects();
    expect(first).toEqual({ t: '2026-11-21 10:00:00.001', h: '2026-11-21 10:00:00' });
    const [nulls] = (await scratch.db.runAndReadAll(`SELECT count(*) FILTER (WHERE app_uid IS NULL)::INT AS app_uid, count(*) FILTER (WHERE win_price IS NULL)::INT AS win_price FROM read_parquet('${file}')`)).getRowObjects();
    expect(nulls).toEqual({ app_uid: 3, win_price: 2 });
  });

  test('every table of a batch, as the lake writer groups it', async () => {
    for (const group of eventGroups(events)) {
      const file = write(toParquet(group.table, group.rows), '.parquet');
      expect(await readParquet(group.table, file)).toEqual(group.rows);
    }
  });

  test('auctions: booleans and nullable timestamps', async () => {
    const rows = auctionRows(events);
    const file = write(toParquet('auctions', rows), '.parquet');
    const t = await types(`read_parquet('${file}')`);
    expect(t).toMatchObject({ won: 'BOOLEAN', clicked: 'BOOLEAN', clearing_price: 'BIGINT', impression_time: 'TIMESTAMP', click_time: 'TIMESTAMP' });
    const back = await readParquet('auctions', file);
    expect(back).toEqual(rows);
    expect(back.map((r) => [r.tx_id, r.won, r.clicked, r.clearing_price])).toEqual([['tx-ünïcødé-🦆', true, true, 95], ['tx-2', false, false, null]]);
  });

  test('aggregates', async () => {
    const row = toRow('aggregates', { campaign_item_id: 42, period: H10 / 1000, period_start: H10, period_seconds: 60, bids: 3, impressions: 1, clicks: 1, late_events: 0, revision: 4, updated_at: H10 + 61_000 });
    const file = write(toParquet('aggregates', [row]), '.parquet');
    expect(await readParquet('aggregates', file)).toEqual([row]);
    expect((await types(`read_parquet('${file}')`)).period_start).toBe('TIMESTAMP');
  });

  test('many rows in several row groups, mostly-distinct and repeated strings alike', async () => {
    const rows: LakeRow[] = Array.from({ length: 2_500 }, (_, i) =>
      toRow('bcns', i % 3 === 0
        ? { type: 'click', tx_id: `tx-${i}`, received_at: H10 + i, event_time: H10 + i }
        : { type: 'bid', tx_id: `tx-${i}`, app_uid: `ü${i}`, campaign_item_id: i % 7, domain: `site${i % 5}.example`, win_price: i, received_at: H10 + i, event_time: H10 + i }),
    );
    const file = write(toParquet('bcns', rows, { rowGroupSize: 1_000 }), '.parquet');
    const [meta] = (await scratch.db.runAndReadAll(`SELECT count(DISTINCT row_group_id)::INT AS groups FROM parquet_metadata('${file}')`)).getRowObjects();
    expect(meta.groups).toBe(3);
    expect(await readParquet('bcns', file)).toEqual(rows);
  });

  test('an empty file is a valid file with no rows', async () => {
    const file = write(toParquet('clicks', []), '.parquet');
    const [r] = (await scratch.db.runAndReadAll(`SELECT count(*)::INT AS n FROM read_parquet('${file}')`)).getRowObjects();
    expect(r.n).toBe(0);
    expect(await types(`read_parquet('${file}')`)).toEqual({ tx_id: 'VARCHAR', event_time: 'TIMESTAMP', received_at: 'TIMESTAMP' });
  });

  test('deterministic: the same rows give the same bytes', () => {
    const rows = events.map((e) => toRow('bcns', e));
    expect(Buffer.from(toParquet('bcns', rows)).equals(Buffer.from(toParquet('bcns', rows.map((r) => ({ ...r })))))).toBe(true);
  });

  test('a value that does not fit its column is refused with the column and row', () => {
    const good = toRow('clicks', events[3]);
    expect(() => toParquet('clicks', [good, { ...good, event_time: null }])).toThrow('lake clicks.event_time, row 1: expected a value (the column is not nullable), got null');
    expect(() => toParquet('bcns', [{ ...toRow('bcns', events[0]), campaign_item_id: 1.5 }])).toThrow(/bcns.campaign_item_id, row 0: expected an integer/);
    expect(() => toParquet('bcns', [{ ...toRow('bcns', events[0]), domain: 7 }])).toThrow(/bcns.domain, row 0: expected a string/);
    expect(() => toParquet('bcns', [good], { rowGroupSize: 0 })).toThrow(/rowGroupSize/);
  });
});

describe('toNdjsonGzip read back by DuckDB', () => {
  test("raw events (the stream records verbatim) read with the table's columns", async () => {
    const file = write(toNdjsonGzip(events), '.json.gz');
    const source = `read_json('${file}', format='newline_delimited', compression='gzip', columns=${duckdbJsonColumns('bcns')})`;
    const view = `(SELECT ${duckdbJsonSelect('bcns')} FROM ${source})`;
    expect(await types(view)).toMatchObject({ campaign_item_id: 'BIGINT', event_time: 'TIMESTAMP', received_at: 'TIMESTAMP' });
    const back = (await scratch.db.runAndReadAll(`SELECT ${comparable('bcns')} FROM ${view}`)).getRowObjects();
    expect(back).toEqual(events.map((e) => toRow('bcns', e)));
  });

  test('one record per line, every line ended; nothing for no records', async () => {
    const { gunzipSync } = await import('node:zlib');
    expect(gunzipSync(toNdjsonGzip([{ a: 1 }, { b: 'x\ny' }])).toString()).toBe('{"a":1}\n{"b":"x\\ny"}\n');
    expect(gunzipSync(toNdjsonGzip([])).toString()).toBe('');
    expect(Buffer.from(toNdjsonGzip(events)).equals(Buffer.from(toNdjsonGzip(events)))).toBe(true);
  });
});
