/**
 * For the cost bench only (SDP_MEASURE_CAPACITY=1 in the platform's environment): counts, inside
 * the emulator threads, what AWS would bill. In dynalite, every item read or written is measured
 * in request units by dynalite's own ReturnConsumedCapacity arithmetic (db.addConsumedCapacity:
 * 1 KB per write unit, 4 KB per read unit, halved for eventually consistent reads), whether or not
 * the caller asked for it, and Query/Scan requests are counted by table. In s3rver, requests are
 * counted by HTTP method. The counts go into the emulator's request counts under "units:…",
 * "items:…" and "queries:…" keys, which `requestStats()` already carries to the benches.
 */
import type { Server, IncomingMessage } from 'node:http';

export const MEASURE_CAPACITY_ENV = 'SDP_MEASURE_CAPACITY';

export const measuringCapacity = (): boolean => process.env[MEASURE_CAPACITY_ENV] === '1';

type Counts = Record<string, number>;
const bump = (counts: Counts, key: string, n: number) => {
  counts[key] = (counts[key] ?? 0) + n;
};

interface DynaliteDb {
  addConsumedCapacity(data: Record<string, unknown>, isRead: boolean, newItem: unknown, oldItem?: unknown): { CapacityUnits: number } | undefined;
  queryTable(store: unknown, table: unknown, data: Record<string, unknown>, ...rest: unknown[]): void;
}

type Done = (err: unknown, result?: Record<string, unknown>) => void;
type PutItemAction = (store: unknown, data: Record<string, unknown>, cb: Done) => void;

/**
 * Wraps dynalite's capacity arithmetic and its query/scan entry point so every call is counted in
 * `counts`. Call it after speedUpDynalite() and before requiring dynalite: PutItem is made to ask
 * for its consumed capacity (so the speed-ups' blind put, which skips the arithmetic, is not taken
 * and the item replaced is read, as AWS bills the larger of the two), and the answer is stripped of
 * it again when the caller did not ask.
 */
export function meterDynalite(counts: Counts): void {
  const putItemPath = require.resolve('dynalite/actions/putItem');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const putItem = require(putItemPath) as PutItemAction;
  require.cache[putItemPath]!.exports = ((store, data, cb) => {
    if (data.ReturnConsumedCapacity != null) return putItem(store, data, cb);
    putItem(store, { ...data, ReturnConsumedCapacity: 'TOTAL' }, (err, result) => {
      if (result) delete result.ConsumedCapacity;
      cb(err, result);
    });
  }) satisfies PutItemAction;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const db = require('dynalite/db') as DynaliteDb;
  const add = db.addConsumedCapacity;
  db.addConsumedCapacity = (data, isRead, newItem, oldItem) => {
    const units = add({ ...data, ReturnConsumedCapacity: 'TOTAL' }, isRead, newItem, oldItem)?.CapacityUnits ?? 0;
    const table = String(data.TableName);
    bump(counts, `units:${isRead ? 'read' : 'write'}:${table}`, units);
    bump(counts, `items:${isRead ? 'read' : 'write'}:${table}`, 1);
    return add(data, isRead, newItem, oldItem);
  };
  const query = db.queryTable;
  db.queryTable = (store, table, data, ...rest) => {
    bump(counts, `queries:${String(data.TableName)}`, 1);
    return query(store, table, data, ...rest);
  };
}

/** Counts an S3 emulator's requests by HTTP method, as "s3:PUT" etc. */
export function meterHttpMethods(server: Server, counts: Counts): void {
  server.on('request', (req: IncomingMessage) => bump(counts, `s3:${req.method ?? 'unknown'}`, 1));
}
