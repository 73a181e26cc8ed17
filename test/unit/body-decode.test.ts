/** Unit tests for lambdas/commons/body.ts: the one reader of JSON request bodies (media type, size, charset, strict text, BOM). */
import { decodeJsonBody, MAX_BODY_BYTES, type DecodedBody, type RawBody } from '../../lambdas/commons/body';
import { handler as predict } from '../../lambdas/predict/handler';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** A body as API Gateway hands it over with every media type binary: its bytes, base64-encoded. */
const bytes = (b: Buffer | string, contentType: string | undefined = 'application/json'): RawBody => ({
  body: Buffer.from(b).toString('base64'),
  isBase64Encoded: true,
  contentType,
});

function failure(result: DecodedBody) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}
function value(result: DecodedBody) {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result)}`);
  return result.value;
}

describe('decodeJsonBody', () => {
  describe('strict UTF-8', () => {
    it('decodes UTF-8 bytes, multi-byte characters included', () => {
      expect(value(decodeJsonBody(bytes('{"tx_id":"é€😀"}')))).toEqual({ tx_id: 'é€😀' });
    });

    it.each([
      ['a lone continuation byte', [0x80]],
      ['a truncated sequence', [0xc3]],
      ['an overlong encoding', [0xc0, 0xaf]],
      ['an encoded surrogate (CESU)', [0xed, 0xa0, 0x80]],
      ['0xff', [0xff]],
    ])('refuses %s with a 400 saying the body is not UTF-8 (never U+FFFD)', (_, bad) => {
      const body = Buffer.concat([Buffer.from('{"tx_id":"a'), Buffer.from(bad), Buffer.from('"}')]);
      const out = failure(decodeJsonBody(bytes(body)));
      expect(out).toMatchObject({ statusCode: 400 });
      expect(out.message).toMatch(/not valid utf-8/);
    });

    it('keeps three distinct ids distinct: invalid bytes cannot collapse into one U+FFFD id', () => {
      for (const b of [0xfe, 0xff, 0x80]) {
        expect(failure(decodeJsonBody(bytes(Buffer.from([0x22, b, 0x22])))).statusCode).toBe(400);
      }
    });
  });

  describe('byte order mark', () => {
    it('drops a leading UTF-8 BOM (RFC 8259 lets a parser ignore it)', () => {
      expect(value(decodeJsonBody(bytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]))))).toEqual({ a: 1 });
    });

    it('refuses a BOM anywhere else (as JSON)', () => {
      expect(failure(decodeJsonBody(bytes('{"a":1}\ufeff'))).message).toMatch(/JSON/);
    });

    it('drops a leading U+FEFF from a body handed over as text', () => {
      expect(value(decodeJsonBody({ body: '\ufeff[1]', isBase64Encoded: false, contentType: undefined }))).toEqual([1]);
    });
  });

  describe('charset', () => {
    it.each(['utf-8', 'UTF-8', 'Utf-8', 'utf8', '"utf-8"', 'unicode-1-1-utf-8'])('accepts charset=%s as UTF-8', (charset) => {
      expect(value(decodeJsonBody(bytes('{"a":"é"}', `application/json; charset=${charset}`)))).toEqual({ a: 'é' });
    });

    it('decodes a declared iso-8859-1 body as that charset', () => {
      const latin1 = Buffer.from('{"tx_id":"caf\xe9"}', 'latin1');
      expect(value(decodeJsonBody(bytes(latin1, 'application/json; charset=ISO-8859-1')))).toEqual({ tx_id: 'café' });
      // The same bytes without the charset are not UTF-8: refused, not turned into "caf\ufffd".
      expect(failure(decodeJsonBody(bytes(latin1))).statusCode).toBe(400);
    });

    it('decodes a declared utf-16le body, its BOM dropped', () => {
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":"ü"}', 'utf16le')]);
      expect(value(decodeJsonBody(bytes(utf16, 'application/json; charset=utf-16le')))).toEqual({ a: 'ü' });
    });

    it('refuses bytes invalid in the declared charset with 400 naming it', () => {
      const out = failure(decodeJsonBody(bytes(Buffer.from([0x22, 0x81, 0x22]), 'application/json; charset=shift_jis')));
      expect(out.statusCode).toBe(400);
      expect(out.message).toMatch(/shift_jis/);
    });

    it.each(['klingon', 'utf-9', ''])('answers an unknown charset "%s" 415', (charset) => {
      const out = failure(decodeJsonBody(bytes('{}', `application/json; charset=${charset}`)));
      expect(out.statusCode).toBe(415);
      expect(out.message).toMatch(/charset/);
    });
  });

  describe('media type and size', () => {
    it('refuses a non-JSON media type with 415 before reading the body', () => {
      expect(failure(decodeJsonBody(bytes(Buffer.from([0xff]), 'text/plain; charset=utf-8'))).statusCode).toBe(415);
    });

    it('counts the decoded bytes: 413 over the limit, accepted at it', () => {
      const skeleton = '{"a":""}';
      const at = `{"a":"${'x'.repeat(MAX_BODY_BYTES - skeleton.length)}"}`;
      expect(value(decodeJsonBody(bytes(at)))).toBeDefined();
      expect(failure(decodeJsonBody(bytes(`${at} `))).statusCode).toBe(413);
    });
  });

  it('refuses a body handed over as text holding a lone surrogate', () => {
    expect(failure(decodeJsonBody({ body: '{"a":"\ud800"}', isBase64Encoded: false, contentType: undefined })).statusCode).toBe(400);
  });
});

describe('POST /predictions reads bodies with the same rules', () => {
  const event = (body: RawBody): APIGatewayProxyEvent =>
    ({ body: body.body, isBase64Encoded: body.isBase64Encoded, headers: { 'content-type': body.contentType } }) as unknown as APIGatewayProxyEvent;

  it('refuses invalid UTF-8 with 400', async () => {
    const res = await predict(event(bytes(Buffer.from([0x7b, 0xff, 0x7d]))));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error).toMatch(/utf-8/);
  });

  it('refuses an unknown charset with 415', async () => {
    expect((await predict(event(bytes('{}', 'application/json; charset=x-nope')))).statusCode).toBe(415);
  });

  it('names the field and index of a lone surrogate', async () => {
    const body = '[{"campaignItemId":1,"winPrice":1},{"campaignItemId":1,"winPrice":1,"domain":"a\\udc00"}]';
    const res = await predict(event(bytes(body)));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).issues).toEqual([expect.objectContaining({ index: 1, field: 'domain', message: expect.stringMatching(/Unicode/) })]);
  });
});
