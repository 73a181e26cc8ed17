/**
 * The ML loop end to end on the local platform: no model → 503, and training says why it failed
 * (sdp train, GET /health, sdp status); live traffic (event times of the
 * last minutes) is trained on right after it is sent, with no hour closed and no compaction: the
 * auctions whose bid is 5 minutes old are known and read, the younger ones are not
 * (lambdas/ml/outcome.ts), and POST /predictions answers; older traffic with a known win function
 * reaches the lake, compaction builds the auctions, `sdp train` trains and deploys a model that
 * passes the quality gate, POST /predictions answers with it, a model that fails the gate is
 * recorded but not deployed, and bad prediction requests are 400s naming the field.
 * GET /models/current reports the served model's figures over the last 5 minutes: requests that
 * reached the model, errors, model latency and POST /predictions' calls (refused ones included).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateWorkload, type Workload } from '../../pipelines/adtech/workload';
import { OUTCOME_WINDOW_MS } from '../../lambdas/ml/outcome';
import { sendEvents } from '../../local/send';
import { LakeSql, localLakeRoot } from '../../local/lake-sql';
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';
import { servingFiguresSchema, type ServingFigures } from '../../schemas/serving';
import { deploySmallModel } from '../support/model';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The workload's events with every tx_id prefixed: the same world (seed), other auctions. */
const withPrefix = (w: Workload, prefix: string) => w.events.map((e) => ({ ...e, body: { ...e.body, tx_id: `${prefix}${e.body.tx_id as string}` } }));
/** Distinct bids of events (resends counted once) with an event time at or before `t`. */
const bidsUpTo = (events: { type: string; body: Record<string, unknown> }[], t: number) =>
  new Set(events.filter((e) => e.type === 'bid' && (e.body.timestamp as number) <= t).map((e) => e.body.tx_id)).size;

