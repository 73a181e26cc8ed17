/**
 * The data dir's locks: one platform at a time per data dir, since two writers would corrupt it,
 * and one run at a time of each scheduled job (the scheduler and `sdp compact` may both try; a
 * lock per scope). Each is an OS-level exclusive lock held for the process's life: a unix socket the platform
 * listens on, which only one process can bind (EADDRINUSE for the next) and which the kernel
 * releases when the process dies, however it dies. On Linux the socket is in the abstract
 * namespace (no file; its name is a hash of the data dir's real path). Elsewhere it is a socket
 * file in the data dir; a file left by a dead process refuses connections (ECONNREFUSED) and is
 * replaced. A process that finds the lock taken connects to it, and the holder answers with its
 * pid and URL, so the refusal names the holder; CLI commands find the running platform the same way.
 */
import { createHash } from 'node:crypto';
import { realpathSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the holder of a data dir's lock says about itself. */
export interface LockHolder {
  pid: number;
  /** The platform's API URL, once it listens. */
  url?: string;
}

/** How long a lock holder has to answer who it is. */
const ASK_TIMEOUT_MS = 3000;

/** What a lock guards in its data dir: the platform itself, or one job's runs. */
export type LockScope = 'platform' | `job-${string}`;

/** The lock socket's address for a data dir (which must exist) and scope. */
export function lockAddress(dataDir: string, platform: NodeJS.Platform = process.platform, scope: LockScope = 'platform'): string {
  const real = realpathSync(dataDir);
  const name = scope === 'platform' ? real : `${real}\0${scope}`;
  if (platform === 'linux') return `\0sdp-lock-${createHash('sha256').update(name).digest('hex')}`;
  return join(real, scope === 'platform' ? 'sdp.lock' : `sdp-${scope}.lock`);
}

/** Asks the holder of the lock at `address` who it is; undefined when nobody holds it (or it does not answer). */
function ask(address: string): Promise<{ holder?: LockHolder; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const socket = connect(address);
    let text = '';
    socket.setTimeout(ASK_TIMEOUT_MS, () => socket.destroy(Object.assign(new Error('the lock holder did not answer'), { code: 'ETIMEDOUT' })));
    socket.on('data', (d) => (text += d.toString()));
    socket.on('end', () => {
      try {
        resolve({ holder: JSON.parse(text) as LockHolder });
      } catch {
        resolve({ error: Object.assign(new Error(`the lock holder answered ${JSON.stringify(text.slice(0, 100))}`), { code: 'EPROTO' }) });
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
  });
}

/** Who holds the data dir's lock (of `scope`), or undefined when no live process does. */
export async function lockHolder(dataDir: string, platform: NodeJS.Platform = process.platform, scope: LockScope = 'platform'): Promise<LockHolder | undefined> {
  let address: string;
  try {
    address = lockAddress(dataDir, platform, scope);
  } catch {
    return undefined; // no such data dir
  }
  return (await ask(address)).holder;
}

export class DataDirLockedError extends Error {}

export class DataDirLock {
  private constructor(
    private readonly server: Server,
    private readonly address: string,
    private readonly info: LockHolder,
  ) {}

  /**
   * Takes the data dir's lock, or throws a DataDirLockedError naming the process that holds it.
   * A lock file left by a dead process (not on Linux) is replaced.
   */
  static async acquire(dataDir: string, platform: NodeJS.Platform = process.platform, scope: LockScope = 'platform'): Promise<DataDirLock> {
    const address = lockAddress(dataDir, platform, scope);
    const what = scope === 'platform' ? 'another sdp platform' : `a run of ${scope.slice('job-'.length)}`;
    const info: LockHolder = { pid: process.pid };
    for (let attempt = 0; ; attempt++) {
      const server = createServer((socket) => socket.end(JSON.stringify(info)));
      const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        server.once('error', resolve);
        server.listen(address, () => resolve(undefined));
      });
      if (!error) {
        // The lock must not keep the process alive by itself; the kernel releases it when the process ends.
        server.unref();
        return new DataDirLock(server, address, info);
      }
      if (error.code !== 'EADDRINUSE') throw error;
      const { holder, error: askError } = await ask(address);
      if (holder) {
        if (scope !== 'platform') throw new DataDirLockedError(`${what} is in progress (pid ${holder.pid}) on ${dataDir}`);
        throw new DataDirLockedError(`${what} (pid ${holder.pid}${holder.url ? `, serving ${holder.url}` : ', still starting'}) is using ${dataDir}; stop it or use another --data-dir`);
      }
      const stale = askError?.code === 'ECONNREFUSED' || askError?.code === 'ENOENT';
      if (stale && !address.startsWith('\0') && attempt === 0) {
        rmSync(address, { force: true }); // a socket file left by a process that died
        continue;
      }
      // The holder is ending (its socket closed between our bind and our question) or hung: try again shortly.
      if (attempt < 5) {
        await sleep(200);
        continue;
      }
      throw new DataDirLockedError(`another process holds the ${scope} lock on ${dataDir} but does not say who it is (${askError?.message})`);
    }
  }

  /** From now on the holder names its URL to whoever asks. */
  setUrl(url: string): void {
    this.info.url = url;
  }

  release(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      if (!this.address.startsWith('\0')) rmSync(this.address, { force: true });
    });
  }
}
