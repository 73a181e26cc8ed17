import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { auc } from '../../lambdas/ml/evaluate';
import {
  aucOfLines,
  chunkLines,
  labelOf,
  libsvmLines,
  objectText,
  parseS3Uri,
  parseScores,
  readValidationLines,
  rescoreDeployed,
  scoreLines,
} from '../../lambdas/retraining/rescore';
import { scoreCurrent } from '../../lambdas/retraining/gate/handler';
import { gateStep } from '../../lambdas/retraining/steps';

/** A fake S3 holding `objects` (key → bytes), listing them `pageSize` keys at a time. */
function fakeS3(objects: Record<string, Uint8Array | string>, pageSize = 1000) {
  const calls: { list: number; get: string[] } = { list: 0, get: [] };
  const keys = Object.keys(objects).sort();
  const client = {
    async send(cmd: unknown) {
      if (cmd instanceof ListObjectsV2Command) {
        calls.list++;
        const { Prefix = '', ContinuationToken } = cmd.input;
        const matching = keys.filter((k) => k.startsWith(Prefix));
        const start = ContinuationToken ? Number(ContinuationToken) : 0;
        const page = matching.slice(start, start + pageSize);
        const more = start + pageSize < matching.length;
        // Pages in reverse, so the reader must sort keys itself.
        return {
          Contents: page.reverse().map((Key) => ({ Key, Size: Buffer.from(objects[Key]).length })),
          IsTruncated: more,
          NextContinuationToken: more ? String(start + pageSize) : undefined,
        };
      }
      if (cmd instanceof GetObjectCommand) {
        const key = cmd.input.Key!;
        calls.get.push(key);
        const bytes = Buffer.from(objects[key]);
        return { Body: { transformToByteArray: async () => new Uint8Array(bytes) } };
      }
      throw new Error(`unexpected command ${(cmd as object).constructor.name}`);
    },
  };
  return { client: client as unknown as S3Client, calls };
}

/** A fake endpoint scoring each libsvm line by `score(line)`, answering text/csv one score per line. */
function fakeRuntime(score: (line: string) => number) {
  const requests: { lines: string[]; input: Record<string, unknown> }[] = [];
  const client = {
    async send(cmd: unknown) {
      if (!(cmd instanceof InvokeEndpointCommand)) throw new Error('unexpected command');
      const lines = Buffer.from(cmd.input.Body as Uint8Array).toString('utf8').split('\n');
      requests.push({ lines, input: { ...cmd.input, Body: undefined } });
      return { Body: new Uint8Array(Buffer.from(lines.map((l) => String(score(l))).join('\n') + '\n')) };
    },
  };
  return { client: client as unknown as SageMakerRuntimeClient, requests };
}

const line = (label: 0 | 1, x: number) => `${label} 1:${x} 7:1`;
/** The feature value of index 1, the fake model's score. */
const firstValue = (l: string) => Number(l.split(' ')[1].split(':')[1]);

