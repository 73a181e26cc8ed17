/** Schemas that evolve (schemas/pipeline-evolution.ts): additive changes taken, breaking ones refused with what to do instead. */
import { z } from 'zod';
import { count, definePipeline, max, sum, type AggregationDeclaration, type PipelineDeclaration, type StreamDeclaration } from '../../schemas/pipeline';
import { breakingChanges, checkEvolution, parsePipelineSchema, pipelineSchema, SchemaEvolutionError } from '../../schemas/pipeline-evolution';
import adtech from '../../pipelines/adtech';
import telemetry, { readingSchema } from '../../pipelines/telemetry';

const devices: AggregationDeclaration = {
  stream: 'reading',
  groupBy: ['device_id', 'metric'],
  measures: { readings: count(), total: sum('value'), maximum: max('value') },
};
const reading: StreamDeclaration = { schema: readingSchema, identity: ['device_id', 'event_id'], partitionKey: 'device_id', lakeTable: 'readings' };

function variant(change: { stream?: Partial<StreamDeclaration>; aggregation?: Partial<AggregationDeclaration>; more?: Partial<PipelineDeclaration> }) {
  return definePipeline({
    name: 'telemetry',
    streams: { reading: { ...reading, ...change.stream } },
    aggregations: { devices: { ...devices, ...change.aggregation } },
    ...change.more,
  });
}

const base = pipelineSchema(variant({}));
const changes = (change: Parameters<typeof variant>[0]) => breakingChanges(base, pipelineSchema(variant(change)));

describe('additive changes are taken', () => {
  test('the same pipeline: nothing to store', () => {
    expect(checkEvolution(base, pipelineSchema(variant({})), 'b.json')).toEqual({ next: base, changed: false });
  });

  test('a new optional field: a new nullable column in the stream table, stored in the baseline', () => {
    const current = pipelineSchema(variant({ stream: { schema: readingSchema.extend({ firmware: z.string().optional() }) } }));
    const { next, changed } = checkEvolution(base, current, 'b.json');
    expect(changed).toBe(true);
    expect(next.streams.reading.fields.firmware).toEqual({ kind: 'string', required: false });
    expect(next.tables.readings.firmware).toEqual({ type: 'string', nullable: true });
  });

  test('a required field made optional, a new measure, a new stream and aggregation', () => {
    expect(changes({ stream: { schema: readingSchema.extend({ metric: z.string().optional() }) }, aggregation: { groupBy: ['device_id'] } })).toContain('aggregation devices: group changed from [device_id, metric] to [device_id]');
    expect(changes({ aggregation: { measures: { ...devices.measures, events: count() } } })).toEqual([]);
    const more = variant({ more: { streams: { reading, alarm: { schema: z.object({ alarm_id: z.string() }), identity: ['alarm_id'], partitionKey: 'alarm_id' } } } });
    expect(breakingChanges(base, pipelineSchema(more))).toEqual([]);
  });

  test('a stream no longer declared keeps its entry: declaring it again is checked against its data', () => {
    const withAlarm = pipelineSchema(variant({ more: { streams: { reading, alarm: { schema: z.object({ alarm_id: z.string(), level: z.number() }), identity: ['alarm_id'], partitionKey: 'alarm_id' } } } }));
    const { next } = checkEvolution(withAlarm, base, 'b.json');
    expect(Object.keys(next.streams).sort()).toEqual(['alarm', 'reading']);
    const again = pipelineSchema(variant({ more: { streams: { reading, alarm: { schema: z.object({ alarm_id: z.string(), level: z.string() }), identity: ['alarm_id'], partitionKey: 'alarm_id' } } } }));
    expect(breakingChanges(next, again)).toEqual(['stream alarm: field level changed type from number to string']);
  });
});

describe('breaking changes are refused, each named once', () => {
  test('a field removed, retyped, made required; a new required field', () => {
    const { unit: _unit, ...withoutUnit } = readingSchema.shape;
    expect(changes({ stream: { schema: z.object(withoutUnit) } })).toEqual(['stream reading: field unit removed (make it optional instead)']);
    // The measures of the field change type with it.
    expect(changes({ stream: { schema: readingSchema.extend({ value: z.number().int() }) } })).toEqual([
      'stream reading: field value changed type from number to integer',
      'lake table devices: column total changed type from double to int64',
      'lake table devices: column maximum changed type from double to int64',
    ]);
    expect(changes({ stream: { schema: readingSchema.extend({ unit: z.string() }) } })).toEqual(['stream reading: field unit made required (events already written may lack it)']);
    expect(changes({ stream: { schema: readingSchema.extend({ site: z.string() }) } })).toEqual(['stream reading: new field site is required (events already written lack it: declare it optional)']);
  });

  test('identity, partition key, lake table, group, period, a measure removed or retyped', () => {
    expect(changes({ stream: { identity: ['event_id'], partitionKey: 'event_id' } })).toEqual([
      'stream reading: identity changed from [device_id, event_id] to [event_id]',
      'stream reading: partition key changed from device_id to event_id',
    ]);
    expect(changes({ aggregation: { periodSeconds: 300 } })).toEqual(['aggregation devices: period changed from 60 s to 300 s']);
    expect(changes({ aggregation: { measures: { readings: count(), total: sum('value') } } })).toEqual(['aggregation devices: measure maximum removed']);
    expect(changes({ aggregation: { measures: { ...devices.measures, total: max('value') } } })).toEqual(['aggregation devices: measure total changed from sum(value) of reading to max(value) of reading']);
  });

  test('the error is one line: the baseline, every change, and what to do instead', () => {
    const current = pipelineSchema(variant({ aggregation: { periodSeconds: 300 }, stream: { schema: readingSchema.extend({ unit: z.string() }) } }));
    let error: unknown;
    try {
      checkEvolution(base, current, 'pipelines/telemetry.schema.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaEvolutionError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^pipelines\/telemetry\.schema\.json: .*field unit made required.*; aggregation devices: period changed from 60 s to 300 s.*adding optional fields.*declare a new stream/);
  });
});

describe('baselines', () => {
  test('the shipped pipelines round-trip through JSON', () => {
    for (const p of [adtech, telemetry]) {
      const schema = pipelineSchema(p);
      expect(parsePipelineSchema(JSON.parse(JSON.stringify(schema)))).toEqual(schema);
    }
    expect(Object.keys(pipelineSchema(adtech).tables)).toEqual(['bcns', 'bids', 'impressions', 'clicks', 'aggregates', 'auctions']);
  });

  test('a damaged baseline is refused, naming what is wrong', () => {
    const good = JSON.parse(JSON.stringify(base));
    expect(() => parsePipelineSchema([])).toThrow(/not a JSON object/);
    expect(() => parsePipelineSchema({ ...good, format: 9 })).toThrow(/format 9/);
    expect(() => parsePipelineSchema({ ...good, streams: { reading: { ...good.streams.reading, fields: { value: { kind: 'float', required: true } } } } })).toThrow(/streams\.reading\.fields\.value is not valid/);
    expect(() => parsePipelineSchema({ ...good, tables: { readings: { value: { type: 'int', nullable: false } } } })).toThrow(/tables\.readings\.value is not valid/);
  });
});
