/**
 * The error a damaged state file or store under the data dir raises at start: one line naming the
 * file and saying how to recover, printed by `sdp local` as is (bin/sdp.ts), so the operator knows
 * what to restore or delete without reading a stack trace.
 */
export class StateError extends Error {
  constructor(
    /** The file or directory that is damaged. */
    readonly path: string,
    problem: string,
    recovery: string,
  ) {
    // One line whatever the damage holds: control characters and undecodable bytes quoted from a file are replaced.
    super(`${path}: ${problem}; ${recovery}`.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?'));
    this.name = 'StateError';
  }
}
