/**
 * Re-scoring the deployed model on THIS run's held-out data, so the quality gate compares the
 * candidate with the current model on the same data: the validation libsvm lines under
 * `training/<execution>/validation/` (the UNLOAD's output, uncompressed by the channels step, each
 * line with the width marker that every model since has been trained with, so the deployed model
 * accepts them) are sent in chunks to the model endpoint (SageMaker
 * runtime InvokeEndpoint, text/libsvm in, text/csv out, as lambdas/predict/handler.ts) and the
 * scores are measured with `auc` (lambdas/ml/evaluate.ts) against the lines' own labels.
 *
 * The pure parts (URI, gzip detection, labels, chunking, scores) are exported for the tests; the S3
 * and SageMaker runtime clients are passed in, so tests use fakes.
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { auc } from '../ml/evaluate';

/** At most this many validation rows are re-scored: the first ones, files in key order (deterministic). */
export const MAX_RESCORE_ROWS = 100_000;
/** Lines per InvokeEndpoint call. */
export const MAX_LINES_PER_CALL = 1000;
/** Bytes per InvokeEndpoint call: under both the real-time (6 MB) and the serverless (4 MB) payload limits. */
export const MAX_BYTES_PER_CALL = 4 * 1024 * 1024;

export type S3Like = Pick<S3Client, 'send'>;
export type RuntimeLike = Pick<SageMakerRuntimeClient, 'send'>;

export interface Rescored {
  auc: number;
  /** Rows scored (the sample size). */
  rows: number;
  positives: number;
  /** True when the validation set had more rows than the sample took. */
  truncated: boolean;
}

/** `s3://bucket/prefix/` → bucket and key prefix. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1], prefix: m[2] };
}

/** An object's text, gunzipped when it is gzip (magic 1f 8b), whatever the UNLOAD's compression setting. */
export function objectText(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
}

/** The non-empty lines of a libsvm text. */
export function libsvmLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** A libsvm line's label (its first token), 0 or 1; throws on anything else. */
export function labelOf(line: string): 0 | 1 {
  const token = line.trimStart().split(/\s/, 1)[0];
  const v = Number(token);
  if (v !== 0 && v !== 1) throw new Error(`libsvm line has label "${token}", expected 0 or 1`);
  return v;
}

/** Lines grouped into consecutive chunks of at most `maxLines` lines and `maxBytes` bytes (newline-joined). */
export function chunkLines(lines: readonly string[], maxLines = MAX_LINES_PER_CALL, maxBytes = MAX_BYTES_PER_CALL): string[][] {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const lineBytes = Buffer.byteLength(line);
    if (lineBytes > maxBytes) throw new Error(`a libsvm line of ${lineBytes} bytes exceeds the ${maxBytes}-byte request limit`);
    if (chunk.length > 0 && (chunk.length >= maxLines || bytes + 1 + lineBytes > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    bytes += chunk.length > 0 ? 1 + lineBytes : lineBytes;
    chunk.push(line);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The endpoint's text/csv answer as scores; throws unless there are exactly `expected` finite ones. */
export function parseScores(body: string, expected: number): number[] {
  const scores = body.split(/[,\n]/).filter((s) => s.trim() !== '').map(Number);
  if (scores.length !== expected) throw new Error(`the endpoint answered ${scores.length} scores for ${expected} lines`);
  if (scores.some((s) => !Number.isFinite(s))) throw new Error('the endpoint answered a score that is not a number');
  return scores;
}

/** AUC of scores against the lines' labels. */
export function aucOfLines(lines: readonly string[], scores: readonly number[]): { auc: number; positives: number } {
  const labels = lines.map(labelOf);
  return { auc: auc(scores, labels), positives: labels.reduce<number>((s, y) => s + y, 0) };
}

/** The first `limit` validation lines under `uri`, objects in key order. */
export async function readValidationLines(s3: S3Like, uri: string, limit = MAX_RESCORE_ROWS): Promise<{ lines: string[]; truncated: boolean }> {
  const { bucket, prefix } = parseS3Uri(uri);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith('/') && (o.Size ?? 1) > 0) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  keys.sort();
  const lines: string[] = [];
  for (const key of keys) {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) continue;
    const text = objectText(await out.Body.transformToByteArray());
    for (const line of libsvmLines(text)) {
      if (lines.length >= limit) return { lines, truncated: true };
      lines.push(line);
    }
  }
  return { lines, truncated: false };
}

/** Scores every line on the endpoint, chunk by chunk, one call at a time (the endpoint also serves predictions). */
export async function scoreLines(runtime: RuntimeLike, endpointName: string, lines: readonly string[]): Promise<number[]> {
  const scores: number[] = [];
  for (const chunk of chunkLines(lines)) {
    const out = await runtime.send(
      new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: 'text/libsvm', Accept: 'text/csv', Body: Buffer.from(chunk.join('\n')) }),
    );
    scores.push(...parseScores(Buffer.from(out.Body ?? new Uint8Array()).toString('utf8'), chunk.length));
  }
  return scores;
}

/** The deployed model's AUC on (a deterministic sample of) this run's validation set. */
export async function rescoreDeployed(options: {
  s3: S3Like;
  runtime: RuntimeLike;
  validationUri: string;
  endpointName: string;
  maxRows?: number;
}): Promise<Rescored> {
  const { lines, truncated } = await readValidationLines(options.s3, options.validationUri, options.maxRows ?? MAX_RESCORE_ROWS);
  if (lines.length === 0) throw new Error(`no validation rows under ${options.validationUri}`);
  // Labels first: a malformed line fails before any endpoint call.
  lines.forEach(labelOf);
  const scores = await scoreLines(options.runtime, options.endpointName, lines);
  const { auc: value, positives } = aucOfLines(lines, scores);
  return { auc: value, rows: lines.length, positives, truncated };
}
