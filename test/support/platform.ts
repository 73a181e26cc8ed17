/**
 * Starts a real local platform (`sdp local`) in a child process for a test: its own free port
 * (--port 0) and its own data directory; stop() ends it with SIGINT like a user's Ctrl-C,
 * kill() with SIGKILL like a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlatformOutputs } from '../../local/platform';
import { waitFor } from '../../local/wait';
import { PLATFORM_V8_FLAGS } from '../../local/v8-flags';

export interface RunningPlatform {
  outputs: PlatformOutputs;
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** What the platform wrote to stderr so far (for failure messages). */
  log(): string;
}

const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
/** The lake writer's batching window of the platforms tests start. */
export const TEST_LAKE_BATCHING_WINDOW_SECONDS = 1;

/** A TCP port free on 127.0.0.1 now (the OS picks it), for a platform the test starts itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function tempDataDir(prefix = 'sdp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartOptions {
  dataDir?: string;
  /** Port to listen on; 0 (the default) lets the OS pick a free one. */
  port?: number;
  args?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function startPlatform(options: StartOptions = {}): Promise<RunningPlatform> {
  const dataDir = options.dataDir ?? tempDataDir();
  const child = spawn(process.execPath, [...PLATFORM_V8_FLAGS, SDP, 'local', '--port', String(options.port ?? 0), '--data-dir', dataDir, '--json', ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // A lake writer's window of a second, not the 30 s default (schemas/resources.ts): tests read
    // the lake (and wait for it to catch up: `sdp audit`, the consumers caught up) right after they
    // send, and each wait for the lake lasts about one window. A test's own env may set another.
    env: { ...process.env, SDP_DATA_DIR: '', LAKE_BATCHING_WINDOW_SECONDS: String(TEST_LAKE_BATCHING_WINDOW_SECONDS), ...options.env },
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ending = (signal: NodeJS.Signals) => async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`platform did not start within ${options.timeoutMs ?? 60_000} ms:\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolve({ outputs: JSON.parse(line), dataDir, process: child, stop: ending('SIGINT'), kill: ending('SIGKILL'), log: () => stderr });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`platform exited with ${code} before it was ready:\n${stderr}`));
    });
  });
}

/** Polls until `check` returns a value that satisfies `done`, or fails with the last value seen. */
export async function pollUntil<T>(what: string, check: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  let last: T | undefined;
  await waitFor(() => `${what}; last value: ${JSON.stringify(last)}`, async () => done((last = await check())), timeoutMs, 200);
  return last as T;
}

/** A stream consumer's shards (e.g. the aggregator's), as the platform's GET /health reports them. */
export async function consumerShards(apiUrl: string, consumer: string): Promise<{ shardId: string; waitingFor?: string[] }[]> {
  const health = (await (await fetch(`${apiUrl}health`)).json()) as { components: Record<string, { shards?: { shardId: string; waitingFor?: string[] }[] }> };
  return health.components[consumer]?.shards ?? [];
}
