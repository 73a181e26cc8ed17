/** Resident memory of a process (all its threads), from /proc; NaN where /proc is not available. */
import { readFileSync } from 'node:fs';

/** VmRSS of `pid` in MiB. */
export function rssMiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    const kib = Number(line?.split(/\s+/)[1]);
    return Number.isFinite(kib) ? kib / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
