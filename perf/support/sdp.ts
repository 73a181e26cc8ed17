/** The `sdp` command as the benches run it: a separate Node process on bin/sdp.js, its output whole. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');

const run = promisify(execFile);

/** Runs `sdp <args>`; rejects (with code, stdout and stderr) when it exits non-zero. */
export function runSdp(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [SDP, ...args], { maxBuffer: 64 * 1024 * 1024, ...(env && { env }) });
}