describe('rescore: pure parts', () => {
  it('parses s3:// URIs', () => {
    expect(parseS3Uri('s3://sets/training/run-1/validation/')).toEqual({ bucket: 'sets', prefix: 'training/run-1/validation/' });
    expect(() => parseS3Uri('https://x/y')).toThrow(/not an s3/);
  });

  it('reads plain and gzip objects alike', () => {
    const text = '1 1:0.5\n0 1:0.25\n';
    expect(objectText(Buffer.from(text))).toBe(text);
    expect(objectText(gzipSync(Buffer.from(text)))).toBe(text);
    expect(libsvmLines('1 1:2\r\n\n0 3:4\n')).toEqual(['1 1:2', '0 3:4']);
  });

  it('takes the label from the first token, 0 or 1 only', () => {
    expect(labelOf('1 1:0.5 3:1')).toBe(1);
    expect(labelOf('0 2:1')).toBe(0);
    expect(labelOf('1')).toBe(1);
    expect(() => labelOf('2 1:1')).toThrow(/label "2"/);
    expect(() => labelOf('x 1:1')).toThrow();
  });

  it('chunks by line count and by bytes, keeping order', () => {
    const lines = Array.from({ length: 2500 }, (_, i) => `0 1:${i}`);
    const chunks = chunkLines(lines, 1000, 1e9);
    expect(chunks.map((c) => c.length)).toEqual([1000, 1000, 500]);
    expect(chunks.flat()).toEqual(lines);
    // 10-byte lines, 9 separators: 10 lines = 109 bytes.
    const ten = Array.from({ length: 25 }, () => '0 1:12345');
    const byBytes = chunkLines(ten.map((l) => l + '6'), 1000, 109);
    expect(byBytes.map((c) => c.length)).toEqual([10, 10, 5]);
    for (const c of byBytes) expect(Buffer.byteLength(c.join('\n'))).toBeLessThanOrEqual(109);
    expect(chunkLines([])).toEqual([]);
    expect(() => chunkLines(['0 1:123456789'], 10, 5)).toThrow(/exceeds/);
  });

  it('parses text/csv scores (newline- or comma-separated) and insists on one finite score per line', () => {
    expect(parseScores('0.1\n0.9\n', 2)).toEqual([0.1, 0.9]);
    expect(parseScores('0.1,0.9', 2)).toEqual([0.1, 0.9]);
    expect(() => parseScores('0.1\n', 2)).toThrow(/1 scores for 2 lines/);
    expect(() => parseScores('0.1\nNaN\n', 2)).toThrow(/not a number/);
  });

  it('measures AUC against the lines\' labels', () => {
    const lines = ['1 1:1', '0 1:1', '1 1:1', '0 1:1'];
    const scores = [0.9, 0.2, 0.4, 0.6];
    expect(aucOfLines(lines, scores)).toEqual({ auc: auc(scores, [1, 0, 1, 0]), positives: 2 });
    expect(aucOfLines(lines, scores).auc).toBe(0.75);
  });
});

describe('rescore: with fake S3 and endpoint', () => {
  const uri = 's3://sets/training/run-2/validation/';
  const objects = {
    'training/run-2/validation/b.gz': gzipSync(Buffer.from([line(1, 0.9), line(0, 0.8)].join('\n') + '\n')),
    'training/run-2/validation/a': [line(1, 0.7), line(0, 0.1), line(0, 0.3)].join('\n') + '\n',
    'training/run-2/validation/empty': '',
    'training/run-2/train/x': line(1, 0.5),
    'training/run-1/validation/old': line(1, 0.5),
  };

  it('reads the run\'s validation objects only, in key order, across list pages, and caps the rows', async () => {
    const s3 = fakeS3(objects, 1);
    const all = await readValidationLines(s3.client, uri);
    expect(all).toEqual({ lines: [line(1, 0.7), line(0, 0.1), line(0, 0.3), line(1, 0.9), line(0, 0.8)], truncated: false });
    expect(s3.calls.get).toEqual(['training/run-2/validation/a', 'training/run-2/validation/b.gz']);
    expect(s3.calls.list).toBe(3);
    const capped = await readValidationLines(fakeS3(objects).client, uri, 4);
    expect(capped).toEqual({ lines: [line(1, 0.7), line(0, 0.1), line(0, 0.3), line(1, 0.9)], truncated: true });
    expect(await readValidationLines(fakeS3(objects).client, uri, 5)).toMatchObject({ truncated: false });
  });

  it('sends text/libsvm chunks to the endpoint, text/csv back, and scores them in order', async () => {
    const rt = fakeRuntime(firstValue);
    const lines = Array.from({ length: 2300 }, (_, i) => line((i % 2) as 0 | 1, i / 10000));
    const scores = await scoreLines(rt.client, 'sdp-bid-win', lines);
    expect(scores).toEqual(lines.map(firstValue));
    expect(rt.requests.map((r) => r.lines.length)).toEqual([1000, 1000, 300]);
    expect(rt.requests[0].input).toMatchObject({ EndpointName: 'sdp-bid-win', ContentType: 'text/libsvm', Accept: 'text/csv' });
  });

  it('re-scores the deployed model: AUC of its scores against the validation labels', async () => {
    const rt = fakeRuntime(firstValue);
    const r = await rescoreDeployed({ s3: fakeS3(objects).client, runtime: rt.client, validationUri: uri, endpointName: 'sdp-bid-win' });
    // scores 0.7(1) 0.1(0) 0.3(0) 0.9(1) 0.8(0): positives outrank 5 of 6 pairs.
    expect(r).toEqual({ auc: auc([0.7, 0.1, 0.3, 0.9, 0.8], [1, 0, 0, 1, 0]), rows: 5, positives: 2, truncated: false });
    expect(r.auc).toBeCloseTo(5 / 6, 12);
  });

  it('scoreCurrent never throws: endpoint errors and empty sets become the reason for the fallback', async () => {
    const failing = { send: async () => { throw Object.assign(new Error('Endpoint sdp-bid-win of account 1 not found.'), { name: 'ValidationError' }); } };
    const s3 = fakeS3(objects).client;
    expect(await scoreCurrent({ validationUri: uri }, { s3, runtime: failing as unknown as SageMakerRuntimeClient, endpointName: 'e' })).toEqual({
      error: 'ValidationError: Endpoint sdp-bid-win of account 1 not found.',
    });
    expect(await scoreCurrent({ validationUri: 's3://sets/training/none/validation/' }, { s3, runtime: fakeRuntime(firstValue).client, endpointName: 'e' })).toEqual({
      error: expect.stringMatching(/no validation rows/),
    });
    expect(await scoreCurrent({}, { s3, runtime: fakeRuntime(firstValue).client, endpointName: 'e' })).toEqual({ error: 'the gate was given no validationUri' });
    expect(await scoreCurrent({ validationUri: uri }, { s3, runtime: fakeRuntime(firstValue).client, endpointName: 'e' })).toMatchObject({ rows: 5, sampled: false });
  });
});

