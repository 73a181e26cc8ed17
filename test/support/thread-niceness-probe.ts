/** Worker thread for test/unit/thread-priority.test.ts: reports its own niceness. */
import { getPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { ownThreadId } from '../../local/thread-priority';

parentPort!.postMessage(getPriority(ownThreadId()));
