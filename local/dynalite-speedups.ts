/**
 * Speed-ups for dynalite as the local platform runs it (in its own worker thread, data on disk in
 * LevelDB through classic-level). Profiles of the aggregator's calls showed most of the thread's
 * time in three places, each taken away here without changing any answer:
 *  - the table's description read from LevelDB and decoded for every item: kept in memory per
 *    ACTIVE table, forgotten whenever dynalite writes or deletes that description (CreateTable,
 *    UpdateTable and DeleteTable go through the store's `tableDb`); item actions only read it;
 *  - every read handed to the libuv pool with a LevelDB snapshot and a promise round trip: reads
 *    run synchronously instead (LevelDB serves them from memory or the page cache);
 *  - every item written as its own LevelDB write: the puts and deletes issued in one turn of the
 *    event loop are written as one batch, in the order they were issued, each caller answered
 *    when the batch is written. Writes were not synced to disk before either;
 *  - every item key computed afresh, an MD5 digest each time (the same key several times per
 *    item: validation, lock, read, write): kept per table description, which is immutable;
 *  - every put reading the item it replaces, even when nothing needs it: a put with no condition,
 *    no ALL_OLD, no consumed capacity on a table with no secondary index writes without reading.
 */

import { dirname } from 'node:path';

type Callback = (err: unknown, table?: TableDescription) => void;
interface TableDescription {
  TableStatus?: string;
}

/** The part of a dynalite store (`require('dynalite/db').create(options)`) the table cache wraps. */
export interface DynaliteStore {
  getTable(name: string, checkStatus: boolean | Callback, cb?: Callback): void;
  tableDb: {
    put(key: string, value: unknown, cb: (err?: unknown) => void): void;
    del(key: string, cb: (err?: unknown) => void): void;
  };
}

export function cacheTableDescriptions(store: DynaliteStore): void {
  const cache = new Map<string, TableDescription>();
  /** Bumped by every write of a description, so a read that raced with one is not cached. */
  const generation = new Map<string, number>();
  const changed = (key: string) => {
    cache.delete(key);
    generation.set(key, (generation.get(key) ?? 0) + 1);
  };
  const getTable = store.getTable.bind(store);
  const { tableDb } = store;
  const put = tableDb.put.bind(tableDb);
  const del = tableDb.del.bind(tableDb);
  tableDb.put = (key, value, cb) => {
    changed(key);
    put(key, value, (err) => {
      changed(key);
      cb(err);
    });
  };
  tableDb.del = (key, cb) => {
    changed(key);
    del(key, (err) => {
      changed(key);
      cb(err);
    });
  };
  store.getTable = (name, checkStatus, cb) => {
    const callback = (typeof checkStatus === 'function' ? checkStatus : cb) as Callback;
    // dynalite treats a callback given in checkStatus's place as a truthy checkStatus.
    const check = typeof checkStatus === 'function' ? true : checkStatus;
    const cached = cache.get(name);
    if (cached) {
      queueMicrotask(() => callback(null, cached));
      return;
    }
    const readAt = generation.get(name) ?? 0;
    getTable(name, check, (err, table) => {
      if (!err && table?.TableStatus === 'ACTIVE' && (generation.get(name) ?? 0) === readAt) cache.set(name, table);
      callback(err, table);
    });
  };
}

type WriteOp = { type: 'put'; key: unknown; value: unknown } | { type: 'del'; key: unknown };
interface WriteOptions {
  sync?: boolean;
}
/** The classic-level methods these speed-ups replace (abstract-level's private implementation API). */
export interface ClassicLevelPrototype {
  _get(key: unknown, options: object): Promise<unknown>;
  _getSync(key: unknown, options: object): unknown;
  _put(key: unknown, value: unknown, options: WriteOptions): Promise<void>;
  _del(key: unknown, options: WriteOptions): Promise<void>;
  _batch(operations: WriteOp[], options: WriteOptions): Promise<void>;
}