describe('gate step with the re-scored current model', () => {
  const input = {
    version: 'v2',
    trainingJobName: 'sdp-bid-win-v2',
    modelArtifacts: 's3://lake/models/v2/sdp-bid-win-v2/output/model.tar.gz',
    finalMetrics: [{ MetricName: 'validation:auc', Value: 0.8 }],
    validationUri: 's3://sets/training/v2/validation/',
  };
  const now = new Date('2026-01-01T00:00:00Z');
  const deployed = { version: 'v1', metrics: { auc: 0.85 } };

  it('compares with the re-scored AUC, not the recorded one, and records the source and sample size', () => {
    const r = gateStep(input, deployed, 0.6, now, { auc: 0.78, rows: 100_000, sampled: true });
    expect(r.decision).toMatchObject({
      deploy: true,
      currentAuc: 0.78,
      currentAucSource: 'rescored',
      currentAucRows: 100_000,
      currentAucSampled: true,
      recordedCurrentAuc: 0.85,
    });
    expect(r.decision.reason).toMatch(/re-scored through its endpoint on 100000 rows of this run's validation set, the first of a larger set/);
    const worse = gateStep(input, deployed, 0.6, now, { auc: 0.82, rows: 40, sampled: false });
    expect(worse.decision).toMatchObject({ deploy: false, currentAuc: 0.82, currentAucSource: 'rescored', currentAucRows: 40 });
  });

  it('falls back to the recorded AUC when the endpoint could not be invoked, and says why', () => {
    const r = gateStep(input, deployed, 0.6, now, { error: 'ValidationError: endpoint not found' });
    expect(r.decision).toMatchObject({ deploy: false, currentAuc: 0.85, currentAucSource: 'recorded' });
    expect(r.decision.currentAucRows).toBeUndefined();
    expect(r.decision.reason).toMatch(/as recorded for v1 .* could not be re-scored: ValidationError: endpoint not found/);
  });

  it('falls back to the recorded AUC when the sample gave no usable AUC (one class)', () => {
    const r = gateStep(input, deployed, 0.6, now, { auc: NaN, rows: 10 });
    expect(r.decision).toMatchObject({ currentAuc: 0.85, currentAucSource: 'recorded' });
    expect(r.decision.reason).toMatch(/re-scoring gave no usable AUC \(NaN\)/);
  });

  it('ignores a score when nothing is deployed (first model)', () => {
    const r = gateStep(input, undefined, 0.6, now, { auc: 0.9, rows: 10 });
    expect(r.decision).toMatchObject({ deploy: true });
    expect(r.decision.currentAucSource).toBeUndefined();
    expect(r.decision.currentAuc).toBeUndefined();
  });
});
