/**
 * "A core that knows no domain" (issue 19, item 3): outside the pipeline files (pipelines/), their
 * tests and the ad-tech model, no code names a campaign, an auction, a bid, an impression or a
 * click. Scans the core's files (lambdas, lib, local, schemas, bin, console) and fails on any file
 * that names one and is not in REMAINING below. REMAINING is exact: a file that no longer names the
 * domain must be removed from it, so the list can only shrink.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CORE_DIRS = ['lambdas', 'lib', 'local', 'schemas', 'bin', 'console'];
const EXTENSIONS = /\.(ts|js|css|html)$/;
const DOMAIN_WORDS = /campaign|auction|\bbids?\b|impression|click/i;

/** The ad-tech model (the bid-win model, its training, serving and registry): ad-tech's by design. */
const MODEL = [
  'lambdas/ml/',
  'lambdas/retraining/',
  'lambdas/predict/',
  'lambdas/models/',
  'schemas/predictions.ts',
  'schemas/serving.ts',
  'local/trainer.ts',
  'local/training-job.ts',
  'local/model-server.ts',
  'lib/retraining.ts',
  'lib/predictions-api.ts',
];

/** Core files that still name the domain, and why. Remove a file once it no longer does. */
const REMAINING: Record<string, string> = {
  // The CLI: `sdp generate`'s ad-tech options and summary (--auctions, --campaigns, the win
  // function), `sdp train`'s model output, `sdp cost`'s --event-mix, the start banner's example
  // curl. The fix: a generator and an example declared by the pipeline.
  'bin/sdp.ts': 'generate/train/cost options and outputs of the shipped pipeline',
  // The console's live view: a campaigns panel and chart with ad-tech's counters, showing the
  // campaigns aggregation's groups of /live, which carries every aggregation's (the aggregations
  // panel, console/aggregations.js, is already generic). The fix: the live view keyed by
  // aggregation and group, its columns from the declaration.
  'console/console.js': 'live campaigns panel',
  'console/console.css': 'live campaigns panel styles',
  'console/index.html': 'live campaigns panel markup',
  'console/chart.js': "chart series are ad-tech's counters",
  // Test/bench rig reading ad-tech's rows (aggregator-faults e2e, exactness bench).
  'local/aggregator-rig.ts': "rows per campaign for the adtech workload's truth",
  // Cost model (the bench helper's slice): the ad-tech event mix and the retraining run's states.
  'local/cost/bill.ts': 'event mix bid/impression/click; retraining states',
  'local/cost/report.ts': 'event mix bid/impression/click',
  'local/cost/measurements.ts': 'measured event mix and auctions',
  'local/cost/workflow-path.ts': "retraining state machine's state names",
  'local/cost/inventory.ts': "retraining state machine's state names",
  // Resource settings: the model endpoint's name (a deployed resource name), the retraining gate's
  // settings, and comments on the aggregator's tables (the cost slice renames those tables).
  'schemas/resources.ts': 'model endpoint and retraining settings',
};

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (EXTENSIONS.test(name)) out.push(relative(ROOT, path).split('\\').join('/'));
  }
  return out;
}

const coreFiles = CORE_DIRS.flatMap((d) => filesUnder(join(ROOT, d))).filter((f) => !MODEL.some((m) => (m.endsWith('/') ? f.startsWith(m) : f === m)));
const naming = coreFiles.filter((f) => DOMAIN_WORDS.test(readFileSync(join(ROOT, f), 'utf8'))).sort();

describe('a core that knows no domain', () => {
  it('finds the core files to scan', () => {
    expect(coreFiles.length).toBeGreaterThan(50);
    expect(coreFiles).toContain('lambdas/aggregator/handler.ts');
  });

  it('names no campaign, auction, bid, impression or click outside the listed files', () => {
    const unlisted = naming.filter((f) => !(f in REMAINING)).map((f) => {
      const line = readFileSync(join(ROOT, f), 'utf8').split('\n').findIndex((l) => DOMAIN_WORDS.test(l));
      return `${f}:${line + 1}`;
    });
    expect(unlisted).toEqual([]);
  });

  it('lists exactly the files that still do (remove a file from REMAINING once it no longer names the domain)', () => {
    expect(Object.keys(REMAINING).sort()).toEqual(naming);
  });
});
