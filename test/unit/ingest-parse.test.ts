/** Unit tests for lambdas/ingest/parse.ts: request body → stream events, or the 4xx that names the field. */
import { MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST, parseIngestRequest, type ParseResult, type RawRequest } from '../../lambdas/ingest/parse';
import type { EventType } from '../../pipelines/adtech/events';

const receivedAt = Date.parse('2024-05-01T12:00:00Z');
const policy = { maxClockSkewMs: 5 * 60_000, maxEventAgeMs: 24 * 3600_000 };

const bid = (n = 1, extra: Record<string, unknown> = {}) => ({ tx_id: `tx-${n}`, app_uid: `u-${n}`, campaign_item_id: n, ...extra });

function request(body: unknown, contentType: string | undefined = 'application/json', raw = false): RawRequest {
  return { body: raw ? (body as string) : JSON.stringify(body), isBase64Encoded: false, contentType };
}

function parse(type: EventType, req: RawRequest): ParseResult {
  return parseIngestRequest(type, req, receivedAt, policy);
}

function failure(result: ParseResult) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}

function success(result: ParseResult) {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result)}`);
  return result;
}

describe('parseIngestRequest', () => {
  describe('body shapes', () => {
    it('accepts a single object as one event', () => {
      const out = success(parse('bid', request(bid(7))));
      expect(out.events).toHaveLength(1);
      expect(out.events[0]).toMatchObject({ tx_id: 'tx-7', campaign_item_id: 7, type: 'bid' });
    });

    it('accepts an array as that many events, in order', () => {
      const out = success(parse('bid', request([bid(1), bid(2), bid(3)])));
      expect(out.events.map((e) => e.tx_id)).toEqual(['tx-1', 'tx-2', 'tx-3']);
    });

    it('accepts exactly the maximum number of events', () => {
      const body = Array.from({ length: MAX_EVENTS_PER_REQUEST }, (_, i) => bid(i));
      expect(success(parse('bid', request(body))).events).toHaveLength(500);
    });

    it('refuses an empty array with 400', () => {
      const out = failure(parse('bid', request([])));
      expect(out.statusCode).toBe(400);
      expect(out.message).toMatch(/empty/);
    });

    it('refuses 501 events with 400', () => {
      const body = Array.from({ length: MAX_EVENTS_PER_REQUEST + 1 }, (_, i) => bid(i));
      const out = failure(parse('bid', request(body)));
      expect(out.statusCode).toBe(400);
      expect(out.message).toMatch(/501/);
    });

    it('names non-object array items by index', () => {
      const out = failure(parse('click', request([{ tx_id: 'a' }, 5, 'str', null, [1], { tx_id: 'b' }])));
      expect(out.statusCode).toBe(400);
      expect(out.issues!.map((i) => [i.index, i.field])).toEqual([
        [1, ''],
        [2, ''],
        [3, ''],
        [4, ''],
      ]);
      for (const issue of out.issues!) expect(issue.message).toMatch(/JSON object/);
    });

    it.each([['a number', 42], ['a string', 'hello'], ['null', null]])('refuses a body that is %s', (_, body) => {
      const out = failure(parse('click', request(body)));
      expect(out.statusCode).toBe(400);
      expect(out.issues).toEqual([expect.objectContaining({ field: '' })]);
      expect(out.issues![0].index).toBeUndefined();
    });

    it('refuses the whole array when one item is bad, and names only that item', () => {
      const out = failure(parse('bid', request([bid(1), bid(2, { campaign_item_id: '2' }), bid(3)])));
      expect(out.statusCode).toBe(400);
      expect(out.issues).toEqual([expect.objectContaining({ index: 1, field: 'campaign_item_id' })]);
    });
  });

  describe('content type', () => {
    it.each([
      ['text/plain', 'text/plain'],
      ['form data', 'application/x-www-form-urlencoded'],
      ['xml', 'application/xml'],
    ])('refuses %s with 415', (_, contentType) => {
      const out = failure(parse('bid', request(bid(), contentType)));
      expect(out.statusCode).toBe(415);
      expect(out.message).toContain('application/json');
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['application/json', 'application/json'],
      ['with charset', 'application/json; charset=utf-8'],
      ['in capitals', 'Application/JSON'],
      ['a +json type', 'application/vnd.api+json'],
    ])('accepts content-type %s', (_, contentType) => {
      expect(success(parse('bid', request(bid(), contentType))).events).toHaveLength(1);
    });
  });

  describe('malformed and oversized bodies', () => {
    it.each([
      ['truncated JSON', '{"tx_id": "a"'],
      ['not JSON at all', 'tx_id=a'],
      ['an empty body', ''],
      ['trailing garbage', '{"tx_id":"a"} x'],
    ])('refuses %s with 400', (_, body) => {
      const out = failure(parse('click', request(body, 'application/json', true)));
      expect(out.statusCode).toBe(400);
      expect(out.message).toMatch(/JSON/);
    });

    it('refuses a null body with 400', () => {
      const out = failure(parse('click', { body: null, isBase64Encoded: false, contentType: 'application/json' }));
      expect(out.statusCode).toBe(400);
    });

    it('refuses a body over 1 MiB with 413, even if it is valid JSON', () => {
      const big = JSON.stringify({ tx_id: 'a', pad: 'x'.repeat(MAX_BODY_BYTES) });
      const out = failure(parse('click', request(big, 'application/json', true)));
      expect(out.statusCode).toBe(413);
    });

    it('counts bytes, not characters', () => {
      // 'é' is 2 bytes: fewer than 1 MiB characters but more than 1 MiB bytes.
      const body = JSON.stringify({ tx_id: 'a', pad: 'é'.repeat(MAX_BODY_BYTES / 2 + 10) });
      expect(body.length).toBeLessThan(MAX_BODY_BYTES + 100);
      expect(failure(parse('click', request(body, 'application/json', true))).statusCode).toBe(413);
    });

    it('accepts a body just under 1 MiB', () => {
      const skeleton = JSON.stringify({ tx_id: 'a', pad: '' });
      const body = JSON.stringify({ tx_id: 'a', pad: 'x'.repeat(MAX_BODY_BYTES - skeleton.length) });
      expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
      expect(success(parse('click', request(body, 'application/json', true))).events).toHaveLength(1);
    });
  });

  describe('base64 bodies', () => {
    it('decodes a base64 body', () => {
      const body = Buffer.from(JSON.stringify([bid(1), bid(2)])).toString('base64');
      const out = success(parse('bid', { body, isBase64Encoded: true, contentType: 'application/json' }));
      expect(out.events.map((e) => e.tx_id)).toEqual(['tx-1', 'tx-2']);
    });

    it('validates what the base64 body decodes to', () => {
      const body = Buffer.from(JSON.stringify({ tx_id: 'a' })).toString('base64');
      const out = failure(parse('impression', { body, isBase64Encoded: true, contentType: 'application/json' }));
      expect(out.statusCode).toBe(400);
      expect(out.issues).toEqual([expect.objectContaining({ field: 'win_price' })]);
    });

    it('applies the size limit to the decoded body', () => {
      const decoded = JSON.stringify({ tx_id: 'a', pad: 'x'.repeat(MAX_BODY_BYTES) });
      const body = Buffer.from(decoded).toString('base64');
      expect(failure(parse('click', { body, isBase64Encoded: true, contentType: 'application/json' })).statusCode).toBe(413);
    });
  });

  describe('text that is not valid Unicode', () => {
    // Every string field of each event type, with a valid value beside which a bad one is tried.
    const stringFields: Record<EventType, Record<string, unknown>> = {
      bid: { tx_id: 't', app_uid: 'u', campaign_item_id: 1, domain: 'd', creative_id: 'c', creative_category: 'k' },
      impression: { tx_id: 't', win_price: 1 },
      click: { tx_id: 't' },
    };
    const cases = (Object.entries(stringFields) as [EventType, Record<string, unknown>][]).flatMap(([type, good]) =>
      Object.keys(good)
        .filter((field) => typeof good[field] === 'string')
        .flatMap((field) => ['\\ud800', '\\udfff', 'a\\udbff', '\\udc00b', '\\ude00\\ud83d'].map((escape) => [type, field, escape] as const)),
    );

    it.each(cases)('refuses a %s whose %s holds the lone surrogate %s, naming field and index', (type, field, escape) => {
      const good = stringFields[type];
      // Written as JSON text: the escape is valid JSON and parses into a lone surrogate.
      const bad = JSON.stringify({ ...good, [field]: 'PLACEHOLDER' }).replace('PLACEHOLDER', escape);
      const body = `[${JSON.stringify(good)},${bad},${JSON.stringify(good)}]`;
      const out = failure(parse(type, request(body, 'application/json', true)));
      expect(out.statusCode).toBe(400);
      expect(out.issues).toEqual([{ index: 1, field, message: expect.stringMatching(/Unicode/) }]);
    });

    it('accepts the same characters as valid surrogate pairs, escaped or not', () => {
      const out = success(parse('click', request('[{"tx_id":"\\ud83d\\ude00"},{"tx_id":"😀"}]', 'application/json', true)));
      expect(out.events.map((e) => e.tx_id)).toEqual(['😀', '😀']);
    });

    it('refuses a body whose bytes are not UTF-8 with 400, before any event', () => {
      const body = Buffer.concat([Buffer.from('[{"tx_id":"a"},{"tx_id":"'), Buffer.from([0xff]), Buffer.from('"}]')]);
      const out = failure(parse('click', { body: body.toString('base64'), isBase64Encoded: true, contentType: 'application/json' }));
      expect(out.statusCode).toBe(400);
      expect(out.message).toMatch(/utf-8/);
    });

    it('accepts a leading UTF-8 byte order mark', () => {
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"tx_id":"a"}')]);
      expect(success(parse('click', { body: body.toString('base64'), isBase64Encoded: true, contentType: 'application/json' })).events).toHaveLength(1);
    });

    it('decodes a declared charset: iso-8859-1 "café" is café, not three ids collapsed into "caf\ufffd"', () => {
      const body = Buffer.from('[{"tx_id":"caf\xe9"},{"tx_id":"caf\xe8"}]', 'latin1');
      const out = success(parse('click', { body: body.toString('base64'), isBase64Encoded: true, contentType: 'application/json; charset=iso-8859-1' }));
      expect(out.events.map((e) => e.tx_id)).toEqual(['café', 'cafè']);
    });
  });

  describe('issues', () => {
    it('has no index for a single object, and names every bad field', () => {
      const out = failure(parse('bid', request({ tx_id: '', campaign_item_id: 4.5 })));
      expect(out.statusCode).toBe(400);
      const byField = Object.fromEntries(out.issues!.map((i) => [i.field, i]));
      expect(Object.keys(byField).sort()).toEqual(['app_uid', 'campaign_item_id', 'tx_id']);
      for (const issue of out.issues!) expect(issue.index).toBeUndefined();
      expect(byField.app_uid.message).toBe('is required');
      expect(byField.campaign_item_id.message).toMatch(/integer/);
    });

    it('gives index and field for each bad item of an array', () => {
      const out = failure(parse('impression', request([{ tx_id: 'a', win_price: 1 }, { tx_id: 'b' }, { win_price: 2.5, tx_id: 'c' }])));
      expect(out.issues!.map((i) => ({ index: i.index, field: i.field }))).toEqual([
        { index: 1, field: 'win_price' },
        { index: 2, field: 'win_price' },
      ]);
    });

    it('names a field of the wrong type by its path', () => {
      const out = failure(parse('bid', request({ ...bid(1), domain: { host: 'x' } })));
      expect(out.issues).toEqual([expect.objectContaining({ field: 'domain' })]);
    });

    it('does not reject for fields the server sets or unknown keys', () => {
      const out = success(parse('bid', request({ ...bid(1), type: 'click', received_at: 1, event_time: 2, extra: 'x' })));
      expect(out.events[0]).not.toHaveProperty('extra');
      expect(out.events[0].type).toBe('bid');
      expect(out.events[0].received_at).toBe(receivedAt);
      expect(out.events[0].event_time).toBe(receivedAt);
    });
  });

  describe('output events', () => {
    it('carry type, received_at and event_time', () => {
      for (const [type, body] of [
        ['bid', bid(3)],
        ['impression', { tx_id: 'a', win_price: 10 }],
        ['click', { tx_id: 'a' }],
      ] as const) {
        const [event] = success(parse(type, request(body))).events;
        expect(event).toMatchObject({ ...body, type, received_at: receivedAt, event_time: receivedAt });
      }
    });

    it('use a plausible client timestamp as event_time (ISO and epoch ms)', () => {
      const iso = '2024-05-01T11:59:00+00:00';
      const out = success(parse('click', request([{ tx_id: 'a', timestamp: iso }, { tx_id: 'b', timestamp: receivedAt - 5000 }])));
      expect(out.events.map((e) => e.event_time)).toEqual([Date.parse(iso), receivedAt - 5000]);
      expect(out.events[0]).toHaveProperty('timestamp', iso);
    });

    it('fall back to received_at for an implausible client timestamp', () => {
      const out = success(parse('click', request({ tx_id: 'a', timestamp: receivedAt + 3600_000 })));
      expect(out.events[0].event_time).toBe(receivedAt);
    });
  });
});
