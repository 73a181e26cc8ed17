/**
 * The CLI's user errors, as a user sees them: `node bin/sdp.js ...` exits 1 with one line on
 * stderr and a hint, never the whole usage. A usage error (unknown option or command, bad
 * argument) names the command's --help; a command that reads a platform's data on a data dir no
 * platform ever ran on says so instead of printing an empty table; hints name the data dir used as
 * an absolute path, also when the default (.sdp) is taken relative to a subfolder.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDataDir } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');

/** Runs sdp in `cwd` (SDP_DATA_DIR unset); its exit code, stdout and stderr's lines. */
async function sdp(args: string[], cwd = tempDataDir('sdp-cli-cwd-')): Promise<{ code: number; stdout: string; lines: string[] }> {
  const env = { ...process.env };
  delete env.SDP_DATA_DIR;
  const result = await run(process.execPath, [SDP, ...args], { cwd, env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (err) => ({ code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string }),
  );
  return { code: result.code, stdout: result.stdout, lines: result.stderr.split('\n').filter((l) => l !== '') };
}

describe('sdp user errors', () => {
  it.each([
    [['jobs', '--bogus'], "sdp: error: unknown option '--bogus' (see sdp jobs --help)"],
    [['dlq', 'list', '--nope'], "sdp: error: unknown option '--nope' (see sdp dlq list --help)"],
    [['local', '--port', 'abc'], "sdp: error: option '--port <port>' argument 'abc' is invalid. port must be an integer from 0 to 65535 (see sdp local --help)"],
    [['local', '--pipeline', 'nosuch.ts'], "sdp: error: option '--pipeline <name or file>' argument 'nosuch.ts' is invalid. no pipeline nosuch.ts: not a shipped one (adtech, telemetry) and no file <cwd>/nosuch.ts (see sdp local --help)"],
    [['generate', '--auctions', '0'], "sdp: error: option '--auctions <n>' argument '0' is invalid. auctions must be a positive integer (see sdp generate --help)"],
    [['reshard'], "sdp: error: required option '--shards <n>' not specified (see sdp reshard --help)"],
    [['nosuch'], "sdp: error: unknown command 'nosuch' (see sdp --help)"],
  ])('sdp %j: one line naming the help to read, exit 1', async (args, line) => {
    const cwd = tempDataDir('sdp-cli-cwd-');
    const { code, stdout, lines } = await sdp(args, cwd);
    expect({ code, stdout, lines }).toEqual({ code: 1, stdout: '', lines: [line.replace('<cwd>', cwd)] });
  });

  it.each([[['jobs']], [['dlq', 'list']], [['query', 'SELECT 1']]])('sdp %j on a data dir no platform ran on: exit 1, naming the dir', async (args) => {
    const dir = tempDataDir();
    const { code, stdout, lines } = await sdp([...args, '--data-dir', dir]);
    expect({ code, stdout, lines }).toEqual({
      code: 1,
      stdout: '',
      lines: [`sdp: no platform data in ${dir}: pass the --data-dir (or SDP_DATA_DIR) of a platform, or start one with sdp local --data-dir ${dir}`],
    });
  });

  it('a --pipeline that is neither shipped nor a file, or a file whose declaration is not valid: one line saying so', async () => {
    const dir = tempDataDir('sdp-cli-pipeline-');
    const missing = await sdp(['generate', '--pipeline', 'nope', '--out', join(dir, 'events.ndjson')], dir);
    expect(missing).toEqual({ code: 1, stdout: '', lines: [`sdp: error: option '--pipeline <name or file>' argument 'nope' is invalid. no pipeline nope: not a shipped one (adtech, telemetry) and no file ${join(dir, 'nope')} (see sdp generate --help)`] });
    writeFileSync(join(dir, 'bad.ts'), `import { z } from '${require.resolve('zod')}';\nimport { definePipeline, count } from '${join(__dirname, '..', '..', 'schemas', 'pipeline')}';\nexport default definePipeline({ name: 'bad', streams: { s: { schema: z.object({ k: z.string() }), identity: ['nope'], partitionKey: 'k' } }, aggregations: { a: { stream: 's', groupBy: ['k'], measures: { n: count() } } } });\n`);
    const invalid = await sdp(['generate', '--pipeline', 'bad.ts', '--out', join(dir, 'events.ndjson')], dir);
    expect(invalid.code).toBe(1);
    expect(invalid.lines).toHaveLength(1);
    expect(invalid.lines[0]).toMatch(/^sdp: .*pipeline bad is not valid: - stream s: identity field nope is not a field of its schema/);
  });

  it('run from a subfolder, the hint names the absolute data dir used (the default .sdp there)', async () => {
    const sub = join(tempDataDir('sdp-cli-repo-'), 'sub');
    mkdirSync(sub);
    const status = await sdp(['status'], sub);
    expect(status).toEqual({ code: 1, stdout: '', lines: [`sdp: no local platform is running on ${join(sub, '.sdp')}: start it with sdp local --data-dir ${join(sub, '.sdp')}`] });
    const jobs = await sdp(['jobs', '--data-dir', '../data'], sub);
    expect(jobs.lines).toEqual([`sdp: no platform data in ${join(sub, '..', 'data')}: pass the --data-dir (or SDP_DATA_DIR) of a platform, or start one with sdp local --data-dir ${join(sub, '..', 'data')}`]);
  });

  it('sdp alone prints the commands, as sdp --help does, and exits 0', async () => {
    const [bare, help] = await Promise.all([sdp([]), sdp(['--help'])]);
    expect(bare).toEqual({ code: 0, stdout: help.stdout, lines: [] });
    expect(bare.stdout).toMatch(/^Usage: sdp .*\n[^]*Commands:\n[^]*  query /);
  });

  it('a data dir a platform ran on (now stopped) lists its jobs: an empty table, exit 0', async () => {
    const dir = tempDataDir();
    writeFileSync(join(dir, 'outputs.json'), '{}');
    const { code, stdout, lines } = await sdp(['jobs', '--data-dir', dir]);
    expect({ code, lines }).toEqual({ code: 0, lines: [] });
    expect(stdout).toMatch(/\(0 rows\)/);
  });
});
