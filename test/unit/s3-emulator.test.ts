/**
 * The local S3 emulator pages listings of more than 1,000 keys (s3rver's tokens under OpenSSL 3),
 * and deletes conditionally as S3 does: DeleteObjects with an object's ETag deletes it only while
 * it still has that ETag.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startEmulator, type Emulator } from '../../local/emulators';

describe('the S3 emulator', () => {
  let emulator: Emulator;
  let s3: S3Client;
  beforeAll(async () => {
    emulator = await startEmulator('s3', mkdtempSync(join(tmpdir(), 'sdp-s3-')));
    s3 = new S3Client({ region: 'us-east-1', endpoint: emulator.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('lists more than 1,000 keys page by page', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
    const keys = Array.from({ length: 1205 }, (_, i) => `raw/t/dt=2026-01-01/hour=00/${String(i).padStart(5, '0')}.json.gz`);
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((Key) => s3.send(new PutObjectCommand({ Bucket: 'lake', Key, Body: 'x' }))));
    }
    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'raw/', ContinuationToken: token }));
      listed.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.NextContinuationToken;
    } while (token);
    expect(listed).toEqual(keys);
  });

  it('deletes an object only while it has the ETag given, and reports the others', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'conditional' }));
    const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: 'conditional', Key, Body }));
    const exists = (Key: string) => s3.send(new HeadObjectCommand({ Bucket: 'conditional', Key })).then(() => true, () => false);
    const first = (await put('a', 'version 1')).ETag!;
    await put('a', 'version 2');
    const b = (await put('b', 'only version')).ETag!;
    await put('c', 'no condition');
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'conditional', Delete: { Objects: [{ Key: 'a', ETag: first }, { Key: 'b', ETag: b }, { Key: 'c' }, { Key: 'gone' }] } }),
    );
    expect(out.Errors?.map((e) => [e.Key, e.Code])).toEqual([['a', 'PreconditionFailed']]);
    expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['b', 'c', 'gone']);
    expect([await exists('a'), await exists('b'), await exists('c')]).toEqual([true, false, false]);
  });
});
