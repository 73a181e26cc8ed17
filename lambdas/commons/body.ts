/**
 * The one reader of JSON request bodies (every stream's POST route, /predictions): checks the
 * media type, the size, the charset and the text, then parses. Pure: no I/O.
 *
 * The rules, the same in both homes (API Gateway hands the body over base64-encoded, as bytes,
 * because the API declares every media type binary: lib/ingestion-api.ts; the local API server
 * does the same):
 * - media type: absent, application/json or application/*+json, else 415;
 * - size: at most MAX_BODY_BYTES bytes, counted after any content coding was undone, else 413;
 * - charset: absent or any label of UTF-8 (any case) is UTF-8; any other label the WHATWG Encoding
 *   standard knows (TextDecoder: iso-8859-1, windows-1252, utf-16le, shift_jis, ...) is decoded as
 *   that charset; a label it does not know is 415;
 * - text: decoded strictly (TextDecoder fatal): bytes that are not valid in the charset are a 400
 *   saying so, never U+FFFD. A leading byte order mark of the charset is dropped (RFC 8259 §8.1
 *   lets parsers ignore one);
 * - JSON: JSON.parse, else 400. (Strings holding lone surrogates written as escapes are valid JSON;
 *   the schemas refuse them field by field: schemas/fields.ts.)
 */
import { TextDecoder } from 'node:util';
import { isWellFormedText } from '../../schemas/fields';

/** The largest request body, in bytes, once decoded from any content coding. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The content codings the gateway (API Gateway, or the local API server in its place) undoes
 * before a handler sees the body: any other is answered 415 there (lib/ingestion-api.ts,
 * local/content-coding.ts). The handlers receive bodies already decoded.
 */
export const ACCEPTED_CONTENT_CODINGS = ['gzip', 'deflate', 'identity'] as const;

export interface RawBody {
  body: string | null;
  isBase64Encoded: boolean;
  contentType: string | undefined;
}

export type DecodedBody =
  | { ok: true; value: unknown }
  | { ok: false; statusCode: 400 | 413 | 415; message: string };

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

interface MediaType {
  type: string;
  charset: string | undefined;
}

function parseContentType(contentType: string): MediaType {
  const [type, ...params] = contentType.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase(), charset };
}

/** A strict decoder for the charset label, or undefined when the label names no known charset. */
function decoderFor(charset: string): TextDecoder | undefined {
  try {
    return new TextDecoder(charset, { fatal: true });
  } catch {
    return undefined;
  }
}

export function decodeJsonBody(request: RawBody, maxBytes = MAX_BODY_BYTES): DecodedBody {
  const media = request.contentType === undefined || request.contentType.trim() === '' ? undefined : parseContentType(request.contentType);
  if (media && !JSON_MEDIA_TYPE.test(media.type)) {
    return { ok: false, statusCode: 415, message: `content-type must be application/json (curl: -H "content-type: application/json"), got "${request.contentType}"` };
  }
  const decoder = decoderFor(media?.charset ?? 'utf-8');
  if (!decoder) {
    return { ok: false, statusCode: 415, message: `charset "${media?.charset}" is not supported: send utf-8 (or omit the charset)` };
  }

  let text: string;
  if (request.isBase64Encoded) {
    const bytes = Buffer.from(request.body ?? '', 'base64');
    if (bytes.length > maxBytes) return tooLarge(maxBytes);
    try {
      text = decoder.decode(bytes);
    } catch {
      return { ok: false, statusCode: 400, message: `body is not valid ${decoder.encoding} text: it holds bytes that are not ${decoder.encoding} (send utf-8, or declare the charset it is in)` };
    }
  } else {
    // Text already decoded by whoever built the event (a test, a direct invoke): only its size and
    // well-formedness can still be checked.
    text = request.body ?? '';
    if (Buffer.byteLength(text, 'utf8') > maxBytes) return tooLarge(maxBytes);
    if (!isWellFormedText(text)) {
      return { ok: false, statusCode: 400, message: 'body is not valid Unicode text: it holds a lone surrogate' };
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  }

  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, statusCode: 400, message: `body is not valid JSON: ${(err as Error).message}` };
  }
}

function tooLarge(maxBytes: number): DecodedBody {
  return { ok: false, statusCode: 413, message: `body exceeds ${maxBytes} bytes` };
}
