/**
 * `npm run bench -- cost`: the stack's monthly bill as `sdp cost` computes it (its template, the
 * price table, perf/cost-measurements.json) at 0, 10, 100 and 1,000 events/s, single events and
 * arrays of 100, beside the peer's published figure, with the goals of issue 18:
 *   idle ≤ $15 a month; 100 events/s in arrays of 100 ≤ $50 a month; ≤ $0.50 per million events at
 *   1,000 events/s (arrays of 100); single events at 100 events/s reported, with advice.
 * With --measure it first measures the per-event figures on the local platform (cost-measure.ts)
 * and rewrites the measurements file (about a minute); without, it only reads it (a few seconds).
 */
import { join } from 'node:path';
import { runCost } from '../local/cost/run';
import { MAX_EVENTS_PER_REQUEST } from '../lambdas/ingest/parse';
import type { CostReport } from '../local/cost/bill';
import { measureCosts } from './cost-measure';
import { progress, type BenchResult, type Figure } from './support/report';

export const costDefaults = {
  measure: false,
  auctions: 8_000,
  pacedAuctions: 1_500,
  pacedRate: 80,
  trickleEvents: 8,
  arrayRequests: 8,
};

/** AWS Game Analytics Pipeline v3, its README's cost table: 100 events/s into its Iceberg lake. */
const PEER = { name: 'AWS Game Analytics Pipeline v3', usdPerMonth: 65.88, eventsPerSecond: 100 };
const GOALS = { idleUsd: 15, arraysAt100Usd: 50, perMillionAt1000Usd: 0.5 };
const RATES = [0, 10, 100, 1000];
const SIZES = [1, 100];

const money = (n: number) => `$${n < 10 ? n.toFixed(2) : n.toFixed(0)}`;

export async function runCostBench(options: typeof costDefaults): Promise<BenchResult> {
  if (options.measure) await measureCosts({ auctions: options.auctions, pacedAuctions: options.pacedAuctions, pacedRate: options.pacedRate, trickleEvents: options.trickleEvents, arrayRequests: options.arrayRequests });
  const root = join(__dirname, '..');
  progress('cost: computing the bill from the template');
  const reports = new Map<string, CostReport>();
  for (const k of SIZES) for (const eps of RATES) reports.set(`${eps}/${k}`, runCost(root, { region: 'us-east-1', eventsPerSecond: eps, eventsPerRequest: k }));
  const at = (eps: number, k: number) => reports.get(`${eps}/${k}`)!;
  const idle = at(0, 100);
  const arrays100 = at(100, 100);
  const single100 = at(100, 1);
  const arrays1000 = at(1000, 100);
  const single1000 = at(1000, 1);
  const top = (r: CostReport) => Object.entries(r.byService).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([s, v]) => `${s} ${money(v)}`).join(', ');

  const figures: Figure[] = [
    { key: 'idle_usd_month', label: 'idle', value: idle.idleTotal, unit: '$/month', goal: { op: '<=', target: GOALS.idleUsd }, note: top(idle) },
    { key: 'arrays_100eps_usd_month', label: '100 events/s, arrays of 100', value: arrays100.total, unit: '$/month', goal: { op: '<=', target: GOALS.arraysAt100Usd }, note: `peer ${PEER.name}: $${PEER.usdPerMonth}; ${top(arrays100)}` },
    { key: 'per_million_1000eps_arrays', label: '1,000 events/s, arrays of 100: per million events', value: arrays1000.perMillionEvents ?? 0, unit: '$', goal: { op: '<=', target: GOALS.perMillionAt1000Usd }, note: `${money(arrays1000.total)} a month; ${top(arrays1000)}` },
    { key: 'single_100eps_usd_month', label: '100 events/s, single events', value: single100.total, unit: '$/month', note: `${top(single100)}` },
    { key: 'per_million_1000eps_single', label: '1,000 events/s, single events: per million events', value: single1000.perMillionEvents ?? 0, unit: '$', note: `${money(single1000.total)} a month` },
  ];
  const header = ['events/s', ...SIZES.map((k) => (k === 1 ? 'single events' : `arrays of ${k}`)), ...SIZES.map((k) => `$/M events (${k === 1 ? 'single' : `arrays of ${k}`})`)];
  const rows = RATES.map((eps) => [eps.toLocaleString('en-US'), ...SIZES.map((k) => money(at(eps, k).total)), ...SIZES.map((k) => (eps ? `$${at(eps, k).perMillionEvents!.toFixed(3)}` : '-'))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  const apiShare = (single100.byService['API Gateway'] ?? 0) / single100.total;
  const fullest100 = runCost(root, { region: 'us-east-1', eventsPerSecond: 100, eventsPerRequest: MAX_EVENTS_PER_REQUEST });
  const notes = [
    'monthly bill (us-east-1 list prices, 730-hour month, no free tier):',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `peer: ${PEER.name} publishes $${PEER.usdPerMonth} a month at ${PEER.eventsPerSecond} events/s (its README's cost table; no exactly-once counting or real-time reports, for which it adds Managed Flink at about $770 a month)`,
    `single events at 100 events/s: ${money(single100.total)} a month, API Gateway ${(apiShare * 100).toFixed(0)} % of it (${money(single100.byService['API Gateway'] ?? 0)}: it bills every request, and the ingestion function is invoked once per request). A producer should post arrays to the route of each type, up to ${MAX_EVENTS_PER_REQUEST} events each (${money(fullest100.total)} a month at 100 events/s in arrays of ${MAX_EVENTS_PER_REQUEST}), buffering each type for ~100 ms as sdp generate does; compressing bodies (content-encoding: gzip) saves bytes, not requests. See README "What it costs"`,
    `template: ${idle.template}; measurements: ${idle.measurements.file} (${idle.measurements.measuredAt.slice(0, 10)}, commit ${idle.measurements.commit.slice(0, 7)})`,
    ...arrays100.warnings.map((w) => `warning at 100 events/s: ${w}`),
    ...arrays1000.warnings.map((w) => `warning at 1,000 events/s: ${w}`),
  ];
  return { bench: 'cost', figures, notes, details: { scenarios: Object.fromEntries([...reports].map(([k, r]) => [k, { total: r.total, idle: r.idleTotal, perMillionEvents: r.perMillionEvents, byService: r.byService }])) } };
}