async function predict(platform: RunningPlatform, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(platform.outputs.UrlForPredictions!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('the bid-win model on the local platform', () => {
  let platform: RunningPlatform;
  const workload = generateWorkload({ auctions: 6000, winModel: true, seed: 12, now: Date.now() - 3 * HOUR, timeSpreadMs: HOUR, resendRate: 0.02 });
  const request = { campaignItemId: '3', domain: 'site1.example', creativeId: 'cr1', creativeCategory: 'cat1', winPrice: 120 };
  // Live traffic, as `sdp generate` sends it: bids of the last 10 minutes, half of them 5 minutes
  // old (outcome known), then bids of the last minute (outcome not known yet).
  const started = Date.now();
  const live = [
    ...withPrefix(generateWorkload({ auctions: 3000, winModel: true, seed: 12, now: started, timeSpreadMs: 10 * MINUTE, resendRate: 0.02 }), 'live-'),
    ...withPrefix(generateWorkload({ auctions: 300, winModel: true, seed: 12, now: started, timeSpreadMs: MINUTE }), 'recent-'),
  ];
  /** Known auctions the live training read (the later trainings read them too). */
  let liveKnown = 0;

  beforeAll(async () => {
    platform = await startPlatform({ env: { ALLOWED_LATENESS_SECONDS: '1' }, args: ['--compaction-interval', '0', '--retrain-interval', '0'] });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('answers 503 while no model is deployed', async () => {
    const { status, body } = await predict(platform, request);
    expect(status).toBe(503);
    expect(body.error).toMatch(/no model is deployed/);
    expect((await fetch(`${platform.outputs.UrlForAPI}models/current`)).status).toBe(404);
  });

  it('says why training failed: sdp train, GET /health and sdp status give the error', async () => {
    const failed = await run(process.execPath, [SDP, 'train', '--data-dir', platform.dataDir]).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringMatching(/^sdp: training failed: not enough auctions to train on: 0 with a known outcome in the lake .*5 minutes old/m) });
    const health = (await (await fetch(`${platform.outputs.UrlForAPI}health`)).json()) as { components: Record<string, unknown> };
    expect(health.components['job:training']).toMatchObject({
      status: 'last run failed',
      reason: expect.stringMatching(/^last run failed at \S+: not enough auctions to train on: 0 with a known outcome/),
      lastFailure: { error: expect.stringMatching(/^not enough auctions to train on/) },
    });
    const { stdout } = await run(process.execPath, [SDP, 'status', '--data-dir', platform.dataDir]);
    expect(stdout).toMatch(/^job:training +last run failed +last run failed at \S+: not enough auctions to train on: 0 with a known outcome/m);
  });

  it('refuses bad prediction requests with 400 naming the field', async () => {
    const bad = await predict(platform, [request, { ...request, winPrice: 'cheap' }, { domain: 'x', winPrice: 1 }]);
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([
      expect.objectContaining({ index: 1, field: 'winPrice' }),
      expect.objectContaining({ index: 2, field: 'campaignItemId' }),
    ]);
    expect((await predict(platform, [])).status).toBe(400);
    const res = await fetch(platform.outputs.UrlForPredictions!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"campaignItemId":' });
    expect(res.status).toBe(400);
  });

  it('trains on live traffic right after it is sent: auctions whose bid is 5 minutes old, no hour closed, no compaction', async () => {
    await sendEvents(platform.outputs.UrlForAPI, live, { batchSize: 100, concurrency: 8 });
    // sdp train itself waits for the lake writer to catch up with what was sent.
    const { stdout } = await run(process.execPath, [SDP, 'train', '--json', '--data-dir', platform.dataDir]);
    const report = JSON.parse(stdout);
    const cutoff = Date.parse(report.knownBefore) - OUTCOME_WINDOW_MS;
    expect(Date.parse(report.knownBefore)).toBeGreaterThanOrEqual(started);
    liveKnown = bidsUpTo(live, cutoff);
    // Every bid at least 5 minutes old, none younger (the last minute's are all younger).
    expect(report.auctions).toBe(liveKnown);
    expect(liveKnown).toBeGreaterThan(1000);
    expect(liveKnown).toBeLessThan(3000);
    expect(report).toMatchObject({ decision: { deploy: true } });
    const { stdout: jobs } = await run(process.execPath, [SDP, 'jobs', '--json', '--data-dir', platform.dataDir]);
    expect(JSON.parse(jobs).map((r: { job: string }) => r.job)).not.toContain('compaction');
    const served = await pollUntil('the live model to be served', () => predict(platform, request), (r) => r.status === 200, 10_000);
    expect(served.body.predictions[0].score).toBeGreaterThan(0);
  });

  it('trains on the lake, deploys a model that passes the gate, and serves it', async () => {
    await sendEvents(platform.outputs.UrlForAPI, workload.events, { batchSize: 100, concurrency: 8 });
    await pollUntil(
      'every bid in the lake',
      async () => {
        const lake = await LakeSql.open(localLakeRoot(platform.dataDir));
        try {
          return (await lake.query('SELECT count(*) AS n FROM parquet_bids')).rows[0].n as number;
        } finally {
          lake.close();
        }
      },
      (n) => n === workload.totals.bids + bidsUpTo(live, Infinity),
      90_000,
    );
    await run(process.execPath, [SDP, 'compact', '--data-dir', platform.dataDir]);
    const { stdout } = await run(process.execPath, [SDP, 'train', '--json', '--data-dir', platform.dataDir]);
    const report = JSON.parse(stdout);
    // The hours-old auctions, and the live ones known by now.
    expect(report).toMatchObject({ auctions: workload.totals.bids + bidsUpTo(live, Date.parse(report.knownBefore) - OUTCOME_WINDOW_MS), decision: { deploy: true } });
    expect(report.auctions).toBeGreaterThanOrEqual(workload.totals.bids + liveKnown);
    expect(report.metrics.auc).toBeGreaterThan(0.7);

    const current = await (await fetch(`${platform.outputs.UrlForAPI}models/current`)).json();
    expect(current).toMatchObject({ version: report.version, metrics: { auc: report.metrics.auc } });

    // Served by the model just deployed (the model server re-reads the registry within a second).
    const served = await pollUntil('the model to be served', () => predict(platform, [request, { ...request, winPrice: 20 }, { ...request, winPrice: 190 }]), (r) => r.status === 200, 10_000);
    const scores = served.body.predictions.map((p: { score: number }) => p.score);
    for (const p of served.body.predictions) {
      expect(p.score).toBeGreaterThan(0);
      expect(p.score).toBeLessThan(1);
      expect(p.predicted_label).toBe(p.score >= 0.5 ? 1 : 0);
    }
    // A higher bid wins more often, in the generated world and in the model.
    expect(scores[2]).toBeGreaterThan(scores[1]);
  });

  it('records a model that fails the quality gate without deploying it', async () => {
    const before = (await (await fetch(`${platform.outputs.UrlForAPI}models/current`)).json()) as { version: string };
    const { stdout } = await run(process.execPath, [SDP, 'train', '--json', '--floor', '0.9999', '--data-dir', platform.dataDir]);
    const report = JSON.parse(stdout);
    expect(report.decision).toMatchObject({ deploy: false, floor: 0.9999 });
    expect(report.decision.reason).toMatch(/below the floor/);
    const after = (await (await fetch(`${platform.outputs.UrlForAPI}models/current`)).json()) as { version: string };
    expect(after.version).toBe(before.version);
    const { stdout: jobs } = await run(process.execPath, [SDP, 'jobs', '--json', '--data-dir', platform.dataDir]);
    expect(JSON.parse(jobs).filter((r: { job: string; outcome: string }) => r.job === 'training' && r.outcome === 'succeeded').map((r: { figures: { deployed: boolean } }) => r.figures.deployed)).toEqual([true, true, false]);
  });

  it('reports the served model\'s requests, errors and latency over the last 5 minutes at GET /models/current', async () => {
    const serving = async (): Promise<ServingFigures> => {
      const res = await fetch(`${platform.outputs.UrlForAPI}models/current`);
      expect(res.status).toBe(200);
      return servingFiguresSchema.parse(((await res.json()) as { serving: unknown }).serving);
    };
    // A model of its own, so these figures do not hang on the training above.
    await deploySmallModel(platform.outputs.S3Endpoint);
    await pollUntil('the model to be served', () => predict(platform, request), (r) => r.status === 200, 10_000);
    const before = await serving();
    expect(before).toMatchObject({ source: 'local', window: { seconds: 300 } });
    expect(before.requests).toBeGreaterThan(0);
    const N = 40;
    for (let i = 0; i < N; i++) expect((await predict(platform, { ...request, winPrice: 10 + i })).status).toBe(200);
    // Refused before the model: POST /predictions' calls, not the model's requests.
    expect((await predict(platform, { ...request, winPrice: 'cheap' })).status).toBe(400);
    const after = await serving();
    expect(after.requests - before.requests).toBe(N);
    expect(after.predict.calls - before.predict.calls).toBe(N + 1);
    expect(after.errors).toEqual(before.errors);
    expect(after.requestsPerSecond).toBeCloseTo(after.requests / 300, 3);
    expect(after.modelLatencyMs.p50).toBeGreaterThan(0);
    expect(after.modelLatencyMs.p99).toBeGreaterThanOrEqual(after.modelLatencyMs.p50!);
    expect(after.predict.latencyMs.p50).toBeGreaterThan(0);
    expect(after.predict.latencyMs.p99).toBeGreaterThanOrEqual(after.predict.latencyMs.p50!);
    expect(Date.parse(after.window.to) - Date.parse(after.window.from)).toBe(300_000);
  });
});
