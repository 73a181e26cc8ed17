/**
 * The README is a test: every ```console block of README.md is run, in order, in one shell
 * session (variables such as $API carry over, as in a user's terminal), against one fresh platform
 * started the way the README starts it (`npm start`, on a free port and a data dir of its own), and
 * each command's output is compared with the lines the README shows after it (test/support/readme.ts
 * gives the convention and the matcher). A block marked `<!-- readme-test: skip (why) -->` is
 * counted and not run; a ```sh block that is neither is a failure, so every command example is
 * either run or skipped on purpose. Nothing here names a section: a new section is covered as is.
 *
 * What the test adapts, as a user on another machine would: `127.0.0.1:3000` becomes the test's
 * port; `npm start` gets `-- --port <port> --data-dir <dir>` and runs in the background until the
 * end (its output is compared once it printed what the README shows); `npx sdp` runs this clone's
 * bin/sdp.js directly (what npx runs, without npm's start-up) with SDP_DATA_DIR set to that data dir.
 * A further platform the README starts (`npx sdp local ...`, in another terminal) runs in the
 * background the same way, until the README stops it or the end: each other port it names
 * (`127.0.0.1:<port>`, `--port <port>`) becomes a free port of the test's, and each data dir it
 * names (`--data-dir <dir>`) a directory of the test's own, wherever the README names them. A file
 * the README shows whole for the reader to write (test/support/readme.ts) is written where it says,
 * in the clone, and removed at the end (the test refuses to overwrite a different file there).
 * Reads (GETs with curl, `sdp query|status|jobs|dlq list`) are eventually consistent (the
 * aggregator and the lake writer work behind the API), so a read whose output does not match yet
 * is run again until it does or a deadline passes; nothing else is retried.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, tempDataDir } from '../support/platform';
import { mismatch, readmeBlocks, type Block } from '../support/readme';
import { waitFor } from '../../local/wait';

const ROOT = join(__dirname, '..', '..');
const README = join(ROOT, 'README.md');
/** The port and data dir the README's examples use. */
const README_HOST = '127.0.0.1:3000';
/** How long one command may take (a platform start, a generator run). */
const COMMAND_TIMEOUT_MS = 120_000;
/** How long a read is retried until its output matches (the pipeline's freshness is ~1 s; a loaded machine is slower). */
const READ_DEADLINE_MS = 60_000;
/** The README's events are sent within this long of the test's start (the platform starts first). */
const HOUR_TURN_MARGIN_MS = 120_000;
const STARTS_PLATFORM = /^(?:\w+=\S*\s+)*(npm start|npx sdp local)\b/;
/** The README's other ports (a second platform's), and the data dirs its platforms are started on. */
const README_PORT = /(?<![\w.])(127\.0\.0\.1:|--port )(\d+)\b/g;
const README_DATA_DIR = /--data-dir (\S+)/g;
const READ = /^(curl\b(?![^\n]*(-X\s*POST|-XPOST|\s-d\s|--data))|npx sdp (query|status|jobs|dlq list)\b)/;


/** One bash session: commands run in turn, each one's stdout, stderr and exit code told apart by markers. */
class Shell {
  private readonly child: ChildProcess;
  private stdout = '';
  private stderr = '';
  private count = 0;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  async run(command: string, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
    const marker = `__readme_test_${++this.count}__`;
    this.stdout = '';
    this.stderr = '';
    // In braces (no subshell: variables persist), reading nothing from the session's stdin.
    this.child.stdin!.write(`{ ${command}\n} </dev/null\nprintf '\\n${marker} %d\\n' $?; printf '${marker}\\n' >&2\n`);
    const done = new RegExp(`\\n${marker} (\\d+)\\n`);
    await waitFor(() => `${JSON.stringify(command)} to finish; output so far:\n${this.stdout}\n${this.stderr}`, () => done.test(this.stdout) && this.stderr.includes(`${marker}\n`), timeoutMs, 20);
    const match = done.exec(this.stdout)!;
    return { code: Number(match[1]), stdout: this.stdout.slice(0, match.index), stderr: this.stderr.slice(0, this.stderr.indexOf(marker)) };
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill('SIGKILL');
  }
}

/** `npm start` in the background, in a process group of its own (npm runs node under a shell). */
class BackgroundPlatform {
  readonly child: ChildProcess;
  output = '';

