/** Worker thread for test/unit/thread-priority.test.ts: reports its own niceness once it has loaded (its next turn of the event loop, as a thread's work runs). */
import { getPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { ownThreadId } from '../../local/thread-priority';

setImmediate(() => parentPort!.postMessage(getPriority(ownThreadId())));
