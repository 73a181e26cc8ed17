/**
 * The local stand-in for a SageMaker endpoint: SageMaker runtime's InvokeEndpoint API
 * (`POST /endpoints/<name>/invocations`, libsvm text in, CSV scores out, as the built-in
 * algorithms answer) serving the model the registry names as current (models/current.json in the
 * lake bucket), scored with the same logistic model code the trainer wrote it with. While no model
 * is deployed it answers like SageMaker for an endpoint that does not exist.
 *
 * It also stands in for the endpoint's CloudWatch metrics: it measures every invocation of the
 * deployed model (its outcome, and the time from its body's arrival to the answer, as SageMaker's `ModelLatency`)
 * and, fed by the platform, every call of the predict function (as Lambda's `Invocations` and
 * `Duration`), and answers them as serving figures (schemas/serving.ts) at GET
 * /_local/serving-figures, which GET /models/current reads locally instead of CloudWatch.
 */
import { performance } from 'node:perf_hooks';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { readCurrentModel, readModelText } from '../lambdas/commons/model-registry';
import { parseModel, predictProba, type Model } from '../lambdas/ml/logistic';
import type { SparseVector } from '../lambdas/ml/features';
import { SERVING_WINDOW_SECONDS } from '../schemas/serving';
import { localServingFigures, ServingWindow, type CallOutcome } from './serving-window';

const REFRESH_MS = 1000;
const MAX_BODY_BYTES = 6 * 1024 * 1024;
/** The local stand-in for the endpoint's metrics in CloudWatch (GET, ?seconds=<1..300>). */
export const SERVING_FIGURES_PATH = '/_local/serving-figures';

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
  /** Invocations of the deployed model (SageMaker's Invocations, 4XX/5XX errors, ModelLatency). */
  private readonly invocations = new ServingWindow();
  /** Calls of the predict function (Lambda's Invocations and Duration), recorded by the platform. */
  private readonly predictCalls = new ServingWindow();

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

  /** Records one call of the predict function and how long it took. */
  recordPredictCall(durationMs: number): void {
    this.predictCalls.record(durationMs);
  }

  /** The serving figures of the last `seconds` seconds. */
  servingFigures(seconds = SERVING_WINDOW_SECONDS) {
    return localServingFigures(this.invocations, this.predictCalls, Date.now(), seconds);
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
    // ModelLatency starts when SageMaker hands the request to the model, so after its body arrived.
    let started = performance.now();
    /** Set once the request reached the deployed model: its answer is then measured as an invocation. */
    let invoked = false;
    const measure = (status: number) => {
      if (!invoked) return;
      const outcome: CallOutcome = status >= 500 ? 'modelFailure' : status >= 400 ? 'badInput' : 'ok';
      this.invocations.record(performance.now() - started, outcome);
    };
    const fail = (status: number, type: string, message: string) => {
      measure(status);
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ message }));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && url.pathname === SERVING_FIGURES_PATH) return this.answerFigures(url, res);
      const match = /^\/endpoints\/([^/]+)\/invocations$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) return fail(404, 'UnknownOperationException', `no operation ${req.method} ${req.url}`);
      const named = decodeURIComponent(match[1]) === this.endpointName;
      // As SageMaker's: an endpoint that does not exist has no metrics; the deployed one counts every call.
      invoked = named && this.model !== undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) return fail(413, 'ValidationError', 'payload larger than 6 MB');
        chunks.push(chunk as Buffer);
      }
      started = performance.now();
      const model = named ? await this.current() : undefined;
      invoked = model !== undefined;
      if (!model) return fail(400, 'ValidationError', `Endpoint ${decodeURIComponent(match[1])} of account local not found.`);
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.trim() !== '');
      let scores: number[];
      try {
        scores = lines.map((line) => predictProba(model, parseLibsvm(line)));
      } catch (err) {
        return fail(400, 'ModelError', (err as Error).message);
      }
      measure(200);
      res.writeHead(200, { 'content-type': 'text/csv', 'x-amzn-invoked-production-variant': this.model!.version });
      res.end(scores.join(','));
    } catch (err) {
      fail(500, 'InternalFailure', (err as Error).message);
    }
  }

  private answerFigures(url: URL, res: ServerResponse): void {
    const raw = url.searchParams.get('seconds');
    const seconds = raw === null ? SERVING_WINDOW_SECONDS : Number(raw);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > SERVING_WINDOW_SECONDS) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `seconds must be a whole number from 1 to ${SERVING_WINDOW_SECONDS}` }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(this.servingFigures(seconds)));
  }
}
