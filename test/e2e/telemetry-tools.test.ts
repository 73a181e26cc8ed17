/**
 * The tools on the telemetry pipeline, on a real local platform running it: `sdp generate
 * --pipeline telemetry` sends traffic generated from the schema and prints its ground truth,
 * which the reports show window by window (sum, min, max exact); `sdp audit` reconciles every
 * hour and stream (readings) and every measure of the devices aggregation with the lake's events.
 * The ad-tech model is adtech's declaration: a telemetry platform serves no /predictions nor
 * /models/current, lists no model in GET /, has no UrlForPredictions and no training job.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import telemetry from '../../pipelines/telemetry';
import type { TruthRow } from '../../local/ground-truth';
import { expectReportsToEqualTruth } from '../support/truth-reports';
import { startPlatform, type RunningPlatform } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
const env = { SDP_PIPELINES: JSON.stringify(['telemetry']) };

interface Audit {
  mismatches: number;
  aggregationMismatches: number;
  streams: { stream: string; expectedLake: number; lakeParquet: number; ok: boolean }[];
  aggregations: { aggregation: string; measure: string; ok: boolean }[];
}

describe('the tools on the telemetry pipeline', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform({ env });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('has no model: /predictions and /models/current answer 404, GET / and the outputs name none', async () => {
    const api = platform.outputs.UrlForAPI;
    expect((await fetch(`${api}predictions`)).status).toBe(404);
    expect((await fetch(`${api}predictions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    expect((await fetch(`${api}models/current`)).status).toBe(404);
    const index = (await (await fetch(api)).json()) as { description: string; routes: { path: string }[] };
    expect(index.routes.map((r) => r.path).filter((p) => p.startsWith('/predictions') || p.startsWith('/models'))).toEqual([]);
    expect(index.description).not.toMatch(/model/);
    expect(platform.outputs.UrlForPredictions).toBeUndefined();
    const health = (await (await fetch(`${api}health`)).json()) as { components: Record<string, unknown> };
    expect(Object.keys(health.components)).toContain('job:compaction');
    expect(Object.keys(health.components)).not.toContain('job:training');
  });

  it('generates traffic whose ground truth the reports show, and audits clean per stream and measure', async () => {
    const { stdout } = await run(process.execPath, [SDP, 'generate', '--pipeline', 'telemetry', '--events', '2000', '--groups', '3', '--seed', '3', '--json', '--data-dir', platform.dataDir], { env: { ...process.env, ...env } });
    const summary = JSON.parse(stdout) as { pipeline: string; distinct: Record<string, number>; aggregations: Record<string, TruthRow[]> };
    expect(summary.pipeline).toBe('telemetry');
    expect(summary.distinct).toEqual({ reading: 2000 });
    await expectReportsToEqualTruth(platform.outputs.UrlForAPI, telemetry, summary.aggregations);

    const audit = async () =>
      run(process.execPath, [SDP, 'audit', '--json', '--wait', '120', '--data-dir', platform.dataDir], { env: { ...process.env, ...env } }).then(
        (r) => ({ code: 0, audit: JSON.parse(r.stdout) as Audit }),
        (err) => ({ code: err.code as number, audit: JSON.parse(err.stdout) as Audit }),
      );
    // The lake writer batches for a second: audit again until the lake has caught up.
    let result = await audit();
    for (let i = 0; i < 20 && result.code !== 0; i++) result = await audit();
    expect(result.code).toBe(0);
    expect(result.audit.streams).toEqual([expect.objectContaining({ stream: 'reading', expectedLake: 2000, lakeParquet: 2000, ok: true })]);
    expect(result.audit.aggregations.map((r) => `${r.aggregation}.${r.measure}:${r.ok}`)).toEqual(['devices.readings:true', 'devices.total:true', 'devices.minimum:true', 'devices.maximum:true', 'devices.late_events:true']);
  });
});
