/**
 * dynalite reads the table's description from LevelDB (and decodes its JSON) for every item it
 * puts, gets or updates: with one more LevelDB read per item for the item itself, that was a third
 * of the emulator thread's reads. This module keeps each ACTIVE table's description in memory,
 * forgetting it whenever dynalite writes or deletes that description (CreateTable, UpdateTable,
 * DeleteTable go through the store's `tableDb`), so every answer stays as dynalite would give it.
 * Item actions only read the description; the actions that change a table read their own copy.
 */

type Callback = (err: unknown, table?: TableDescription) => void;
interface TableDescription {
  TableStatus?: string;
}

/** The part of a dynalite store (`require('dynalite/db').create(options)`) this module wraps. */
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

/** Makes every dynalite store created from now on cache its table descriptions. */
export function useTableDescriptionCache(dynaliteDb: { create(options: unknown): DynaliteStore }): void {
  const create = dynaliteDb.create;
  dynaliteDb.create = (options) => {
    const store = create(options);
    cacheTableDescriptions(store);
    return store;
  };
}
