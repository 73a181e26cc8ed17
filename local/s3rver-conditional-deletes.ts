/**
 * S3's DeleteObjects takes an ETag per object and deletes it only if the object still has that
 * ETag (a conditional delete; otherwise the object is kept and reported as PreconditionFailed).
 * Compaction relies on it so that it never deletes a lake file that was rewritten after it read it.
 * s3rver ignores the ETag and deletes anyway, so this module puts a DeleteObjects in place of
 * s3rver's own (its router calls it through the controller module's exports) that honours it.
 * Without ETags it behaves as s3rver's: every key is reported deleted, present or not.
 */
import { dirname } from 'node:path';
import type { IncomingMessage } from 'node:http';

interface Store {
  existsObject(bucket: string, key: string): Promise<boolean>;
  getMetadata(bucket: string, key: string): Promise<{ etag: string }>;
  deleteObject(bucket: string, key: string): Promise<void>;
}
interface Context {
  req: IncomingMessage;
  params: { bucket: string };
  store: Store;
  body: unknown;
}
interface DeleteRequest {
  Key?: unknown;
  ETag?: unknown;
}
type DeleteOutcome = { deleted: string } | { error: { Key: string; Code: string; Message: string } };

const unquote = (etag: string) => etag.replace(/^W\//, '').replace(/^"|"$/g, '');

async function deleteOne(store: Store, bucket: string, request: DeleteRequest): Promise<DeleteOutcome> {
  const key = String(request.Key);
  if (!(await store.existsObject(bucket, key))) {
    return request.ETag === undefined ? { deleted: key } : { error: { Key: key, Code: 'NoSuchKey', Message: 'The specified key does not exist.' } };
  }
  if (request.ETag !== undefined) {
    const { etag } = await store.getMetadata(bucket, key);
    if (unquote(etag) !== unquote(String(request.ETag))) {
      return { error: { Key: key, Code: 'PreconditionFailed', Message: 'At least one of the pre-conditions you specified did not hold' } };
    }
  }
  await store.deleteObject(bucket, key);
  return { deleted: key };
}

/** Makes s3rver's DeleteObjects (POST /bucket?delete) honour each object's ETag. */
export function useConditionalDeletes(): void {
  const s3rverDir = dirname(require.resolve('s3rver/package.json'));
  /* eslint-disable @typescript-eslint/no-require-imports */
  const objectController = require(require.resolve('./lib/controllers/object', { paths: [s3rverDir] })) as { deleteMultipleObjects(ctx: Context): Promise<void> };
  const S3Error = require(require.resolve('./lib/models/error', { paths: [s3rverDir] })) as new (code: string, message: string) => Error;
  const xmlParser = require(require.resolve('fast-xml-parser', { paths: [s3rverDir] })) as {
    validate(xml: string): true | object;
    parse(xml: string, options: object): { Delete?: { Object?: DeleteRequest | DeleteRequest[] } };
  };
  const he = require(require.resolve('he', { paths: [s3rverDir] })) as { decode(text: string): string };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const malformed = () => new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');

  objectController.deleteMultipleObjects = async (ctx: Context) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const xml = Buffer.concat(chunks).toString('utf8');
    if (xmlParser.validate(xml) !== true) throw malformed();
    const body = xmlParser.parse(xml, { parseNodeValue: false, tagValueProcessor: (v: string) => he.decode(v) });
    if (!body.Delete?.Object) throw malformed();
    const outcomes = await Promise.all(([] as DeleteRequest[]).concat(body.Delete.Object).map((r) => deleteOne(ctx.store, ctx.params.bucket, r)));
    ctx.body = {
      DeleteResult: {
        '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
        Deleted: outcomes.flatMap((o) => ('deleted' in o ? [{ Key: o.deleted }] : [])),
        Error: outcomes.flatMap((o) => ('error' in o ? [o.error] : [])),
      },
    };
  };
}
