/** Worker thread for test/unit/thread-priority.test.ts: reports its own niceness. */
import { readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';

parentPort!.postMessage(getPriority(Number(readlinkSync('/proc/thread-self').split('/').pop())));
