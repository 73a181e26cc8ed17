/**
 * s3rver's PutObject answered 200 before the object's bytes were on disk, and a failed write
 * (ENOSPC on a full disk) was an uncaught error that ended the emulator's thread: its filesystem
 * store resolves when its hashing stream finishes, not when the file stream has written, and
 * listens for no error on the file stream (a Buffer body is resolved before it is written at
 * all). S3 answers a PutObject once the object is stored. This module puts in place of the store's
 * putObject one that writes the content with a stream pipeline and resolves only once the file
 * is written and closed; a failed write rejects, and s3rver answers it 500 InternalError.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface PutObject {
  bucket: string;
  key: string;
  metadata: unknown;
  content: Buffer | Readable;
}
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
}

async function putObject(this: FilesystemStore, object: PutObject): Promise<{ size: number; md5: string }> {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const md5 = createHash('md5');
  let size = 0;
  const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(content, hashing, createWriteStream(objectPath));
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
}

export function useDurablePuts(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const FilesystemStore = require('s3rver/lib/stores/filesystem') as { prototype: { putObject: unknown } };
  FilesystemStore.prototype.putObject = putObject;
}
