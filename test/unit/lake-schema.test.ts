/** The lake's table definitions (schemas/lake.ts): columns derived from the zod schemas, type mappings, partitions and keys. */
import { z } from 'zod';
import { bidSchema } from '../../pipelines/adtech/events';
import { COUNTERS } from '../../schemas/aggregates';
import {
  columnsOfShape,
  duckdbColumnDefs,
  duckdbJsonColumns,
  glueColumns,
  lakeTable,
  lakeTableNames,
  parquetKey,
  parquetSchema,
  partitionOf,
  rawKey,
  tablePrefix,
  type LakeTable,
} from '../../schemas/lake';

const column = (table: LakeTable, name: string) => lakeTable(table).columns.find((c) => c.name === name);
const names = (table: LakeTable) => lakeTable(table).columns.map((c) => c.name);

describe('columns derived from the zod schemas', () => {
  test('bids: required and optional fields, integers as int64, server times as timestamps', () => {
    expect(names('bids')).toEqual(['tx_id', 'app_uid', 'campaign_item_id', 'domain', 'creative_id', 'creative_category', 'win_price', 'event_time', 'received_at']);
    expect(column('bids', 'creative_category')).toEqual({ name: 'creative_category', type: 'string', nullable: true });
    expect(column('bids', 'campaign_item_id')).toEqual({ name: 'campaign_item_id', type: 'int64', nullable: false });
    expect(column('bids', 'win_price')).toEqual({ name: 'win_price', type: 'int64', nullable: true });
    expect(column('bids', 'tx_id')).toEqual({ name: 'tx_id', type: 'string', nullable: false });
    for (const t of ['event_time', 'received_at']) expect(column('bids', t)).toEqual({ name: t, type: 'timestamp', nullable: false });
  });

  test("the client's timestamp is left out of every typed table (the raw JSON keeps it)", () => {
    for (const table of lakeTableNames()) expect(names(table)).not.toContain('timestamp');
  });

  test('impressions and clicks', () => {
    expect(lakeTable('impressions').columns).toEqual([
      { name: 'tx_id', type: 'string', nullable: false },
      { name: 'win_price', type: 'int64', nullable: false },
      { name: 'event_time', type: 'timestamp', nullable: false },
      { name: 'received_at', type: 'timestamp', nullable: false },
    ]);
    expect(names('clicks')).toEqual(['tx_id', 'event_time', 'received_at']);
  });

  test('bcns: type first, the union of the event types, nullable unless every type requires it', () => {
    expect(names('bcns')).toEqual(['type', 'tx_id', 'app_uid', 'campaign_item_id', 'domain', 'creative_id', 'creative_category', 'win_price', 'event_time', 'received_at']);
    expect(column('bcns', 'type')).toEqual({ name: 'type', type: 'string', nullable: false });
    expect(column('bcns', 'tx_id')?.nullable).toBe(false);
    expect(column('bcns', 'app_uid')?.nullable).toBe(true);
    expect(column('bcns', 'campaign_item_id')).toEqual({ name: 'campaign_item_id', type: 'int64', nullable: true });
    expect(column('bcns', 'win_price')).toEqual({ name: 'win_price', type: 'int64', nullable: true });
    expect(column('bcns', 'event_time')).toEqual({ name: 'event_time', type: 'timestamp', nullable: false });
  });

  test('a field added to a zod schema becomes a column of its type', () => {
    const extended = bidSchema.extend({ bid_floor: z.number().optional(), viewable: z.boolean(), placement: z.enum(['top', 'side']) });
    const columns = columnsOfShape(extended.shape);
    expect(columns.find((c) => c.name === 'bid_floor')).toEqual({ name: 'bid_floor', type: 'double', nullable: true });
    expect(columns.find((c) => c.name === 'viewable')).toEqual({ name: 'viewable', type: 'boolean', nullable: false });
    expect(columns.find((c) => c.name === 'placement')).toEqual({ name: 'placement', type: 'string', nullable: false });
  });

  test('a zod type without a lake mapping is refused, not guessed', () => {
    expect(() => columnsOfShape({ tags: z.array(z.string()) })).toThrow(/no column type for field "tags"/);
  });

  test('aggregates: the aggregate row, every counter, the window start as a timestamp', () => {
    expect(names('aggregates')).toEqual(['campaign_item_id', 'period', 'period_start', 'period_seconds', ...COUNTERS, 'revision', 'updated_at']);
    expect(column('aggregates', 'period')?.type).toBe('int64');
    expect(column('aggregates', 'period_start')?.type).toBe('timestamp');
    expect(column('aggregates', 'updated_at')?.type).toBe('timestamp');
    for (const c of COUNTERS) expect(column('aggregates', c)).toEqual({ name: c, type: 'int64', nullable: false });
  });

  test("auctions: the bid's fields, its outcome, and the events' times", () => {
    expect(names('auctions')).toEqual([
      'tx_id', 'app_uid', 'campaign_item_id', 'domain', 'creative_id', 'creative_category', 'bid_price',
      'won', 'clearing_price', 'clicked', 'event_time', 'impression_time', 'click_time',
    ]);
    expect(column('auctions', 'bid_price')).toMatchObject({ type: 'int64', nullable: true });
    expect(column('auctions', 'won')).toMatchObject({ type: 'boolean', nullable: false });
    expect(column('auctions', 'clearing_price')).toMatchObject({ type: 'int64', nullable: true });
    expect(column('auctions', 'clicked')).toMatchObject({ type: 'boolean', nullable: false });
    expect(column('auctions', 'impression_time')).toMatchObject({ type: 'timestamp', nullable: true });
  });
});

