/**
 * kinesalite and dynalite answer an error from their store (LevelDB) by throwing it
 * (`if (err) throw err` in their request handlers): on a full disk a failed write ended the
 * emulator's thread, and the thread's teardown with LevelDB iterators still open then aborted the
 * whole process (`Iterator::~Iterator(): Assertion 'ended_' failed`). Here each of their API
 * actions is wrapped, in the module cache before the emulator loads them, so such an error is
 * answered as the services answer an internal failure, and the thread lives on. AWS's common
 * errors: "InternalFailure: The request processing has failed because of an unknown error,
 * exception or failure. HTTP Status Code: 500"; DynamoDB names it InternalServerError (500). The
 * SDK retries a 500; the ingestion API then answers 503 with Retry-After, never 200.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

type Callback = (err?: unknown, data?: unknown) => void;
type Action = (store: unknown, data: unknown, cb: Callback) => void;

const ERROR_TYPE = {
  kinesalite: 'InternalFailure',
  dynalite: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
} as const;

/**
 * Wraps every action of `emulator` so an error without an HTTP status (its store failed) is
 * answered 500 with the error's message; `onStoreError` hears of each. Call before the emulator
 * is required (and after anything else that replaces its actions in the module cache).
 */
export function answerStoreErrors(emulator: keyof typeof ERROR_TYPE, onStoreError: (err: Error) => void): void {
  const dir = join(dirname(require.resolve(`${emulator}/package.json`)), 'actions');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const path = join(dir, file);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const action = require(path) as Action;
    if (typeof action !== 'function') continue;
    const wrapped: Action = (store, data, cb) =>
      action(store, data, (err, result) => {
        if (!err || (err as { statusCode?: number }).statusCode) return cb(err, result);
        onStoreError(err as Error);
        cb({ statusCode: 500, body: { __type: ERROR_TYPE[emulator], message: `the emulator's store failed: ${(err as Error).message}` } });
      });
    require.cache[path]!.exports = wrapped;
  }
}
