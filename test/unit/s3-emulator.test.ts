/** The local S3 emulator pages listings of more than 1,000 keys (s3rver's tokens under OpenSSL 3). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startEmulator, type Emulator } from '../../local/emulators';

describe('the S3 emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator('s3', mkdtempSync(join(tmpdir(), 'sdp-s3-')));
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('lists more than 1,000 keys page by page', async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: emulator.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
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
});
