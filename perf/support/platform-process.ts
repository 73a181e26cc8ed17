/**
 * Starts the local platform for a benchmark in its own process (platform-child.ts runs the same
 * LocalPlatform as `sdp local`), in a fresh data directory, and gives the benchmark what it needs
 * to measure it: the outputs, emulator request counts, CPU figures by thread, and a clean stop.
 * It can also profile the platform's main thread over chosen phases (V8's sampling profiler).
 */
import { PLATFORM_V8_FLAGS } from '../../local/v8-flags';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlatformOutputs } from '../../local/platform';
import type { ConsumerState } from '../../local/consumer-worker';
import type { ChildMessage, ChildRequest, CpuSnapshot } from './platform-child';

export type RequestStats = Record<string, Record<string, number>>;

export interface PlatformProcessOptions {
  shards?: number;
  /** False runs kinesalite and dynalite as published, without the platform's speed-ups. */
  emulatorSpeedups?: boolean;
  /** Where the platform's own log lines go (default: stderr, prefixed). */
  log?: (line: string) => void;
}

export class PlatformProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (value: unknown) => void>();
  private readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly outputs: PlatformOutputs,
    readonly dataDir: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.on('message', (msg: ChildMessage) => {
      if (msg.type !== 'reply') return;
      this.pending.get(msg.id)?.(msg.value);
      this.pending.delete(msg.id);
    });
  }

  static async start(options: PlatformProcessOptions = {}): Promise<PlatformProcess> {
    const dataDir = mkdtempSync(join(tmpdir(), 'sdp-bench-'));
    const log = options.log ?? ((line: string) => process.stderr.write(`  [platform] ${line}\n`));
    const execArgv = [...PLATFORM_V8_FLAGS, '--require', require.resolve('tsx/cjs')];
    const child = fork(join(__dirname, 'platform-child.ts'), [dataDir, String(options.shards ?? 2), options.emulatorSpeedups === false ? 'published-emulators' : 'sped-up-emulators'], {
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let buffered = '';
    const onOutput = (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) log(line);
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    const outputs = await new Promise<PlatformOutputs>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the platform did not start within 60 s'));
      }, 60_000);
      child.on('message', (msg: ChildMessage) => {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          resolve(msg.outputs);
        } else if (msg.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`the platform failed to start: ${msg.message}`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the platform exited with ${code} before it was ready`));
      });
    });
    return new PlatformProcess(child, outputs, dataDir);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private ask<T>(type: ChildRequest['type'], channel?: string, file?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, resolve as (value: unknown) => void);
      this.child.send({ id, type, channel, file } satisfies ChildRequest, (err) => {
        if (err) {
          this.pending.delete(id);
          reject(err);
        }
      });
    });
  }

  /** Emulator request counts by emulator and operation (LocalPlatform.requestStats()). */
  requestStats(): Promise<RequestStats> {
    return this.ask('stats');
  }

  /** Each stream consumer's status: invocations, records delivered, handler time (LocalPlatform.consumerStatus()). */
  consumerStatus(): Promise<Record<string, ConsumerState>> {
    return this.ask('consumers');
  }

  /** CPU figures now; the event-loop delay is per channel, since that channel's previous snapshot. */
  cpu(channel?: string): Promise<CpuSnapshot> {
    return this.ask('cpu', channel);
  }

  /** Starts V8's sampling profiler on the platform's main thread (handlers, API server, poller). */
  profileStart(): Promise<void> {
    return this.ask('profile-start');
  }

  /** Stops the profiler and writes the profile to `file` (.cpuprofile, opens in Chrome DevTools). */
  profileStop(file: string): Promise<void> {
    return this.ask('profile-stop', undefined, file);
  }

  /** Stops the platform (finishing batches in progress) and removes its data directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await this.ask('stop').catch(() => undefined);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * CPU use between two snapshots: the process in cores, each thread's event loop as a busy share,
 * and the main thread's event-loop delay (b's figures cover the time since a).
 */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): { processCores: number; busy: Record<string, number>; mainLoopDelayMs: CpuSnapshot['loopDelay'] } {
  const wallUs = (b.at - a.at) * 1000;
  const processCores = (b.cpuUser + b.cpuSystem - a.cpuUser - a.cpuSystem) / wallUs;
  const busy: Record<string, number> = {};
  for (const [thread, end] of Object.entries(b.elu)) {
    const start = a.elu[thread];
    if (!start) continue;
    const active = end.active - start.active;
    const idle = end.idle - start.idle;
    busy[thread] = active + idle > 0 ? Math.max(0, active / (active + idle)) : 0;
  }
  return { processCores, busy, mainLoopDelayMs: b.loopDelay };
}

/** Difference of two request-count snapshots, by emulator and operation. */
export function statsDelta(before: RequestStats, after: RequestStats): RequestStats {
  const out: RequestStats = {};
  for (const [kind, ops] of Object.entries(after)) {
    out[kind] = {};
    for (const [op, n] of Object.entries(ops)) {
      const d = n - (before[kind]?.[op] ?? 0);
      if (d > 0) out[kind][op] = d;
    }
  }
  return out;
}

/** CPU time this (benchmark) process used between two process.cpuUsage() readings, in cores. */
export function ownCores(start: NodeJS.CpuUsage, startAt: number): number {
  const now = process.cpuUsage(start);
  return (now.user + now.system) / ((Date.now() - startAt) * 1000);
}
