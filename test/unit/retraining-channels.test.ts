/** The retraining channels step (lambdas/retraining/channels.ts): Athena's gzip UNLOAD output copied uncompressed, streamed in parts. */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { channelKey, copyChannel, parts, plainBytes } from '../../lambdas/retraining/channels';

/** A fake S3: objects (key → bytes) listed one page of `pageSize`, bodies streamed in 7-byte chunks, multipart uploads assembled. */
function fakeS3(objects: Record<string, Buffer>, options: { pageSize?: number; failPart?: number } = {}) {
  const written: Record<string, Buffer> = {};
  const uploads = new Map<string, { key: string; parts: Buffer[] }>();
  const log: string[] = [];
  let nextId = 0;
  const client = {
    async send(cmd: unknown) {
      if (cmd instanceof ListObjectsV2Command) {
        const keys = Object.keys(objects).filter((k) => k.startsWith(cmd.input.Prefix ?? '')).sort();
        const start = Number(cmd.input.ContinuationToken ?? 0);
        const size = options.pageSize ?? 1000;
        const more = start + size < keys.length;
        return { Contents: keys.slice(start, start + size).map((Key) => ({ Key, Size: objects[Key].length })), IsTruncated: more, NextContinuationToken: more ? String(start + size) : undefined };
      }
      if (cmd instanceof GetObjectCommand) {
        const bytes = objects[cmd.input.Key!];
        const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
        return { Body: Readable.from(chunks) };
      }
      if (cmd instanceof CreateMultipartUploadCommand) {
        const id = String(++nextId);
        uploads.set(id, { key: cmd.input.Key!, parts: [] });
        log.push(`create ${cmd.input.Key}`);
        return { UploadId: id };
      }
      if (cmd instanceof UploadPartCommand) {
        const u = uploads.get(cmd.input.UploadId!)!;
        if (cmd.input.PartNumber === options.failPart) throw new Error('part upload failed');
        u.parts[cmd.input.PartNumber! - 1] = Buffer.from(cmd.input.Body as Buffer);
        log.push(`part ${cmd.input.PartNumber} ${(cmd.input.Body as Buffer).length}`);
        return { ETag: `"e${cmd.input.PartNumber}"` };
      }
      if (cmd instanceof CompleteMultipartUploadCommand) {
        const u = uploads.get(cmd.input.UploadId!)!;
        expect(cmd.input.MultipartUpload!.Parts!.map((p) => p.PartNumber)).toEqual(u.parts.map((_, i) => i + 1));
        written[u.key] = Buffer.concat(u.parts);
        log.push(`complete ${u.key}`);
        return {};
      }
      if (cmd instanceof AbortMultipartUploadCommand) {
        log.push(`abort ${cmd.input.Key}`);
        return {};
      }
      throw new Error(`unexpected command ${(cmd as object).constructor.name}`);
    },
  };
  return { client: client as unknown as S3Client, written, log };
}

async function all<T>(xs: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of xs) out.push(x);
  return out;
}

const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `${(i + from) % 2} 1:${i + from} 7:1 262145:0.0`).join('\n') + '\n';

describe('channels: pure parts', () => {
  it('maps an UNLOAD key to its channel key, without .gz', () => {
    expect(channelKey('training/r1/unload/train/', 'training/r1/train/', 'training/r1/unload/train/20240101_x_00000.gz')).toBe('training/r1/train/20240101_x_00000');
    expect(channelKey('training/r1/unload/train/', 'training/r1/train/', 'training/r1/unload/train/plain')).toBe('training/r1/train/plain');
    expect(() => channelKey('a/', 'b/', 'c/x')).toThrow(/not under/);
  });

  it('gunzips gzip bytes (several members too) and passes other bytes as they are', async () => {
    const collect = async (body: Buffer) => Buffer.concat(await all(plainBytes(Readable.from([body.subarray(0, 5), body.subarray(5)])))).toString();
    expect(await collect(gzipSync(lines(3)))).toBe(lines(3));
    expect(await collect(Buffer.concat([gzipSync(lines(2)), gzipSync(lines(2, 2))]))).toBe(lines(4));
    expect(await collect(Buffer.from(lines(3)))).toBe(lines(3));
    expect(await all(plainBytes(Readable.from([])))).toEqual([]);
  });

  it('groups chunks into parts of at least the part size, the last smaller', async () => {
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(3));
    expect((await all(parts(Readable.from(chunks), 7))).map((p: Buffer) => p.length)).toEqual([9, 9, 9, 3]);
  });
});

describe('channels: copying a split', () => {
  const objects = {
    'training/r1/unload/train/a.gz': gzipSync(lines(40)),
    'training/r1/unload/train/b.gz': gzipSync(lines(25, 40)),
    'training/r1/unload/train/empty.gz': Buffer.alloc(0),
    'training/r1/unload/validation/c.gz': gzipSync(lines(5)),
  };

  it('writes every object of the split uncompressed under the channel, in parts, and nothing else', async () => {
    const s3 = fakeS3(objects, { pageSize: 1 });
    const copied = await copyChannel(s3.client, 's3://sets/training/r1/unload/train/', 's3://sets/training/r1/train/', 256);
    expect(Object.keys(s3.written).sort()).toEqual(['training/r1/train/a', 'training/r1/train/b']);
    expect(s3.written['training/r1/train/a'].toString()).toBe(lines(40));
    expect(s3.written['training/r1/train/b'].toString()).toBe(lines(25, 40));
    expect(copied).toEqual({ objects: 2, bytes: lines(40).length + lines(25, 40).length, rows: 65 });
    expect(s3.log.filter((l) => l.startsWith('part')).length).toBeGreaterThan(2);
  });

  it('aborts the upload of an object that fails, and fails', async () => {
    const s3 = fakeS3(objects, { failPart: 2 });
    await expect(copyChannel(s3.client, 's3://sets/training/r1/unload/train/', 's3://sets/training/r1/train/', 256)).rejects.toThrow(/part upload failed/);
    expect(s3.log).toContain('abort training/r1/train/a');
  });

  it('counts a last line without its newline, whichever part it ends in', async () => {
    const s3 = fakeS3({ 'training/r3/unload/train/a.gz': gzipSync(lines(30).trimEnd()) });
    expect((await copyChannel(s3.client, 's3://sets/training/r3/unload/train/', 's3://sets/training/r3/train/', 64)).rows).toBe(30);
  });

  it('copies nothing and counts no rows when the UNLOAD wrote nothing (an idle stack: the run skips training); fails when the channel is in another bucket', async () => {
    expect(await copyChannel(fakeS3(objects).client, 's3://sets/training/r2/unload/train/', 's3://sets/training/r2/train/')).toEqual({ objects: 0, bytes: 0, rows: 0 });
    await expect(copyChannel(fakeS3(objects).client, 's3://sets/training/r1/unload/train/', 's3://other/training/r1/train/')).rejects.toThrow(/one bucket/);
  });
});
