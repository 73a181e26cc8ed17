/** Ingestion of a declared non-ad-tech stream (telemetry's `reading`): validated by its schema, stamped, keyed by its partition key. */
import { parseIngestRequest, type ParseResult } from '../../lambdas/ingest/parse';
import { streamOf } from '../../schemas/pipeline';
import { partitionKeyOf } from '../../schemas/stream-record';
import telemetry from '../../pipelines/telemetry';

const reading = streamOf(telemetry, 'reading');
const receivedAt = Date.parse('2024-05-01T12:00:00Z');
const policy = { maxClockSkewMs: 5 * 60_000, maxEventAgeMs: 24 * 3600_000 };
const parse = (body: unknown): ParseResult => parseIngestRequest(reading, { body: JSON.stringify(body), isBase64Encoded: false, contentType: 'application/json' }, receivedAt, policy);
const valid = { event_id: 'e-1', device_id: 'd-7', metric: 'temp', value: 21.5, unit: 'C' };

describe('parseIngestRequest on telemetry readings', () => {
  it('stamps type, received_at and event_time (the receive time without a timestamp), dropping unknown and server fields', () => {
    const out = parse({ ...valid, type: 'bid', received_at: 1, extra: true });
    expect(out).toEqual({ ok: true, events: [{ ...valid, type: 'reading', received_at: receivedAt, event_time: receivedAt }] });
  });

  it('takes a plausible timestamp as event time, and the receive time for one from the far future', () => {
    const ok = parse([{ ...valid, timestamp: '2024-05-01T11:59:00Z' }, { ...valid, event_id: 'e-2', timestamp: receivedAt + 3600_000 }]);
    if (!ok.ok) throw new Error(ok.message);
    expect(ok.events.map((e) => e.event_time)).toEqual([Date.parse('2024-05-01T11:59:00Z'), receivedAt]);
  });

  it('names every bad field, by index, and accepts none of the batch', () => {
    const out = parse([valid, { event_id: '', device_id: 'd', metric: 'm', value: 'hot' }, { ...valid, value: Infinity }]);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out).toMatchObject({ statusCode: 400, message: 'invalid reading events' });
    expect(out.issues).toEqual(expect.arrayContaining([
      expect.objectContaining({ index: 1, field: 'event_id' }),
      expect.objectContaining({ index: 1, field: 'value' }),
      // JSON has no Infinity: it arrives as null, which is not a number.
      expect.objectContaining({ index: 2, field: 'value' }),
    ]));
  });

  it('says a missing required field is required', () => {
    const out = parse({ event_id: 'e', device_id: 'd', metric: 'm' });
    expect(out).toMatchObject({ ok: false, statusCode: 400, message: 'invalid reading event', issues: [{ field: 'value', message: 'is required' }] });
  });

  it('refuses a non-object item naming the stream', () => {
    expect(parse([5])).toMatchObject({ ok: false, issues: [{ index: 0, field: '', message: 'each reading event must be a JSON object' }] });
  });

  it('puts a reading on the shard of its device', () => {
    const out = parse(valid);
    if (!out.ok) throw new Error(out.message);
    expect(partitionKeyOf(reading, out.events[0]!)).toBe('d-7');
  });
});
