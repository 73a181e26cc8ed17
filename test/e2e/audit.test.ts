/**
 * sdp audit end to end: after a workload with resends, reordering and impressions without bids,
 * every hour and every stream reconciles (stream, aggregates, lake), and every measure of the
 * aggregation equals its recomputation from the lake's events; a count changed behind the
 * platform's back is reported as a mismatch of its hour and of its measure, and makes the audit exit 1.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { generateWorkload } from '../../pipelines/adtech/workload';
import { sendEvents } from '../../local/send';
import { tables } from '../../schemas/resources';
import { startPlatform, type RunningPlatform } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
const HOUR = 3_600_000;

interface Audit {
  inFlight: number;
  mismatches: number;
  rows: { hour: string; streamRecords: number; expectedAggregated: number; aggregated: number; expectedLake: number; lakeParquet: number; ok: boolean }[];
  streams: { stream: string; lakeTable: string; streamRecords: number; expectedLake: number; lakeParquet: number; lakeRaw: number; ok: boolean }[];
  aggregations: { aggregation: string; measure: string; expected: number | null; aggregated: number | null; rowsDiffering: number; ok: boolean }[];
  aggregationMismatches: number;
}

describe('sdp audit', () => {
  let platform: RunningPlatform;
  const workload = generateWorkload({ auctions: 500, campaigns: 3, firstCampaign: 6100, resendRate: 0.2, reorderRate: 0.3, seed: 8, now: Date.now() - HOUR, timeSpreadMs: 3 * HOUR });
  beforeAll(async () => {
    platform = await startPlatform({ env: { ALLOWED_LATENESS_SECONDS: String(8 * 24 * 3600) } });
    await sendEvents(platform.outputs.UrlForAPI, workload.events, { batchSize: 25, concurrency: 8 });
    // An impression whose bid never comes: in the lake, not in the aggregates.
    await sendEvents(platform.outputs.UrlForAPI, [{ type: 'impression', body: { tx_id: 'orphan', win_price: 5 } }]);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const audit = async (): Promise<{ code: number; audit: Audit; stderr: string }> => {
    const result = await run(process.execPath, [SDP, 'audit', '--json', '--wait', '120', '--data-dir', platform.dataDir]).then(
      (r) => ({ code: 0, ...r }),
      (err) => ({ code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string }),
    );
    return { code: result.code, audit: JSON.parse(result.stdout), stderr: result.stderr };
  };

  it('reconciles every hour after a workload with resends', async () => {
    // The lake writer batches for a few seconds: retry the audit until the lake has caught up.
    let result = await audit();
    for (let i = 0; i < 20 && result.code !== 0; i++) result = await audit();
    expect(result.code).toBe(0);
    const sum = (k: 'streamRecords' | 'aggregated' | 'lakeParquet') => result.audit.rows.reduce((n, r) => n + r[k], 0);
    const distinct = workload.totals.bids + workload.totals.impressions + workload.totals.clicks;
    expect(sum('streamRecords')).toBe(workload.events.length + 1);
    expect(sum('aggregated')).toBe(distinct);
    expect(sum('lakeParquet')).toBe(distinct + 1);
    expect(result.audit.rows.length).toBeGreaterThan(2);
    // Per stream, each distinct event once in both lake formats; the orphan impression among them.
    expect(result.audit.streams).toEqual([
      { stream: 'bid', lakeTable: 'bids', streamRecords: expect.any(Number), expectedLake: workload.totals.bids, lakeParquet: workload.totals.bids, lakeRaw: workload.totals.bids, ok: true },
      { stream: 'impression', lakeTable: 'impressions', streamRecords: expect.any(Number), expectedLake: workload.totals.impressions + 1, lakeParquet: workload.totals.impressions + 1, lakeRaw: workload.totals.impressions + 1, ok: true },
      { stream: 'click', lakeTable: 'clicks', streamRecords: expect.any(Number), expectedLake: workload.totals.clicks, lakeParquet: workload.totals.clicks, lakeRaw: workload.totals.clicks, ok: true },
    ]);
    // Per measure, the aggregates equal the lake's events recomputed (nothing late: the lateness is 8 days).
    expect(result.audit.aggregations).toEqual([
      { aggregation: 'campaigns', measure: 'bids', expected: workload.totals.bids, aggregated: workload.totals.bids, rowsDiffering: 0, ok: true },
      { aggregation: 'campaigns', measure: 'impressions', expected: workload.totals.impressions, aggregated: workload.totals.impressions, rowsDiffering: 0, ok: true },
      { aggregation: 'campaigns', measure: 'clicks', expected: workload.totals.clicks, aggregated: workload.totals.clicks, rowsDiffering: 0, ok: true },
      { aggregation: 'campaigns', measure: 'late_events', expected: 0, aggregated: 0, rowsDiffering: 0, ok: true },
    ]);
  });

  it('reports an hour whose counts were changed behind the platform and exits 1', async () => {
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: platform.outputs.DynamoDBEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    const [row] = (await db.send(new ScanCommand({ TableName: tables.aggregates.name, Limit: 1 }))).Items!;
    await db.send(new UpdateCommand({ TableName: tables.aggregates.name, Key: { group: row.group, period: row.period }, UpdateExpression: 'ADD bids :one', ExpressionAttributeValues: { ':one': 1 } }));
    const { code, audit: report, stderr } = await audit();
    expect(code).toBe(1);
    expect(report.mismatches).toBe(1);
    const bad = report.rows.find((r) => !r.ok)!;
    expect(bad.aggregated).toBe(bad.expectedAggregated + 1);
    expect(stderr).toMatch(/1 hour\(s\) do not reconcile/);
    expect(report.aggregationMismatches).toBe(1);
    expect(report.aggregations.find((r) => !r.ok)).toEqual({ aggregation: 'campaigns', measure: 'bids', expected: workload.totals.bids, aggregated: workload.totals.bids + 1, rowsDiffering: 1, ok: false });
    expect(stderr).toMatch(/1 aggregation measure\(s\) differ from the lake's events \(campaigns\.bids\)/);
  });
});
