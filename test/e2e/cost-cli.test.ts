/**
 * `sdp cost` as a user runs it: --help, the JSON report's shape and figures on a small hand-made
 * template (the same stack and measurements the unit tests price by hand), the committed
 * measurements file read by default, --table-capacity provisioned, and one-line errors for a region
 * the price table does not price, a file that is not a template, an unknown event type, a
 * table capacity mode it does not know or given with --template, and deploy options (-c) the stack
 * does not read, malformed, refused by the stack or given with --template; -c prices the options.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDataDir } from '../support/platform';
import { roundMeasurements, smallTemplate } from '../support/cost-fixture';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');

async function sdp(args: string[]): Promise<{ code: number; stdout: string; lines: string[] }> {
  const result = await run(process.execPath, [SDP, 'cost', ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (err) => ({ code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string }),
  );
  return { code: result.code, stdout: result.stdout, lines: result.stderr.split('\n').filter((l) => l !== '') };
}

const dir = tempDataDir('sdp-cost-');
const templateFile = join(dir, 'template.json');
const measurementsFile = join(dir, 'measurements.json');
writeFileSync(templateFile, JSON.stringify(smallTemplate));
writeFileSync(measurementsFile, JSON.stringify(roundMeasurements));

describe('sdp cost', () => {
  it('--help lists the options', async () => {
    const { code, stdout } = await sdp(['--help']);
    expect(code).toBe(0);
    for (const option of ['--events-per-second', '--events-per-request', '--event-mix', '--region', '--template', '--table-capacity', '--context', '--measurements', '--json']) expect(stdout).toContain(option);
  });

  it('--json: the bill at the traffic, idle, per million events, its components and assumptions', async () => {
    const { code, stdout, lines } = await sdp(['--json', '--template', templateFile, '--measurements', measurementsFile, '--events-per-second', '10', '--events-per-request', '10']);
    expect({ code, lines }).toEqual({ code: 0, lines: [] });
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      region: 'us-east-1',
      template: templateFile,
      traffic: { eventsPerSecond: 10, eventsPerRequest: 10, mix: { bid: 0.6, impression: 0.3, click: 0.1 } },
      eventsPerMonth: 26_280_000,
      requestsPerMonth: 2_628_000,
      warnings: [],
    });
    expect(report.total).toBeCloseTo(85.74175504, 6);
    expect(report.idleTotal).toBeCloseTo(26.2, 9);
    expect(report.perMillionEvents).toBeCloseTo(85.74175504 / 26.28, 6);
    for (const c of report.components) expect(Object.keys(c).sort()).toEqual(['idleUsd', 'item', 'service', 'usd']);
    for (const a of report.assumptions) expect(Object.keys(a).sort()).toEqual(['source', 'value', 'what']);
  });

  it('reads the committed measurements by default, and prints a table for people', async () => {
    const { code, stdout } = await sdp(['--template', templateFile, '--events-per-second', '100', '--event-mix', 'bid=1']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^idle total: +\$\d/m);
    expect(stdout).toMatch(/^total at 100 events\/s: +\$\d/m);
    expect(stdout).toMatch(/^cost per million events: +\$\d/m);
    expect(stdout).toContain('measurements: perf/cost-measurements.json');
    expect(stdout).toContain('(bid 1.00, impression 0.00, click 0.00)');
  });

  it('--table-capacity provisioned: the stack synthesized with the option, its four growing tables billed by capacity', async () => {
    const { code, stdout, lines } = await sdp(['--json', '--table-capacity', 'provisioned', '--events-per-second', '100']);
    expect({ code, lines }).toEqual({ code: 0, lines: [] });
    const report = JSON.parse(stdout);
    expect(report.template).toBe('synthesized now with -c sdp:tableCapacity=provisioned');
    const capacity = report.components.filter((c: { item: string }) => / WCU provisioned \(auto scaling: [\d.]+ write units\/s at 70 % target, 1 to 4000\)$/.test(c.item));
    expect(capacity.map((c: { item: string }) => c.item.split(':')[0]).sort()).toEqual(['aggregates', 'aggregator-journal', 'lake-seen', 'tx-state']);
    expect(report.assumptions.map((a: { what: string }) => a.what)).toEqual(expect.arrayContaining(['DynamoDB provisioned capacity', 'steady traffic']));
  }, 60_000);

  it('-c key=value: the stack synthesized with those deploy options, priced; a 5 s reports window writes fewer rows', async () => {
    const bill = async (args: string[]) => {
      const { code, stdout, lines } = await sdp(['--json', '--events-per-second', '100', ...args]);
      expect({ code, lines }).toEqual({ code: 0, lines: [] });
      return JSON.parse(stdout) as { template: string; total: number; idleTotal: number; components: { item: string; usd: number }[] };
    };
    const rows = (r: Awaited<ReturnType<typeof bill>>) => r.components.find((c) => /^aggregates: .* write units/.test(c.item))!.usd;
    const windowed = await bill(['-c', 'sdp:reportsBatchingWindowSeconds=5', '-c', 'sdp:dashboard=false']);
    const plain = await bill(['-c', 'sdp:reportsBatchingWindowSeconds=0']);
    expect(windowed.template).toBe('synthesized now with -c sdp:reportsBatchingWindowSeconds=5 -c sdp:dashboard=false');
    expect(rows(windowed)).toBeLessThan(rows(plain));
    expect(plain.idleTotal - windowed.idleTotal).toBeCloseTo(3, 2); // the dashboard
  }, 120_000);

  it.each([
    [['-c', 'sdp:shards=4'], 'sdp: -c sdp:shards: not a context value the stack reads (sdp:aggregatesFeed, sdp:streamRetentionHours, sdp:tableCapacity, sdp:maxTableCapacity, sdp:reportsBatchingWindowSeconds, sdp:alarmTopicKey, sdp:dashboard, sdp:pipelines)'],
    [['-c', 'sdp:dashboard'], 'sdp: -c sdp:dashboard: give key=value, e.g. -c sdp:reportsBatchingWindowSeconds=5'],
    [['-c', 'sdp:reportsBatchingWindowSeconds=soon'], 'sdp: context sdp:reportsBatchingWindowSeconds must be a whole number from 0 to 300, got "soon"'],
    [['-c', 'sdp:dashboard=false', '--template', templateFile], 'sdp: a template file and context values (sdp:dashboard): the template was synthesized with its own, give one or the other'],
    [['--table-capacity', 'provisioned', '--template', templateFile], 'sdp: --table-capacity prices the stack synthesized with that option; a --template already says how its tables are billed: give one or the other'],
    [['--table-capacity', 'fixed'], "sdp: error: option '--table-capacity <mode>' argument 'fixed' is invalid. Allowed choices are on-demand, provisioned. (see sdp cost --help)"],
    [['--region', 'eu-west-1'], "sdp: error: option '--region <region>' argument 'eu-west-1' is invalid. no prices for region eu-west-1: the price table (schemas/prices.ts) prices us-east-1 (see sdp cost --help)"],
    [['--template', measurementsFile], `sdp: ${measurementsFile} has no Resources: not a CloudFormation template`],
    [['--template', templateFile, '--event-mix', 'bid=1,view=2'], 'sdp: --event-mix: unknown event type "view" (bid, impression, click)'],
    [['--events-per-request', '0'], "sdp: error: option '--events-per-request <k>' argument '0' is invalid. events per request must be a positive integer (see sdp cost --help)"],
  ])('sdp cost %j: one line, exit 1', async (args, line) => {
    const { code, stdout, lines } = await sdp(args);
    expect({ code, stdout, lines }).toEqual({ code: 1, stdout: '', lines: [line] });
  });
});
