/**
 * Compaction reads the lake's files back (lambdas/compaction/files.ts): Parquet and raw files
 * written by the lake writer give back the same rows and records; truncated, foreign or
 * mis-shaped files are UnreadableFile with a reason.
 */
// hyparquet-writer is an ES module that jest's CommonJS runtime cannot load; Node's require can.
jest.mock('hyparquet-writer', () =>
  (process as unknown as { getBuiltinModule(id: string): typeof import('node:module') }).getBuiltinModule('node:module').createRequire(__filename)('hyparquet-writer'),
);

import { gzipSync } from 'node:zlib';
import type { StreamEvent } from '../../pipelines/adtech/events';
import { rawLines, readLakeFile, readParquetRows, readRawRecords, UnreadableFile } from '../../lambdas/compaction/files';
import { aggregateRow, eventGroups } from '../../lambdas/lake-writer/rows';
import { toNdjsonGzip, toParquet } from '../../lambdas/lake-writer/parquet';

const T = Date.UTC(2026, 10, 21, 10, 5);
const events: StreamEvent[] = [
  { type: 'bid', tx_id: 't1', app_uid: 'u1', campaign_item_id: 42, domain: 'a.example', win_price: 120, received_at: T + 5, event_time: T },
  { type: 'impression', tx_id: 't1', win_price: 95, received_at: T + 9, event_time: T + 50 },
  { type: 'click', tx_id: 't1', received_at: T + 20, event_time: T + 2000 },
];

describe('reading lake files back', () => {
  it('gives back the Parquet rows the lake writer wrote, every table', async () => {
    for (const g of eventGroups(events)) expect(await readParquetRows(g.table, toParquet(g.table, g.rows))).toEqual(g.rows);
    const agg = aggregateRow({ campaign_item_id: 42, period: T / 1000, period_seconds: 60, bids: 3, impressions: 1, clicks: 0, late_events: 0, revision: 7, updated_at: T });
    expect(await readLakeFile('parquet', 'aggregates', toParquet('aggregates', [agg]))).toEqual([agg]);
  });

  it('gives back the raw records as written', async () => {
    const bcns = eventGroups(events).find((g) => g.table === 'bcns')!;
    expect(readRawRecords('bcns', toNdjsonGzip(bcns.records))).toEqual(events);
    expect(await readLakeFile('raw', 'bids', toNdjsonGzip([events[0]]))).toEqual([events[0]]);
  });

  it('refuses truncated, foreign and mis-shaped files with a reason', async () => {
    const bcns = eventGroups(events).find((g) => g.table === 'bcns')!;
    const parquet = toParquet('bcns', bcns.rows);
    await expect(readParquetRows('bcns', parquet.slice(0, parquet.length - 10))).rejects.toThrow(UnreadableFile);
    await expect(readParquetRows('bcns', Buffer.from('hello world, not parquet'))).rejects.toThrow(/Parquet/);
    // A real Parquet file of another table: its rows do not fit.
    await expect(readParquetRows('bids', toParquet('clicks', [eventGroups([events[2]])[1].rows[0]]))).rejects.toThrow(/does not fit bids/);
    const raw = toNdjsonGzip(bcns.records);
    expect(() => readRawRecords('bcns', raw.slice(0, raw.length - 8))).toThrow(UnreadableFile);
    expect(() => readRawRecords('bcns', Buffer.from('plain text'))).toThrow(/gzip/);
    expect(() => readRawRecords('bcns', gzipSync('{"tx_id":"t1"}\nnot json\n'))).toThrow(UnreadableFile);
    expect(() => readRawRecords('aggregates', gzipSync('{"campaign_item_id":1}\n'))).toThrow(/period/);
  });

  it('names the lines of a raw file that SQL readers cannot read: lone surrogates, bytes not UTF-8, not JSON, wrong types', () => {
    const good = JSON.stringify(events[0]);
    const lines = [
      good,
      '{"type":"bid","tx_id":"\\ud800","received_at":1,"event_time":1}',
      '{"type":"bid","tx_id":"a\\udc00b","received_at":1,"event_time":1}',
      '{"type":"bid","tx_id":"\\ud83d\\ude00","received_at":1,"event_time":1}',
      '{"type":"bid","tx_id":"x","received_at":1,"event_time":1,"domain":{"\\ud801":1}}',
      '{"type":"bid","tx_id":',
      '{"type":"bid","tx_id":"x","received_at":1,"event_time":1,"campaign_item_id":"seven"}',
    ];
    const inflated = Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), Buffer.from('{"type":"bid","tx_id":"'), Buffer.from([0xff]), Buffer.from('"}\n')]);
    const read = rawLines('bcns', inflated);
    expect(read.map((l) => [l.number, l.problem ?? 'ok'])).toEqual([
      [1, 'ok'],
      [2, 'tx_id holds a lone surrogate (not valid Unicode)'],
      [3, 'tx_id holds a lone surrogate (not valid Unicode)'],
      [4, 'ok'],
      [5, 'domain.\\ud801 holds a lone surrogate (not valid Unicode)'],
      [6, expect.stringMatching(/^not JSON/)],
      [7, 'campaign_item_id not an integer'],
      [8, 'not valid UTF-8'],
    ]);
    expect(read[0].record).toEqual(events[0]);
    // Compaction leaves such a file in place: it names the first bad line.
    expect(() => readRawRecords('bcns', gzipSync(inflated))).toThrow(new UnreadableFile('line 2: tx_id holds a lone surrogate (not valid Unicode)'));
  });
});

