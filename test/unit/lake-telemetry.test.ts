/**
 * The lake derived from a pipeline other than adtech: telemetry's tables and columns, its readings
 * written once per identity (two fields), its aggregation's revisions in a table named after it,
 * and compaction's dedupe by those identities; adtech and telemetry side by side.
 */
import adtech from '../../pipelines/adtech';
import telemetry, { readingSchema } from '../../pipelines/telemetry';
import { combinePipelines, count, definePipeline } from '../../schemas/pipeline';
import { usePipeline } from '../../schemas/active-pipeline';
import { lakeTablesOf, parquetSchema } from '../../schemas/lake';
import type { StreamRecord } from '../../schemas/stream-record';
import { aggregateGroups, aggregateRecordProblem, eventGroups } from '../../lambdas/lake-writer/rows';
import { selectForLake, type SequencedEvent } from '../../lambdas/lake-writer/select';
import { compactRows } from '../../lambdas/compaction/plan';
import { fence } from '../../lambdas/commons/sequence';

const T0 = Date.UTC(2026, 10, 21, 10);
const reading = (device_id: string, event_id: string, value: number, received = 0): StreamRecord => ({
  type: 'reading', event_id, device_id, metric: 'temp', value, received_at: T0 + received, event_time: T0, timestamp: T0,
});
const columns = (table: string) => lakeTablesOf(telemetry).find((t) => t.name === table)!.columns;

afterEach(() => usePipeline(adtech));

describe('tables', () => {
  test('one per stream and one per aggregation, named as declared', () => {
    expect(lakeTablesOf(telemetry).map((t) => [t.name, t.kind])).toEqual([['readings', 'stream'], ['devices', 'aggregation']]);
  });

  test('readings: the zod fields (unit optional, value a double), the client time left out', () => {
    expect(columns('readings')).toEqual([
      { name: 'event_id', type: 'string', nullable: false },
      { name: 'device_id', type: 'string', nullable: false },
      { name: 'metric', type: 'string', nullable: false },
      { name: 'value', type: 'double', nullable: false },
      { name: 'unit', type: 'string', nullable: true },
      { name: 'event_time', type: 'timestamp', nullable: false },
      { name: 'received_at', type: 'timestamp', nullable: false },
    ]);
  });

  test('devices: the feed record (group fields, window, measures typed from their field, min and max null until a value)', () => {
    expect(columns('devices').map((c) => `${c.name} ${c.type}${c.nullable ? '?' : ''}`)).toEqual([
      'device_id string', 'metric string', 'period int64', 'period_start timestamp', 'period_seconds int64',
      'readings int64', 'total double', 'minimum double?', 'maximum double?', 'late_events int64', 'revision int64', 'updated_at timestamp',
    ]);
  });

  test('adtech and telemetry side by side: both sets of tables', () => {
    expect(lakeTablesOf(combinePipelines([adtech, telemetry])).map((t) => t.name)).toEqual(['bcns', 'bids', 'impressions', 'clicks', 'readings', 'aggregates', 'devices', 'auctions']);
  });
});

describe('the lake writer', () => {
  test('a reading goes to readings (no events table is declared), its identity being device and event', () => {
    usePipeline(telemetry);
    const records = [reading('d1', 'e1', 20), reading('d2', 'e1', 21), reading('d1', 'e1', 20, 9)];
    const batch: SequencedEvent<StreamRecord>[] = records.map((event, i) => ({ seq: fence(String(i + 1)), arrivedAt: 0, event }));
    const { events, states } = selectForLake(batch, new Map(), { fileId: 'f', expiresAt: 5, retentionSeconds: 0 });
    expect(events).toEqual([records[0], records[1]]);
    expect(states.map((s) => [s.tx_id, s.reading_seq])).toEqual([['["d1","e1"]', fence('1')], ['["d2","e1"]', fence('2')]]);
    const groups = eventGroups(events);
    expect(groups.map((g) => g.table)).toEqual(['readings']);
    expect(groups[0].rows[0]).toEqual({ event_id: 'e1', device_id: 'd1', metric: 'temp', value: 20, unit: null, event_time: T0, received_at: T0 });
    expect(parquetSchema('readings')).toHaveLength(8);
  });

  test("an aggregate record goes to its aggregation's table; one missing a group field is refused, named", () => {
    usePipeline(telemetry);
    const record = { aggregation: 'devices', device_id: 'd1', metric: 'temp', period: T0 / 1000, readings: 2, total: 41, minimum: 20, late_events: 0, revision: 3, updated_at: T0 };
    const [group] = aggregateGroups([record]);
    expect(group.table).toBe('devices');
    expect(group.rows[0]).toMatchObject({ period_start: T0, period_seconds: 60, maximum: null });
    expect(aggregateRecordProblem({ ...record, metric: undefined })).toBe('metric is not a string');
    expect(aggregateRecordProblem({ ...record, aggregation: 'nope' })).toMatch(/no aggregation nope/);
  });
});

describe('compaction', () => {
  test('readings: once per (device, event), the earliest received copy; devices: the highest revision per group and window', () => {
    usePipeline(telemetry);
    const rows = [reading('d1', 'e1', 20, 5), reading('d2', 'e1', 21), reading('d1', 'e1', 20, 1)];
    expect(compactRows('readings', rows)).toEqual([rows[2], rows[1]]);
    const rev = (device_id: string, revision: number) => ({ device_id, metric: 'temp', period: 60, revision });
    expect(compactRows('devices', [rev('d2', 1), rev('d1', 2), rev('d1', 1), rev('d2', 4)])).toEqual([rev('d1', 2), rev('d2', 4)]);
  });
});

describe('declaring lake tables', () => {
  const stream = { schema: readingSchema, identity: ['device_id', 'event_id'], partitionKey: 'device_id' };
  const declare = (extra: object) => () => definePipeline({ name: 'p', streams: { reading: stream }, aggregations: { devices: { stream: 'reading', groupBy: ['device_id'], measures: { n: count() } } }, ...extra });

  test('an events table, an aggregation lake table and built tables are checked with the rest', () => {
    expect(declare({ eventsTable: 'everything' })().eventsTables).toEqual([{ name: 'everything', pipeline: 'p', streams: ['reading'] }]);
    expect(declare({ eventsTable: 'reading' })).toThrow(/two lake tables are named reading/);
    expect(declare({ eventsTable: 'devices' })).toThrow(/two lake tables are named devices/);
    expect(declare({ eventsTable: 'Bad-Name' })).toThrow(/events table "Bad-Name" must be lower case/);
    const built = { description: 'x', columns: [{ name: 'event_time', type: 'timestamp', nullable: false }], stream: 'reading', joins: ['alarm'], rows: () => [] };
    expect(declare({ lakeTables: { joined: built } })).toThrow(/lake table joined: stream alarm is not declared/);
    expect(declare({ lakeTables: { joined: { ...built, joins: [], columns: [] } } })).toThrow(/lake table joined: needs a required event_time timestamp column/);
  });
});