/** Reads answered synchronously by LevelDB, without a trip through the libuv pool. */
export function useSynchronousReads(proto: ClassicLevelPrototype): void {
  proto._get = function (this: ClassicLevelPrototype, key, options) {
    try {
      return Promise.resolve(this._getSync(key, options));
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

/** Puts and deletes issued in one turn of the event loop written as one LevelDB batch, in order. */
export function useCoalescedWrites(proto: ClassicLevelPrototype): void {
  interface Pending {
    ops: WriteOp[];
    waiters: { resolve: () => void; reject: (err: unknown) => void }[];
  }
  const pending = new WeakMap<ClassicLevelPrototype, Pending>();
  const enqueue = (db: ClassicLevelPrototype, op: WriteOp) =>
    new Promise<void>((resolve, reject) => {
      let batch = pending.get(db);
      if (!batch) {
        const next: Pending = { ops: [], waiters: [] };
        pending.set(db, next);
        setImmediate(() => {
          pending.delete(db);
          db._batch(next.ops, {}).then(
            () => next.waiters.forEach((w) => w.resolve()),
            (err) => next.waiters.forEach((w) => w.reject(err)),
          );
        });
        batch = next;
      }
      batch.ops.push(op);
      batch.waiters.push({ resolve, reject });
    });
  const { _put: put, _del: del } = proto;
  proto._put = function (this: ClassicLevelPrototype, key, value, options) {
    return options?.sync ? put.call(this, key, value, options) : enqueue(this, { type: 'put', key, value });
  };
  proto._del = function (this: ClassicLevelPrototype, key, options) {
    return options?.sync ? del.call(this, key, options) : enqueue(this, { type: 'del', key });
  };
}

interface KeyTable {
  KeySchema: { AttributeName: string }[];
  LocalSecondaryIndexes?: unknown[];
  GlobalSecondaryIndexes?: unknown[];
}
type Item = Record<string, Record<string, unknown>>;
type CreateKey = (item: Item, table: KeyTable, keySchema?: unknown) => string;

/** Past this many keys a table's memo starts again, so memory stays bounded. */
const KEY_MEMO_LIMIT = 100_000;

/**
 * `createKey` remembered per table description object (the table cache keeps one per table until
 * the table changes). Keys are a pure function of the table's key schema and the key attributes'
 * values; anything unusual (an index's key schema, a missing or non-string value) is computed as before.
 */
export function memoizedCreateKey(createKey: CreateKey): CreateKey {
  const memos = new WeakMap<KeyTable, Map<string, string>>();
  return (item, table, keySchema) => {
    if (keySchema != null && keySchema !== table.KeySchema) return createKey(item, table, keySchema);
    let id = '';
    for (const { AttributeName } of table.KeySchema) {
      const attr = item[AttributeName];
      const type = attr && Object.keys(attr)[0];
      const value = type && attr[type];
      if (typeof value !== 'string') return createKey(item, table, keySchema);
      id += `${type}${value.length}:${value}`;
    }
    let memo = memos.get(table);
    if (!memo || memo.size >= KEY_MEMO_LIMIT) memos.set(table, (memo = new Map()));
    let key = memo.get(id);
    if (key === undefined) memo.set(id, (key = createKey(item, table, keySchema)));
    return key;
  };
}

interface PutItemRequest {
  TableName: string;
  Item: Item;
  ReturnValues?: string;
  ReturnConsumedCapacity?: string;
  Expected?: unknown;
  _condition?: unknown;
}
type Done = (err: unknown, result?: object) => void;
type PutItemAction = (store: ItemStore, data: PutItemRequest, cb: Done) => void;
interface ItemStore {
  getTable(name: string, cb: (err: unknown, table?: KeyTable) => void): void;
  getItemDb(name: string): {
    lock(key: string, fn: (release: (cb: Done) => Done) => void): void;
    put(key: string, item: Item, cb: (err?: unknown) => void): void;
  };
}
interface DynaliteDb {
  create(options: unknown): DynaliteStore;
  createKey: CreateKey;
  validateItem(item: Item, table: KeyTable): unknown;
}

/**
 * dynalite's PutItem action, except that a put whose answer and effect cannot depend on the item
 * it replaces (no condition, no ALL_OLD, no consumed capacity, no secondary index to update) does
 * not read that item first; it still takes the item's lock, so it stays ordered with updates.
 */
export function blindPuts(putItem: PutItemAction, db: DynaliteDb): PutItemAction {
  return (store, data, cb) => {
    const needsOldItem = data._condition != null || data.Expected != null || data.ReturnValues === 'ALL_OLD' || data.ReturnConsumedCapacity != null;
    if (needsOldItem) return putItem(store, data, cb);
    store.getTable(data.TableName, (err, table) => {
      if (err) return cb(err);
      if (table!.LocalSecondaryIndexes || table!.GlobalSecondaryIndexes) return putItem(store, data, cb);
      const invalid = db.validateItem(data.Item, table!);
      if (invalid != null) return cb(invalid);
      const itemDb = store.getItemDb(data.TableName);
      const key = db.createKey(data.Item, table!);
      itemDb.lock(key, (release) => {
        const done = release(cb);
        itemDb.put(key, data.Item, (putErr) => (putErr ? done(putErr) : done(null, {})));
      });
    });
  };
}

/** Applies every speed-up to dynalite stores created from now on in this thread (call it before requiring dynalite). */
export function speedUpDynalite(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynaliteDb = require('dynalite/db') as DynaliteDb;
  dynaliteDb.createKey = memoizedCreateKey(dynaliteDb.createKey);
  // The actions (and BatchWriteItem, which calls PutItem's module) take PutItem from the module cache.
  const putItemPath = require.resolve('dynalite/actions/putItem');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const putItem = require(putItemPath) as PutItemAction;
  require.cache[putItemPath]!.exports = blindPuts(putItem, dynaliteDb);
  const create = dynaliteDb.create;
  dynaliteDb.create = (options) => {
    const store = create(options);
    cacheTableDescriptions(store);
    return store;
  };
  // dynalite opens its LevelDB with `level`, whose Node export is classic-level's ClassicLevel.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Level } = require(require.resolve('level', { paths: [dirname(require.resolve('dynalite'))] })) as { Level: { prototype: ClassicLevelPrototype } };
  useSynchronousReads(Level.prototype);
  useCoalescedWrites(Level.prototype);
}
