/**
 * Preloaded into every worker thread (threads.ts): a thread started with SDP_THREAD_NICENESS in
 * its environment lowers its own scheduling priority to that niceness. On Linux a thread has a
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
if (niceness > getPriority()) {
  try {
    setPriority(ownThreadId(), niceness);
  } catch {
    // No per-thread priority here: the thread runs at the process's priority.
  }
}
