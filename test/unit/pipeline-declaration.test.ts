import { z } from 'zod';
import { count, definePipeline, combinePipelines, hasModel, max, PipelineError, ratio, sum, type PipelineDeclaration } from '../../schemas/pipeline';
import { clientTimestamp, id } from '../../schemas/fields';
import adtech from '../../pipelines/adtech';
import telemetry from '../../pipelines/telemetry';
import { queriesOverTables, queryTables, readNamedQueries } from '../../lib/analytics';

const reading = z.object({ device_id: id(), event_id: id(), site: z.string().optional(), value: z.number(), ok: z.boolean(), timestamp: clientTimestamp.optional() });
const valid: PipelineDeclaration = {
  name: 'sensors',
  streams: { reading: { schema: reading, identity: ['device_id', 'event_id'], partitionKey: 'device_id' } },
  aggregations: { per_device: { stream: 'reading', groupBy: ['device_id'], measures: { readings: count(), total: sum('value') }, derived: { mean: ratio('total', 'readings') } } },
};

function problemsOf(declaration: PipelineDeclaration): readonly string[] {
  try {
    definePipeline(declaration);
  } catch (err) {
    if (err instanceof PipelineError) return err.problems;
    throw err;
  }
  return [];
}

describe('pipeline declarations', () => {
  it('derives routes, lake tables, event time and defaults from a valid declaration', () => {
    const p = definePipeline(valid);
    expect(p.streams[0]).toMatchObject({ name: 'reading', route: '/reading', lakeTable: 'reading', eventTime: 'timestamp', partitionKey: 'device_id' });
    expect(p.aggregations[0]).toMatchObject({ name: 'per_device', route: 'per_device', periodSeconds: 60, join: undefined });
    expect(p.aggregations[0].measures).toEqual([
      { name: 'readings', kind: 'count', stream: 'reading', field: undefined },
      { name: 'total', kind: 'sum', stream: 'reading', field: 'value' },
    ]);
  });

  it("keeps a stream's example event (shown by sdp local) and refuses one its schema does not accept", () => {
    const example = { device_id: 'd1', event_id: 'e1', value: 1, ok: true };
    expect(definePipeline({ ...valid, streams: { reading: { ...valid.streams.reading, example } } }).streams[0].example).toEqual(example);
    expect(problemsOf({ ...valid, streams: { reading: { ...valid.streams.reading, example: { device_id: 'd1' } } } })).toEqual([expect.stringMatching(/^stream reading: example is not a valid event: event_id/)]);
  });

  it('lists every problem of a declaration at once, naming the stream, aggregation and field', () => {
    const problems = problemsOf({
      name: 'Bad-Name',
      streams: { reading: { schema: reading, identity: ['site'], partitionKey: 'device_id', eventTime: 'value' } },
      aggregations: {
        per_site: { stream: 'reading', groupBy: ['site'], measures: { top: max('ok'), n: count('other') }, derived: { r: ratio('n', 'missing') }, periodSeconds: 0 },
        orphan: { stream: 'nope', groupBy: ['x'], measures: { n: count() } },
      },
    });
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringContaining('pipeline "Bad-Name" must be lower case'),
      'stream reading: identity field site must be a required string or integer field',
      expect.stringContaining('stream reading: partition key device_id must be one of its identity fields'),
      expect.stringContaining('stream reading: event time field value must be optional'),
      'aggregation per_site: group field site must be a required string, integer or boolean field',
      'aggregation per_site: measure top: max of ok, which is not numeric',
      expect.stringContaining('aggregation per_site: measure n measures stream other'),
      'aggregation per_site: derived value r uses missing, which is not a measure',
      expect.stringContaining('aggregation per_site: periodSeconds must be a whole number'),
      'aggregation orphan: stream nope is not declared',
    ]));
    expect(problems).toHaveLength(10);
  });

  it('refuses a join whose streams could carry two events per key, and names the platform\'s own fields', () => {
    const problems = problemsOf({
      ...valid,
      streams: { ...valid.streams, alert: { schema: z.object({ device_id: id(), received_at: z.number() }), identity: ['device_id'], partitionKey: 'device_id' } },
      aggregations: { joined: { stream: 'reading', join: { key: 'device_id', streams: ['alert'] }, groupBy: ['device_id'], measures: { n: count(), alerts: count('alert') } } },
    });
    expect(problems).toEqual([
      expect.stringContaining('stream alert: field "received_at" is a name the platform uses itself'),
      'aggregation joined: stream reading joins on device_id, so its identity must be [device_id] (one event per key)',
    ]);
  });

  it('runs pipelines side by side only when their names do not collide', () => {
    expect(combinePipelines([adtech, telemetry]).streams.map((s) => s.route)).toEqual(['/bid', '/impression', '/click', '/reading']);
    expect(() => combinePipelines([telemetry, telemetry])).toThrow('two streams are named reading');
  });

  it('declares the shipped pipelines: ad-tech joins per auction, telemetry keys by device and event', () => {
    const [campaigns] = adtech.aggregations;
    expect(campaigns).toMatchObject({ stream: 'bid', route: 'campaigns', join: { key: 'tx_id', streams: ['impression', 'click'] } });
    expect(campaigns.groupBy.map((g) => g.name)).toEqual(['campaign_item_id']);
    expect(adtech.streams.map((s) => s.lakeTable)).toEqual(['bids', 'impressions', 'clicks']);
    const [devices] = telemetry.aggregations;
    expect(devices.measures.map((m) => `${m.kind}:${m.field ?? ''}`)).toEqual(['count:', 'sum:value', 'min:value', 'max:value']);
  });
});

describe('a declared model', () => {
  it('is adtech\'s: combined pipelines have it when one of them declares it', () => {
    expect(adtech.models).toEqual(['bid-win']);
    expect(hasModel(adtech)).toBe(true);
    expect(hasModel(telemetry)).toBe(false);
    expect(hasModel(combinePipelines([telemetry, adtech]))).toBe(true);
  });
});

describe('saved queries by their tables', () => {
  it('keeps only the queries whose raw_/parquet_ tables are declared', () => {
    expect(queryTables('SELECT * FROM parquet_bids b JOIN raw_clicks c ON b.tx_id = c.tx_id JOIN parquet_bids x')).toEqual(['bids', 'clicks']);
    expect(queriesOverTables(readNamedQueries(), ['readings', 'devices'])).toEqual([]);
    expect(queriesOverTables(readNamedQueries(), ['bids', 'impressions', 'clicks']).map((q) => q.name)).toEqual(['campaign-performance-by-hour', 'ctr-by-domain', 'late-events', 'win-rate-by-price-bucket']);
  });
});
