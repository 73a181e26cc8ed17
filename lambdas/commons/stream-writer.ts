/**
 * Puts records on a Kinesis stream, coalescing concurrent callers into PutRecords calls of up to
 * 500 records. A caller's promise resolves only when every one of its records was accepted by the
 * stream; records the stream rejects are retried with backoff, and if they still fail the caller
 * gets a StreamWriteError that says whether the stream throttled or is unavailable.
 */
import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';

const MAX_RECORDS_PER_CALL = 500;
const MAX_BYTES_PER_CALL = 5 * 1024 * 1024;
const MAX_RECORD_BYTES = 1024 * 1024;

export class StreamWriteError extends Error {
  constructor(
    message: string,
    /** True when the stream throttled (retry later), false when it failed or is unreachable. */
    readonly throttled: boolean,
  ) {
    super(message);
    this.name = 'StreamWriteError';
  }
}

export interface StreamRecord {
  partitionKey: string;
  data: Uint8Array;
}

interface Pending {
  entry: PutRecordsRequestEntry;
  size: number;
  request: PendingRequest;
}

interface PendingRequest {
  remaining: number;
  failure?: StreamWriteError;
  resolve: () => void;
  reject: (err: StreamWriteError) => void;
}

export interface StreamWriterOptions {
  /** PutRecords calls in flight at once; callers arriving meanwhile are coalesced into the next call. */
  maxInFlight?: number;
  /** Attempts per record, the first included. */
  maxAttempts?: number;
  /** Backoff before the n-th retry is baseDelayMs * 2^(n-1), with jitter. */
  baseDelayMs?: number;
}

function isThrottle(code: string | undefined): boolean {
  return code === 'ProvisionedThroughputExceededException' || code === 'ThrottlingException' || code === 'LimitExceededException';
}

export class StreamWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxInFlight: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    options: StreamWriterOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 4;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 25;
  }

  /** Resolves once all records are on the stream; rejects with StreamWriteError otherwise. */
  put(records: StreamRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sizes = records.map((r) => r.data.byteLength + Buffer.byteLength(r.partitionKey));
      const tooBig = sizes.find((size) => size > MAX_RECORD_BYTES);
      if (tooBig !== undefined) {
        reject(new StreamWriteError(`record of ${tooBig} bytes exceeds the stream's 1 MiB limit`, false));
        return;
      }
      const request: PendingRequest = { remaining: records.length, resolve, reject };
      records.forEach((record, i) => {
        this.queue.push({ entry: { PartitionKey: record.partitionKey, Data: record.data }, size: sizes[i], request });
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.queue.length > 0) void this.send(this.takeBatch(), 1);
    });
  }

  private takeBatch(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < MAX_RECORDS_PER_CALL && bytes + this.queue[count].size <= MAX_BYTES_PER_CALL) {
      bytes += this.queue[count].size;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async send(batch: Pending[], attempt: number): Promise<void> {
    this.inFlight++;
    let retry: Pending[] = [];
    let lastError: StreamWriteError | undefined;
    try {
      const out = await this.client.send(
        new PutRecordsCommand({ StreamName: this.streamName, Records: batch.map((p) => p.entry) }),
      );
      const results = out.Records ?? [];
      batch.forEach((pending, i) => {
        const result = results[i];
        if (result && !result.ErrorCode && result.SequenceNumber) {
          this.settle(pending.request);
        } else {
          retry.push(pending);
          const code = result?.ErrorCode ?? 'MissingResult';
          lastError = new StreamWriteError(`stream rejected a record: ${code} ${result?.ErrorMessage ?? ''}`.trim(), isThrottle(code));
        }
      });
    } catch (err) {
      const name = (err as { name?: string }).name;
      retry = batch;
      lastError = new StreamWriteError(`stream write failed: ${name ?? 'Error'}: ${(err as Error).message}`, isThrottle(name));
    } finally {
      this.inFlight--;
    }
    if (retry.length > 0) {
      if (attempt >= this.maxAttempts) {
        for (const pending of retry) this.fail(pending.request, lastError!);
      } else {
        const delay = this.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
        await new Promise((r) => setTimeout(r, delay));
        const live = retry.filter((p) => !p.request.failure);
        if (live.length > 0) await this.send(live, attempt + 1);
      }
    }
    this.schedule();
  }

  private settle(request: PendingRequest): void {
    if (request.failure) return;
    request.remaining--;
    if (request.remaining === 0) request.resolve();
  }

  private fail(request: PendingRequest, err: StreamWriteError): void {
    if (request.failure) return;
    request.failure = err;
    request.reject(err);
  }
}
