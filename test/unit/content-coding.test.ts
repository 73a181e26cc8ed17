/**
 * Request content codings in the local API server (local/content-coding.ts and its use in
 * local/api-server.ts), as API Gateway treats them: gzip, deflate and identity undone before the
 * handler, anything else 415 naming the accepted codings, the decoded size capped while inflating.
 */
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { MAX_BODY_BYTES } from '../../lambdas/commons/body';
import { ApiServer } from '../../local/api-server';
import { decodeContentCoding } from '../../local/content-coding';
import { httpCall } from '../support/http';

const json = Buffer.from(JSON.stringify([{ tx_id: 'a' }, { tx_id: 'é😀' }]));

/**
 * A gzip body that inflates to `mib` MiB of zeros, cheaply: one gzip member of 64 MiB repeated
 * (a gzip stream may hold several members, each inflated in turn).
 */
function gzipBomb(mib: number): Buffer {
  const member = gzipSync(Buffer.alloc(Math.min(mib, 64) * 1024 * 1024));
  return Buffer.concat(Array.from({ length: Math.ceil(mib / 64) }, () => member));
}

describe('decodeContentCoding', () => {
  const decode = (body: Buffer, coding: string | undefined) => decodeContentCoding(body, coding, MAX_BODY_BYTES);

  it.each([
    ['no header', undefined, json],
    ['identity', 'identity', json],
    ['gzip', 'gzip', gzipSync(json)],
    ['GZIP in capitals', 'GZIP', gzipSync(json)],
    ['deflate (the zlib format, RFC 9110)', 'deflate', deflateSync(json)],
    ['gzip then deflate, undone in reverse', 'gzip, deflate', deflateSync(gzipSync(json))],
    ['gzip, identity', 'gzip, identity', gzipSync(json)],
  ])('undoes %s', async (_, coding, body) => {
    expect(await decode(body, coding)).toEqual({ ok: true, body: json });
  });

  it.each(['br', 'compress', 'zstd', 'x-gzip', 'gzip, br', 'chunked'])('answers %s with 415 naming the accepted codings', async (coding) => {
    const out = await decode(gzipSync(json), coding);
    expect(out).toMatchObject({ ok: false, statusCode: 415, headers: { 'accept-encoding': 'gzip, deflate, identity' } });
    expect(!out.ok && out.message).toMatch(/not supported; accepted content codings: gzip, deflate, identity/);
  });

  it.each([
    ['plain JSON labelled gzip', 'gzip', json],
    ['garbage labelled gzip', 'gzip', Buffer.from('\x1f\x8bnot really gzip at all')],
    ['a truncated gzip stream', 'gzip', gzipSync(json).subarray(0, 12)],
    ['JSON labelled deflate', 'deflate', json],
    ['raw deflate (RFC 1951) labelled deflate, which RFC 9110 defines as the zlib format', 'deflate', deflateRawSync(json)],
  ])('answers %s with 415 (API Gateway: "the supplied payload isn\'t compressed with specified coding")', async (_, coding, body) => {
    const out = await decode(body, coding);
    expect(out).toMatchObject({ ok: false, statusCode: 415 });
    expect(!out.ok && out.message).toMatch(new RegExp(`not valid ${coding} data`));
  });

  it('decodes a body exactly at the limit, and answers one byte more with 413', async () => {
    const at = Buffer.alloc(MAX_BODY_BYTES, 0x20);
    const out = await decode(gzipSync(at), 'gzip');
    expect(out.ok && out.body.equals(at)).toBe(true);
    expect(await decode(gzipSync(Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)), 'gzip')).toMatchObject({ ok: false, statusCode: 413 });
  });

  it('stops a 1 GiB compression bomb at the limit: 413 quickly, without inflating it whole', async () => {
    const bomb = gzipBomb(1024);
    expect(bomb.length).toBeLessThan(MAX_BODY_BYTES); // it passes the raw-size check
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    const out = await decode(bomb, 'gzip');
    expect(out).toMatchObject({ ok: false, statusCode: 413 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    // Nested codings are capped at each step.
    expect(await decode(deflateSync(gzipBomb(64)), 'gzip, deflate')).toMatchObject({ ok: false, statusCode: 413 });
  });
});

describe('the local API server with compressed bodies', () => {
  const seen: APIGatewayProxyEvent[] = [];
  const server = new ApiServer({
    routes: [{ method: 'POST', resource: '/bid', handler: async (event) => (seen.push(event), { statusCode: 200, body: '{}' }) }],
  });
  let port: number;
  beforeAll(async () => {
    port = await server.listen(0);
  });
  afterAll(() => server.close());
  beforeEach(() => (seen.length = 0));

  const post = (headers: Record<string, string>, body: Buffer) => httpCall(port, 'POST', '/bid', { 'content-type': 'application/json', ...headers }, body);

  it('hands the handler the decoded bytes, base64-encoded, as API Gateway does with every media type binary', async () => {
    expect((await post({ 'content-encoding': 'gzip' }, gzipSync(json))).status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0].isBase64Encoded).toBe(true);
    expect(Buffer.from(seen[0].body!, 'base64')).toEqual(json);
  });

  it('hands invalid UTF-8 bytes over unchanged (the handler refuses them), never as U+FFFD', async () => {
    const bad = Buffer.from([0x22, 0xff, 0x22]);
    await post({}, bad);
    expect(Buffer.from(seen[0].body!, 'base64')).toEqual(bad);
  });

  it('answers an unknown coding 415 with Accept-Encoding, before the handler', async () => {
    const res = await post({ 'content-encoding': 'br' }, json);
    expect(res.status).toBe(415);
    expect(res.headers['accept-encoding']).toBe('gzip, deflate, identity');
    expect(JSON.parse(res.body).error).toMatch(/"br" is not supported/);
    expect(seen).toHaveLength(0);
  });

  it('answers a compression bomb 413 before the handler', async () => {
    const res = await post({ 'content-encoding': 'gzip' }, gzipBomb(256));
    expect(res.status).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it('passes an empty body as null', async () => {
    await post({ 'content-encoding': 'gzip' }, Buffer.alloc(0));
    expect(seen[0]).toMatchObject({ body: null, isBase64Encoded: false });
  });
});