  constructor(command: string, cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** Ctrl-C, as a user stops it; SIGKILL if it has not stopped within its own 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(-this.child.pid!, 'SIGINT');
    const timer = setTimeout(() => process.kill(-this.child.pid!, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

const blocks: Block[] = readmeBlocks(readFileSync(README, 'utf8'));
const where = (line: number) => `README.md:${line}`;

test('every command example of the README is a console block, run or skipped on purpose', () => {
  const unmarked = blocks.filter((b) => b.kind === 'shell' && !b.skip);
  expect(unmarked.map((b) => `${where(b.line)}: a \`\`\`${'lang' in b ? b.lang : ''} block: make it a \`\`\`console block with "$ " commands and their output, or mark it <!-- readme-test: skip (why) -->`)).toEqual([]);
});

describe('the README, run', () => {
  const port = freePort();
  const dataDir = join(tempDataDir('sdp-readme-'), '.sdp');
  let shell: Shell;
  let platform: BackgroundPlatform | undefined;
  const others: BackgroundPlatform[] = [];
  const written: string[] = [];

  afterAll(async () => {
    shell?.close();
    await Promise.all([platform, ...others].map((p) => p?.stop()));
    for (const file of written) rmSync(file, { force: true });
  });

  test('each command prints what the README shows', async () => {
    // The examples count their events per hour and per day, as one row each: events sent across
    // the turn of an hour would make two. A run that would send them then starts after the turn.
    const toNextHour = 3_600_000 - (Date.now() % 3_600_000);
    if (toNextHour < HOUR_TURN_MARGIN_MS) await sleep(toNextHour + 1000);
    const p = await port;
    mkdirSync(dataDir, { recursive: true });
    // A user's environment: none of the platform's settings changed, the data dir the test's own.
    const env: NodeJS.ProcessEnv = { ...process.env, SDP_DATA_DIR: dataDir, NO_COLOR: '1' };
    for (const name of ['PORT', 'SDP_API_KEY', 'AGGREGATION_PERIOD_SECONDS', 'ALLOWED_LATENESS_SECONDS']) delete env[name];
    shell = new Shell(ROOT, env);
    // `npx sdp` runs this clone's bin/sdp.js; other npx commands go to npx.
    await shell.run(`npx() { if [ "$1" = sdp ]; then shift; node ${JSON.stringify(join(ROOT, 'bin', 'sdp.js'))} "$@"; else command npx "$@"; fi; }`, 10_000);
    const consoleBlocks = blocks.filter((b): b is Extract<Block, { kind: 'console' }> => b.kind === 'console');
    const run = consoleBlocks.filter((b) => !b.skip);
    // The README's other ports and data dirs, each given one of the test's own.
    const allText = run.flatMap((b) => b.commands.flatMap((c) => [c.text, ...c.expected])).join('\n');
    const ports = new Map<string, number>([[README_HOST.split(':')[1], p]]);
    for (const [, , readmePort] of allText.matchAll(README_PORT)) if (!ports.has(readmePort)) ports.set(readmePort, await freePort());
    const dataDirs = new Map<string, string>();
    for (const b of run) for (const c of b.commands) if (STARTS_PLATFORM.test(c.text)) for (const [, dir] of c.text.matchAll(README_DATA_DIR)) if (!isAbsolute(dir)) dataDirs.set(dir, join(dirname(dataDir), dir));
    const here = (text: string) => {
      let adapted = text.replace(README_PORT, (_, prefix: string, readmePort: string) => `${prefix}${ports.get(readmePort)}`);
      for (const [dir, own] of dataDirs) adapted = adapted.replace(new RegExp(`(^|[\\s=("'])${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[/\\s)"']|$)`, 'gm'), `$1${own}`);
      return adapted;
    };
    const bin = join(ROOT, 'bin', 'sdp.js');
    const files = blocks.filter((b): b is Extract<Block, { kind: 'file' }> => b.kind === 'file');
    const skipped = blocks.filter((b): b is Extract<Block, { kind: 'console' | 'shell' }> => (b.kind === 'console' || b.kind === 'shell') && b.skip !== undefined);
    let commands = 0;
    const timings: [number, string][] = [];
    const steps = [...run, ...files].sort((a, b) => a.line - b.line);
    /** Each section's time (from its heading), to keep an eye on the suite's budget. */
    const headings = readFileSync(README, 'utf8').split('\n').flatMap((l, i) => (/^##+ /.test(l) ? [{ line: i + 1, title: l.replace(/^#+ /, '') }] : []));
    const sectionOf = (line: number) => [...headings].reverse().find((h) => h.line < line)?.title ?? '(top)';
    const sections = new Map<string, number>();
    let current: { line: number; since: number } | undefined;
    const countCurrent = () => current && sections.set(sectionOf(current.line), (sections.get(sectionOf(current.line)) ?? 0) + Date.now() - current.since);
    for (const block of steps) {
      countCurrent();
      current = { line: block.line, since: Date.now() };
      if (block.kind === 'file') {
        // The reader writes the file shown; a different file of a developer's there is not overwritten.
        const file = join(ROOT, block.path);
        if (existsSync(file) && readFileSync(file, 'utf8') !== block.text && !written.includes(file)) throw new Error(`${where(block.line)}: ${block.path} exists and is not the README's: move it away to run this test`);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, block.text);
        written.push(file);
        continue;
      }
      for (const command of block.commands) {
        const expected = command.expected.map(here);
        const failure = (why: string, detail = '') => new Error(`${where(command.line)}: $ ${command.text}\n${why}${detail ? `\n${detail}` : ''}`);
        commands++;
        const starts = STARTS_PLATFORM.exec(command.text);
        if (starts) {
          let started: BackgroundPlatform;
          if (starts[1] === 'npm start') {
            if (platform) throw failure('the README starts a second platform with npm start');
            started = platform = new BackgroundPlatform(`${here(command.text)} -- --port ${p} --data-dir ${dataDir}`, ROOT, env);
          } else {
            started = new BackgroundPlatform(here(command.text).replace(/\bnpx sdp /, `node ${JSON.stringify(bin)} `), ROOT, env);
            others.push(started);
          }
          const last = [...expected].reverse().find((l) => l.trim() !== '...');
          await waitFor(() => `the platform to print what the README shows; it printed:\n${started.output}`, () => last === undefined || mismatch(expected, started.output) === undefined || started.child.exitCode !== null, COMMAND_TIMEOUT_MS, 100).catch((err: Error) => {
            throw failure(err.message);
          });
          const why = mismatch(expected, started.output);
          if (why) throw failure(why);
          continue;
        }
        const started = Date.now();
        const isRead = READ.test(command.text);
        const deadline = Date.now() + READ_DEADLINE_MS;
        for (;;) {
          const result = await shell.run(here(command.text), COMMAND_TIMEOUT_MS).catch((err: Error) => {
            throw failure(err.message, platform && `platform output:\n${platform.output.slice(-2000)}`);
          });
          // A command the README shows failing prints its error last on stderr: the README shows that
          // error as its output, and the command must then fail.
          const errorTail = result.stderr.split('\n').filter((l) => l.trim() !== '').slice(-expected.length).join('\n');
          const failedAsShown = result.code !== 0 && expected.length > 0 && mismatch(expected, errorTail) === undefined;
          const why = failedAsShown ? undefined : result.code !== 0 ? `exited ${result.code}; stderr:\n${result.stderr}\nstdout:\n${result.stdout}` : mismatch(expected, result.stdout);
          if (!why) break;
          if (!isRead || Date.now() > deadline) throw failure(why, result.code === 0 && result.stderr.trim() ? `stderr:\n${result.stderr.slice(-2000)}` : '');
          await sleep(500);
        }
        timings.push([Date.now() - started, `${where(command.line)} ${command.text.split('\n')[0].slice(0, 60)}`]);
      }
    }
    countCurrent();
    process.stdout.write(`README: seconds per section: ${[...sections].map(([title, ms]) => `${title} ${(ms / 1000).toFixed(1)}`).join('; ')}\n`);
    const slowest = timings.sort((a, b) => b[0] - a[0]).slice(0, 3).map(([ms, what]) => `${(ms / 1000).toFixed(1)} s ${what}`);
    process.stdout.write(`README: slowest commands: ${slowest.join('; ')}\n`);
    process.stdout.write(`README: ${run.length} console blocks run (${commands} commands), ${files.length} files written, ${skipped.length} blocks skipped: ${skipped.map((b) => `${where(b.line)} (${b.skip})`).join('; ')}\n`);
    expect(run.length + skipped.length).toBe(blocks.filter((b) => b.kind === 'console' || b.kind === 'shell').length);
    expect(platform).toBeDefined();
  }, 600_000);
});
