/**
 * The local stand-in for a SageMaker endpoint: SageMaker runtime's InvokeEndpoint API
 * (`POST /endpoints/<name>/invocations`, libsvm text in, CSV scores out, as the built-in
 * algorithms answer) serving the model the registry names as current (models/current.json in the
 * lake bucket), scored with the same logistic model code the trainer wrote it with. While no model
 * is deployed it answers like SageMaker for an endpoint that does not exist.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { readCurrentModel, readModelText } from '../lambdas/commons/model-registry';
import { parseModel, predictProba, type Model } from '../lambdas/ml/logistic';
import type { SparseVector } from '../lambdas/ml/features';

const REFRESH_MS = 1000;
const MAX_BODY_BYTES = 6 * 1024 * 1024;

/** A libsvm line (`<label> <1-based index>:<value> ...`) as a 0-based sparse vector. */
export function parseLibsvm(line: string): SparseVector {
  const parts = line.trim().split(/\s+/).slice(1);
  const indices: number[] = [];
  const values: number[] = [];
  for (const part of parts) {
    const colon = part.indexOf(':');
    const index = Number(part.slice(0, colon)) - 1;
    const value = Number(part.slice(colon + 1));
    if (colon < 1 || !Number.isInteger(index) || index < 0 || !Number.isFinite(value)) throw new Error(`not a libsvm feature: "${part}"`);
    indices.push(index);
    values.push(value);
  }
  return { indices, values };
}

export class ModelServer {
  private readonly server: Server;
  private model?: { version: string; model: Model };
  private checkedAt = 0;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly endpointName: string,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}`));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  /** The current model, re-read from the registry at most once a second. */
  private async current(): Promise<Model | undefined> {
    if (Date.now() - this.checkedAt >= REFRESH_MS) {
      this.checkedAt = Date.now();
      const current = await readCurrentModel(this.s3, this.bucket);
      if (current && current.version !== this.model?.version) {
        this.model = { version: current.version, model: parseModel(await readModelText(this.s3, this.bucket, current.version)) };
      }
    }
    return this.model?.model;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fail = (status: number, type: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ message }));
    };
    try {
      const match = /^\/endpoints\/([^/]+)\/invocations$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) return fail(404, 'UnknownOperationException', `no operation ${req.method} ${req.url}`);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) return fail(413, 'ValidationError', 'payload larger than 6 MB');
        chunks.push(chunk as Buffer);
      }
      const model = decodeURIComponent(match[1]) === this.endpointName ? await this.current() : undefined;
      if (!model) return fail(400, 'ValidationError', `Endpoint ${decodeURIComponent(match[1])} of account local not found.`);
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.trim() !== '');
      let scores: number[];
      try {
        scores = lines.map((line) => predictProba(model, parseLibsvm(line)));
      } catch (err) {
        return fail(400, 'ModelError', (err as Error).message);
      }
      res.writeHead(200, { 'content-type': 'text/csv', 'x-amzn-invoked-production-variant': this.model!.version });
      res.end(scores.join(','));
    } catch (err) {
      fail(500, 'InternalFailure', (err as Error).message);
    }
  }
}
