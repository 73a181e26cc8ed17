/**
 * Batched DynamoDB reads and writes of items keyed by one string attribute: BatchGetItem (100
 * keys a request, consistent) and BatchWriteItem (25 puts a request), retrying unprocessed keys
 * and items with backoff. Each call settles every request it started before it resolves or
 * rejects, so a failed invocation leaves no write running behind it.
 */
import { BatchGetCommand, BatchWriteCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const BATCH_GET_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;
const MAX_UNPROCESSED_ROUNDS = 12;

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Like Promise.all, but waits for every promise to settle before rejecting with the first failure. */
export async function allSettledOrThrow<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * Maps items through `fn` with at most `limit` calls in flight; after a failure starts no more,
 * lets those in flight settle, then rejects with the first failure.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await allSettledOrThrow(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const backoff = (round: number) => new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** round) * (0.5 + Math.random())));

/** Consistent BatchGetItem of any keys (100 a request, unprocessed keys retried); `onRequest` counts requests. */
export async function batchGet(
  db: DynamoDBDocumentClient,
  table: string,
  keys: readonly Record<string, unknown>[],
  onRequest: () => void = () => {},
): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  await allSettledOrThrow(
    chunks(keys, BATCH_GET_LIMIT).map(async (part) => {
      let pending: Record<string, unknown>[] | undefined = part;
      for (let round = 0; pending && pending.length > 0; round++) {
        if (round > MAX_UNPROCESSED_ROUNDS) throw new Error(`BatchGet left ${pending.length} keys of ${table} unprocessed`);
        if (round > 0) await backoff(round);
        onRequest();
        const out: BatchGetCommandOutput = await db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
        found.push(...(out.Responses?.[table] ?? []));
        pending = out.UnprocessedKeys?.[table]?.Keys;
      }
    }),
  );
  return found;
}

export class KeyedItems<T extends object> {
  /** DynamoDB requests made so far. */
  requests = 0;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly key: string,
  ) {}

  async getAll(ids: readonly string[]): Promise<Map<string, T>> {
    const items = await batchGet(this.db, this.table, ids.map((id) => ({ [this.key]: id })), () => this.requests++);
    return new Map(items.map((item) => [item[this.key] as string, item as T]));
  }

  async putAll(items: readonly T[]): Promise<void> {
    await allSettledOrThrow(
      chunks(items, BATCH_WRITE_LIMIT).map(async (part) => {
        let requests: Record<string, unknown>[] | undefined = part.map((Item) => ({ PutRequest: { Item } }));
        for (let round = 0; requests && requests.length > 0; round++) {
          if (round > MAX_UNPROCESSED_ROUNDS) throw new Error(`BatchWrite left ${requests.length} items of ${this.table} unprocessed`);
          if (round > 0) await backoff(round);
          this.requests++;
          const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests as never } }));
          requests = out.UnprocessedItems?.[this.table] as Record<string, unknown>[] | undefined;
        }
      }),
    );
  }
}
