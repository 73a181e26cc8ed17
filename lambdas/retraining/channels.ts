/**
 * The training channels as SageMaker's XGBoost reads them: uncompressed libsvm text. Athena's UNLOAD
 * writes text gzip-compressed whatever one asks ("This option is specific to the ORC and Parquet
 * formats ... Athena uses gzip for the JSON and TEXTFILE formats", Athena UNLOAD documentation,
 * parameter `compression`; "GZIP is the default write compression format for files in the Parquet
 * and text file storage formats", Athena "Use compression"), while the XGBoost 1.7-1 container reads a
 * libsvm channel in File mode with `xgb.DMatrix(<channel dir>)` (data_utils.py get_libsvm_dmatrix),
 * as text: a gzip file there is read as one garbage row, silently (XGBoost 1.7.4 on a gzip libsvm
 * file: 1 row, label 1; test/unit/retraining-channels.test.ts keeps the file, test/infra/xgboost.test.ts
 * the real thing). SageMaker's channel CompressionType cannot help: "CompressionType is used only in
 * Pipe input mode. In File mode, leave this field unset or set it to None" (API reference, Channel),
 * and the container has no Pipe mode for libsvm ("Pipe mode not supported for LibSVM").
 *
 * So the state machine UNLOADs each split under `training/<run>/unload/<split>/` and this step
 * copies every object to `training/<run>/<split>/`, gunzipped (an object that is not gzip is copied
 * as it is), streaming through a multipart upload. The S3 client is passed in: tests use a fake.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseS3Uri } from './rescore';

export type S3Like = Pick<S3Client, 'send'>;

/** Bytes per uploaded part: above S3's 5 MiB minimum for all parts but the last. */
export const PART_BYTES = 16 * 1024 * 1024;

export interface ChannelCopy {
  /** Objects written to the channel. */
  objects: number;
  /** Uncompressed bytes written. */
  bytes: number;
  /** Lines written: one auction each (libsvm); the state machine trains only on enough of them. */
  rows: number;
}

/** The channel key of an UNLOAD object: the same name under the channel prefix, without `.gz`. */
export function channelKey(unloadPrefix: string, channelPrefix: string, key: string): string {
  if (!key.startsWith(unloadPrefix)) throw new Error(`${key} is not under ${unloadPrefix}`);
  return channelPrefix + key.slice(unloadPrefix.length).replace(/\.gz$/, '');
}

/** The bytes of `body`, gunzipped when they start with gzip's magic (1f 8b). */
export async function* plainBytes(body: AsyncIterable<Uint8Array>): AsyncIterable<Buffer> {
  const it = body[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = Buffer.from(first.value);
  const all = (async function* () {
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield Buffer.from(n.value);
  })();
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    for await (const chunk of Readable.from(all).pipe(createGunzip())) yield chunk as Buffer;
  } else {
    yield* all;
  }
}

/** Consecutive parts of at least `size` bytes (the last may be smaller), in order. */
export async function* parts(chunks: AsyncIterable<Buffer>, size = PART_BYTES): AsyncIterable<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    pending.push(chunk);
    length += chunk.length;
    if (length >= size) {
      yield Buffer.concat(pending, length);
      pending = [];
      length = 0;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}

/** One UNLOAD object to its channel key, uncompressed. Returns the bytes written (0: nothing written). */
/** Lines of a text (its newlines; a last line without one counts too). */
function lineCount(part: Buffer, endsLine: boolean): { lines: number; endsLine: boolean } {
  let lines = 0;
  for (let i = part.indexOf(0x0a); i !== -1; i = part.indexOf(0x0a, i + 1)) lines++;
  return { lines, endsLine: part.length ? part[part.length - 1] === 0x0a : endsLine };
}

async function copyObject(s3: S3Like, bucket: string, key: string, target: string, partBytes: number): Promise<{ bytes: number; rows: number }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) return { bytes: 0, rows: 0 };
  let uploadId: string | undefined;
  const done: { ETag: string; PartNumber: number }[] = [];
  let bytes = 0;
  let rows = 0;
  let endsLine = true;
  try {
    for await (const part of parts(plainBytes(out.Body as AsyncIterable<Uint8Array>), partBytes)) {
      uploadId ??= (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: target, ContentType: 'text/plain' }))).UploadId;
      const PartNumber = done.length + 1;
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: target, UploadId: uploadId, PartNumber, Body: part }));
      done.push({ ETag: ETag!, PartNumber });
      bytes += part.length;
      const counted = lineCount(part, endsLine);
      rows += counted.lines;
      endsLine = counted.endsLine;
    }
    if (!endsLine) rows++;
    if (uploadId) await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: target, UploadId: uploadId, MultipartUpload: { Parts: done } }));
  } catch (err) {
    if (uploadId) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: target, UploadId: uploadId })).catch(() => undefined);
    throw err;
  }
  return { bytes, rows };
}

/**
 * Every object under `unloadUri` to `channelUri` (same bucket), uncompressed. Empty objects are left
 * out. An UNLOAD that wrote nothing (no auctions, as in an idle stack) copies nothing and says so
 * with rows 0: the state machine then skips training rather than fail.
 */
export async function copyChannel(s3: S3Like, unloadUri: string, channelUri: string, partBytes = PART_BYTES): Promise<ChannelCopy> {
  const from = parseS3Uri(unloadUri);
  const to = parseS3Uri(channelUri);
  if (from.bucket !== to.bucket) throw new Error(`the UNLOAD (${unloadUri}) and the channel (${channelUri}) must be in one bucket`);
  const result: ChannelCopy = { objects: 0, bytes: 0, rows: 0 };
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: from.bucket, Prefix: from.prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key.endsWith('/') || o.Size === 0) continue;
      const copied = await copyObject(s3, from.bucket, o.Key, channelKey(from.prefix, to.prefix, o.Key), partBytes);
      if (copied.bytes > 0) {
        result.objects++;
        result.bytes += copied.bytes;
        result.rows += copied.rows;
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return result;
}
