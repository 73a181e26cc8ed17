/**
 * Preloaded into every worker thread (threads.ts): a thread started with SDP_THREAD_NICENESS in
 * its environment lowers its own scheduling priority to that niceness once it has loaded. On Linux a thread has a
 * priority of its own, set through its thread id (/proc/thread-self); elsewhere nothing changes.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The calling thread's id (Linux: /proc/thread-self links to /proc/<pid>/task/<tid>); throws elsewhere. */
export function ownThreadId(): number {
  return Number(readlinkSync('/proc/thread-self').split('/').pop());
}

const niceness = Number(process.env.SDP_THREAD_NICENESS ?? 0);
// Only ever lower: a platform started under `nice` keeps every thread at least that nice (as root,
// setting a smaller niceness would raise the thread above the process it belongs to).
// Lowered once the thread's main module has loaded (its first turn of the event loop), not before:
// loading the modules (the SDK, the handlers) is most of a thread's start, and the platform is not
// ready until every thread has started, so a thread loading at niceness 10 on a busy machine held
// up the whole start (while the API, not yet listening, had nothing to come first for).
if (niceness > getPriority()) {
  setImmediate(() => {
    try {
      setPriority(ownThreadId(), niceness);
    } catch {
      // No per-thread priority here: the thread runs at the process's priority.
    }
  });
}
