/**
 * Undoes a request body's Content-Encoding in the local API server, as API Gateway does before it
 * calls the integration:
 *
 *   "When API Gateway receives the request, it verifies if the specified content coding is
 *   supported. Then, it attempts to decompress the payload with the specified content coding. If
 *   the decompression is successful, it dispatches the request to the integration endpoint. If the
 *   specified coding isn't supported or the supplied payload isn't compressed with specified
 *   coding, API Gateway returns the 415 Unsupported Media Type error response."
 *   (API Gateway developer guide, "Call an API method with a compressed payload")
 *
 *   "API Gateway supports the following content codings: deflate, gzip, identity"
 *   (ibid., "Content codings supported by API Gateway")
 *
 * So: gzip, deflate and identity are decoded (a list is undone last coding first); any other coding
 * (br, compress, and x-gzip too: RFC 9110 lets a recipient treat it as gzip, but API Gateway lists
 * only these three, and both homes must answer alike) and a body that is not in its declared coding
 * are 415, naming the codings accepted. The decoded size is capped while inflating (zlib's
 * maxOutputLength stops the inflater as soon as the output passes the cap), so a compression bomb
 * is a 413 after at most `maxBytes` of output, never inflated whole.
 */
import { promisify } from 'node:util';
import { gunzip, inflate, type ZlibOptions } from 'node:zlib';
import { ACCEPTED_CONTENT_CODINGS as ACCEPTED_CODINGS } from '../lambdas/commons/body';

export type DecodedContent =
  | { ok: true; body: Buffer }
  | { ok: false; statusCode: 413 | 415; message: string; headers: Record<string, string> };

type Inflate = (data: Buffer, options: ZlibOptions) => Promise<Buffer>;

/**
 * RFC 9110 §8.4.1.2: deflate is the zlib format (RFC 1950), so a raw deflate stream (RFC 1951),
 * which some clients send, is refused like any body not in its coding: raw deflate has no header
 * to tell it from garbage, and inflating garbage may "succeed".
 */
const inflaters: Record<'gzip' | 'deflate', Inflate> = { gzip: promisify(gunzip), deflate: promisify(inflate) };

/** The answer's Accept-Encoding header, which RFC 9110 §12.5.3 asks a 415 about codings to carry. */
const ACCEPT_ENCODING = { 'accept-encoding': ACCEPTED_CODINGS.join(', ') };

function unsupported(message: string): DecodedContent {
  return { ok: false, statusCode: 415, message: `${message}; accepted content codings: ${ACCEPTED_CODINGS.join(', ')}`, headers: ACCEPT_ENCODING };
}

/** The body with its content codings undone, or the 413/415 answer. */
export async function decodeContentCoding(body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<DecodedContent> {
  const codings = (contentEncoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '');
  const unknown = codings.find((c) => !(ACCEPTED_CODINGS as readonly string[]).includes(c));
  if (unknown !== undefined) return unsupported(`content-encoding "${unknown}" is not supported`);
  let decoded = body;
  for (const coding of [...codings].reverse()) {
    if (coding === 'identity' || decoded.length === 0) continue;
    try {
      decoded = await inflaters[coding as 'gzip' | 'deflate'](decoded, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return { ok: false, statusCode: 413, message: `body exceeds ${maxBytes} bytes once decoded from content-encoding ${coding}`, headers: {} };
      }
      return unsupported(`body is not valid ${coding} data (content-encoding: ${coding}): ${(err as Error).message}`);
    }
  }
  return { ok: true, body: decoded };
}