describe('type mappings', () => {
  test('Glue', () => {
    const glue = Object.fromEntries(glueColumns('auctions').map((c) => [c.name, c.type]));
    expect(glue).toMatchObject({ tx_id: 'string', campaign_item_id: 'bigint', won: 'boolean', event_time: 'timestamp', clearing_price: 'bigint' });
    expect(glueColumns('aggregates').find((c) => c.name === 'period')?.comment).toMatch(/epoch seconds/);
  });

  test('Parquet: UTF8 strings, INT64 integers, TIMESTAMP_MILLIS times, repetition from nullability', () => {
    const schema = parquetSchema('bids');
    expect(schema[0]).toEqual({ name: 'root', num_children: 9 });
    const el = (name: string) => schema.find((e) => e.name === name);
    expect(el('creative_category')).toEqual({ name: 'creative_category', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    expect(el('campaign_item_id')).toEqual({ name: 'campaign_item_id', type: 'INT64', repetition_type: 'REQUIRED' });
    expect(el('event_time')).toEqual({ name: 'event_time', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'REQUIRED' });
    expect(parquetSchema('auctions').find((e) => e.name === 'won')).toEqual({ name: 'won', type: 'BOOLEAN', repetition_type: 'REQUIRED' });
  });

  test('DuckDB', () => {
    expect(duckdbColumnDefs('clicks')).toBe('"tx_id" VARCHAR NOT NULL, "event_time" TIMESTAMP NOT NULL, "received_at" TIMESTAMP NOT NULL');
    expect(duckdbJsonColumns('impressions')).toBe("{'tx_id': 'VARCHAR', 'win_price': 'BIGINT', 'event_time': 'BIGINT', 'received_at': 'BIGINT'}");
  });
});

describe('partitions and keys', () => {
  test('the UTC date and hour of an instant', () => {
    expect(partitionOf(Date.UTC(2026, 10, 21, 10, 30))).toEqual({ dt: '2026-11-21', hour: '10' });
    expect(partitionOf(0)).toEqual({ dt: '1970-01-01', hour: '00' });
  });

  test('hour and day boundaries: the first millisecond belongs to the new hour, the last to the old', () => {
    const midnight = Date.UTC(2026, 11, 31, 24); // 2027-01-01T00:00:00Z
    expect(partitionOf(midnight - 1)).toEqual({ dt: '2026-12-31', hour: '23' });
    expect(partitionOf(midnight)).toEqual({ dt: '2027-01-01', hour: '00' });
    const nine = Date.UTC(2026, 1, 28, 9);
    expect(partitionOf(nine - 1).hour).toBe('08');
    expect(partitionOf(nine).hour).toBe('09');
    expect(partitionOf(Date.UTC(2028, 1, 29, 23, 59, 59, 999))).toEqual({ dt: '2028-02-29', hour: '23' });
  });

  test('no daylight saving: every UTC day has 24 hourly partitions', () => {
    const start = Date.UTC(2026, 2, 29); // Europe's switch to summer time
    const hours = new Set(Array.from({ length: 24 * 60 }, (_, m) => partitionOf(start + m * 60_000).hour));
    expect(hours.size).toBe(24);
  });

  test('keys', () => {
    const p = partitionOf(Date.UTC(2026, 10, 21, 7, 5));
    expect(rawKey('bcns', p, 'shardId-000000000000-4959')).toBe('raw/bcns/dt=2026-11-21/hour=07/shardId-000000000000-4959.json.gz');
    expect(parquetKey('auctions', p, 'f1')).toBe('parquet/auctions/dt=2026-11-21/hour=07/f1.parquet');
    expect(tablePrefix('parquet', 'bids')).toBe('parquet/bids/');
    expect(() => rawKey('bcns', p, '../x')).toThrow(/file id/);
    expect(() => parquetKey('bcns', p, 'a/b')).toThrow(/file id/);
  });

  test('an invalid time has no partition', () => {
    expect(() => partitionOf(Number.NaN)).toThrow(/not a time/);
  });
});
