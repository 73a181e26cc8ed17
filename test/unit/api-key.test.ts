/** The local API server's API-key check: per-route like API Gateway's apiKeyRequired, its 403 answer, before the body is read, constant-time. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiServer, apiKeyChecker, FORBIDDEN, type Route } from '../../local/api-server';
import { MAX_BODY_BYTES } from '../../lambdas/ingest/parse';
import { httpCall } from '../support/http';

describe('apiKeyChecker', () => {
  const matches = apiKeyChecker('k1-secret');

  it('accepts only the exact key', () => {
    expect(matches('k1-secret')).toBe(true);
    for (const wrong of [undefined, '', 'k1', 'k1-secreT', 'k1-secret ', ' k1-secret', 'k1-secretk1-secret', 'x'.repeat(10_000)]) {
      expect({ wrong, matches: matches(wrong) }).toEqual({ wrong, matches: false });
    }
  });

  it('refuses a repeated header (Node joins them) rather than picking one', () => {
    expect(matches(['k1-secret', 'k1-secret'])).toBe(false);
  });

  it('refuses to be built with an empty key', () => {
    expect(() => apiKeyChecker('')).toThrow(/empty/);
  });

  it('compares in constant time with timingSafeEqual on equal-length buffers', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require('node:crypto') as typeof import('node:crypto');
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const check = apiKeyChecker('short');
      check('a much longer presented key');
      check('short');
      expect(spy).toHaveBeenCalledTimes(2);
      for (const [a, b] of spy.mock.calls) expect((a as Buffer).length).toBe((b as Buffer).length);
    } finally {
      spy.mockRestore();
    }
  });
});

const call = httpCall;

describe('ApiServer with an API key', () => {
  const seen: APIGatewayProxyEvent[] = [];
  const handler = async (event: APIGatewayProxyEvent) => {
    seen.push(event);
    return { statusCode: 200, body: JSON.stringify({ ok: true }) };
  };
  const routes: Route[] = [
    { method: 'POST', resource: '/bid', handler, apiKeyRequired: true },
    { method: 'GET', resource: '/reports/campaigns/{id}', handler },
  ];
  let keyed: ApiServer;
  let open: ApiServer;
  let keyedPort: number;
  let openPort: number;

  beforeAll(async () => {
    keyed = new ApiServer({ routes, apiKey: 'k1' });
    open = new ApiServer({ routes });
    [keyedPort, openPort] = await Promise.all([keyed.listen(0), open.listen(0)]);
  });
  afterAll(async () => {
    await Promise.all([keyed?.close(), open?.close()]);
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const post = (port: number, headers: Record<string, string | number> = {}, body = '{"tx_id":"t"}') =>
    call(port, 'POST', '/bid', { 'content-type': 'application/json', ...headers }, body);

  it("answers a missing key as API Gateway does: 403 {\"message\":\"Forbidden\"}, without calling the handler", async () => {
    const res = await post(keyedPort);
    expect(res.status).toBe(403);
    expect(res.body).toBe('{"message":"Forbidden"}');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-amzn-errortype']).toBe('ForbiddenException');
    expect(res.body).toBe(FORBIDDEN.body);
    expect(seen).toHaveLength(0);
  });

  it('answers a wrong key the same way', async () => {
    // (HTTP itself trims a value's surrounding spaces, so 'k1 ' arrives as 'k1', in AWS too.)
    for (const key of ['k2', 'K1', 'k1k1', '']) {
      const res = await post(keyedPort, { 'x-api-key': key });
      expect({ key, status: res.status, body: res.body }).toEqual({ key, status: 403, body: '{"message":"Forbidden"}' });
    }
    expect(seen).toHaveLength(0);
  });

  it('passes the request with the right key to the handler', async () => {
    const res = await post(keyedPort, { 'x-api-key': 'k1' });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    // As API Gateway with every media type binary: the exact bytes, base64-encoded.
    expect(seen[0]).toMatchObject({ isBase64Encoded: true, body: Buffer.from('{"tx_id":"t"}').toString('base64') });
  });

  it('checks the key before reading the body: an oversized body without the key gets 403, not 413', async () => {
    const big = 'x'.repeat(MAX_BODY_BYTES + 1);
    expect((await post(keyedPort, {}, big)).status).toBe(403);
    expect((await post(keyedPort, { 'x-api-key': 'k1' }, big)).status).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it('does not ask for a key on routes without apiKeyRequired', async () => {
    const res = await call(keyedPort, 'GET', '/reports/campaigns/42');
    expect(res.status).toBe(200);
    expect(seen[0].pathParameters).toEqual({ id: '42' });
  });

  it('still answers unknown routes and methods 404/405, key or not', async () => {
    expect((await call(keyedPort, 'POST', '/nope')).status).toBe(404);
    expect((await call(keyedPort, 'GET', '/bid')).status).toBe(405);
  });

  it('checks nothing when it has no key (the local quick start)', async () => {
    expect((await post(openPort)).status).toBe(200);
    expect((await post(openPort, { 'x-api-key': 'anything' })).status).toBe(200);
    expect(seen).toHaveLength(2);
  });

  it('keeps serving after many 403s', async () => {
    for (let i = 0; i < 20; i++) expect((await post(keyedPort)).status).toBe(403);
    expect((await post(keyedPort, { 'x-api-key': 'k1' })).status).toBe(200);
  });
});
