/** Unit tests for pipelines/adtech/events.ts: what the ingestion API accepts, rejects and strips. */
import {
  bidSchema,
  clickSchema,
  clientEventSchemas,
  impressionSchema,
  streamEventSchema,
  EVENT_TYPES,
} from '../../pipelines/adtech/events';
import { parseIngestRequest } from '../../lambdas/ingest/parse';

const validBid = {
  tx_id: 'tx-1',
  app_uid: 'user-1',
  campaign_item_id: 42,
  domain: 'news.example',
  creative_id: 'cr-7',
  creative_category: 'sports',
  win_price: 1500,
  timestamp: '2024-05-01T12:00:00Z',
};
const validImpression = { tx_id: 'tx-1', win_price: 1200, timestamp: 1714564800000 };
const validClick = { tx_id: 'tx-1' };

const valid = { bid: validBid, impression: validImpression, click: validClick } as const;

/** The paths of the issues zod reports, dotted. */
function issuePaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  return result.success ? [] : result.error!.issues.map((i) => i.path.map(String).join('.'));
}

describe('client event schemas', () => {
  it.each(EVENT_TYPES)('accepts a valid %s', (type) => {
    const out = clientEventSchemas[type].safeParse(valid[type]);
    expect(out.success).toBe(true);
  });

  it('keeps the bid fields the client sent', () => {
    expect(bidSchema.parse(validBid)).toEqual(validBid);
  });

  it('accepts a bid with only the required fields', () => {
    expect(bidSchema.safeParse({ tx_id: 't', app_uid: 'u', campaign_item_id: 0 }).success).toBe(true);
  });

  const required: [string, Record<string, unknown>, string[]][] = [
    ['bid', validBid, ['tx_id', 'app_uid', 'campaign_item_id']],
    ['impression', validImpression, ['tx_id', 'win_price']],
    ['click', validClick, ['tx_id']],
  ];
  for (const [type, event, fields] of required) {
    it.each(fields)(`rejects a ${type} without %s, with an issue at that path`, (field) => {
      const rest: Record<string, unknown> = { ...event };
      delete rest[field];
      const out = clientEventSchemas[type as keyof typeof clientEventSchemas].safeParse(rest);
      expect(out.success).toBe(false);
      expect(issuePaths(out)).toEqual([field]);
    });
  }

  it('reports every missing field of a bid at once', () => {
    const out = bidSchema.safeParse({});
    expect(issuePaths(out).sort()).toEqual(['app_uid', 'campaign_item_id', 'tx_id']);
  });

  it.each([
    ['a numeric string', '42'],
    ['a float', 4.5],
    ['a negative number', -1],
    ['null', null],
    ['a boolean', true],
  ])('rejects campaign_item_id as %s', (_, value) => {
    const out = bidSchema.safeParse({ ...validBid, campaign_item_id: value });
    expect(out.success).toBe(false);
    expect(issuePaths(out)).toEqual(['campaign_item_id']);
  });

  it.each([
    ['a float', 12.5],
    ['a negative number', -5],
    ['a string', '100'],
  ])('rejects win_price as %s (impression and bid)', (_, value) => {
    const imp = impressionSchema.safeParse({ ...validImpression, win_price: value });
    expect(imp.success).toBe(false);
    expect(issuePaths(imp)).toEqual(['win_price']);
    const bid = bidSchema.safeParse({ ...validBid, win_price: value });
    expect(bid.success).toBe(false);
    expect(issuePaths(bid)).toEqual(['win_price']);
  });

  it('says "must be an integer" for a float price', () => {
    const out = impressionSchema.safeParse({ ...validImpression, win_price: 1.25 });
    expect(out.success).toBe(false);
    expect(out.error!.issues[0].message).toMatch(/integer/);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['a number', 17],
    ['too long', 'x'.repeat(257)],
  ])('rejects tx_id that is %s', (_, value) => {
    const out = clickSchema.safeParse({ tx_id: value });
    expect(out.success).toBe(false);
    expect(issuePaths(out)).toEqual(['tx_id']);
  });

  describe('timestamp', () => {
    it.each([
      ['ISO with Z', '2024-05-01T12:00:00Z'],
      ['ISO with milliseconds', '2024-05-01T12:00:00.123Z'],
      ['ISO with a positive offset', '2024-05-01T14:00:00+02:00'],
      ['ISO with a negative offset', '2024-05-01T07:00:00-05:00'],
      ['epoch ms', 1714564800000],
      ['epoch 0', 0],
    ])('accepts %s', (_, timestamp) => {
      expect(clickSchema.safeParse({ tx_id: 't', timestamp }).success).toBe(true);
    });

    it('is optional', () => {
      expect(clickSchema.safeParse({ tx_id: 't' }).success).toBe(true);
    });

    it.each([
      ['garbage text', 'yesterday'],
      ['a date without a time', '2024-05-01'],
      ['a local time without an offset (ambiguous)', '2024-05-01T12:00:00'],
      ['an impossible day', '2024-02-30T12:00:00Z'],
      ['an impossible date', '2024-13-45T99:00:00Z'],
      ['a float', 1714564800000.5],
      ['a negative epoch', -1],
      ['a numeric string', '1714564800000'],
      ['an object', { at: 1 }],
      ['null', null],
    ])('rejects %s', (_, timestamp) => {
      const out = clickSchema.safeParse({ tx_id: 't', timestamp });
      expect(out.success).toBe(false);
      expect(issuePaths(out)).toEqual(['timestamp']);
    });
  });

  describe('fields the client may not set', () => {
    const injected = { type: 'click', received_at: 'not-a-number', event_time: -99, surprise: { deep: true }, admin: 1 };

    it.each(EVENT_TYPES)('strips type, received_at, event_time and unknown keys from a %s, never rejecting', (type) => {
      const out = clientEventSchemas[type].safeParse({ ...valid[type], ...injected });
      expect(out.success).toBe(true);
      const data = out.data as Record<string, unknown>;
      for (const key of Object.keys(injected)) expect(data).not.toHaveProperty(key);
      expect(data).toEqual(valid[type]);
    });
  });
});

describe('streamEventSchema', () => {
  const receivedAt = Date.parse('2024-05-01T12:00:30Z');
  const policy = { maxClockSkewMs: 300_000, maxEventAgeMs: 86_400_000 };

  it.each(EVENT_TYPES)('decodes the %s record the ingestion API writes', (type) => {
    const parsed = parseIngestRequest(type, { body: JSON.stringify(valid[type]), isBase64Encoded: false, contentType: 'application/json' }, receivedAt, policy);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    // What goes on the stream is the JSON of the event; decode it as a consumer would.
    const wire = JSON.parse(JSON.stringify(parsed.events[0]));
    const decoded = streamEventSchema.parse(wire);
    expect(decoded).toEqual(parsed.events[0]);
    expect(decoded.type).toBe(type);
    expect(decoded.received_at).toBe(receivedAt);
  });

  it('rejects a record without the server fields', () => {
    expect(streamEventSchema.safeParse(validBid).success).toBe(false);
    expect(streamEventSchema.safeParse({ ...validBid, type: 'bid', received_at: 1 }).success).toBe(false);
  });

  it('rejects a record of an unknown type', () => {
    expect(streamEventSchema.safeParse({ ...validClick, type: 'conversion', received_at: 1, event_time: 1 }).success).toBe(false);
  });

  it('checks the fields of the type it claims', () => {
    // A "bid" record without campaign_item_id is not a bid.
    expect(streamEventSchema.safeParse({ tx_id: 't', type: 'bid', received_at: 1, event_time: 1 }).success).toBe(false);
  });
});
