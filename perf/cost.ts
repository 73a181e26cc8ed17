/**
 * `npm run bench -- cost`: the stack's monthly bill as `sdp cost` computes it (its template, the
 * price table, perf/cost-measurements.json) at 0, 10, 100 and 1,000 events/s, single events and
 * arrays of 100, beside the peer's published figure, with the goals of issue 18:
 *   idle ≤ $15 a month; 100 events/s in arrays of 100 ≤ $50 a month; ≤ $0.50 per million events at
 *   1,000 events/s (arrays of 100); single events at 100 events/s reported, with advice.
 * Beside them, the same goals on the stack deployed with -c sdp:tableCapacity=provisioned (tables
 * on auto-scaled provisioned capacity, steady traffic): idle, 100 events/s and 1,000 events/s.
 * Each stack is synthesized here with its option (cdk.out/ may hold either).
 * With --measure it first measures the per-event figures on the local platform (cost-measure.ts)
 * and rewrites the measurements file (about a minute); without, it only reads it (a few seconds).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCost, type CostOptions } from '../local/cost/run';
import { synthesizeTemplate } from '../local/cost/template';
import { pipelinesContext, tableCapacity, type TableCapacityMode } from '../schemas/resources';
import { MAX_EVENTS_PER_REQUEST } from '../lambdas/ingest/parse';
import type { CostReport } from '../local/cost/bill';
import { measureCosts } from './cost-measure';
import { progress, type BenchResult, type Figure } from './support/report';

export const costDefaults = {
  measure: false,
  pipeline: 'adtech',
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
  if (options.measure) await measureCosts({ pipeline: options.pipeline, auctions: options.auctions, pacedAuctions: options.pacedAuctions, pacedRate: options.pacedRate, trickleEvents: options.trickleEvents, arrayRequests: options.arrayRequests });
  const root = join(__dirname, '..');
  progress('cost: synthesizing the stack with its tables on demand (the default) and provisioned');
  const dir = mkdtempSync(join(tmpdir(), 'sdp-cost-bench-'));
  const templates = {} as Record<TableCapacityMode, string>;
  for (const mode of tableCapacity.modes) {
    templates[mode] = join(dir, `${mode}.template.json`);
    writeFileSync(templates[mode], JSON.stringify(synthesizeTemplate(root, { [tableCapacity.context]: mode, ...(options.pipeline !== 'adtech' && { [pipelinesContext]: options.pipeline }) })));
  }
  const cost = (mode: TableCapacityMode, traffic: Pick<CostOptions, 'eventsPerSecond' | 'eventsPerRequest'>) => runCost(root, { region: 'us-east-1', template: templates[mode], pipelines: [options.pipeline], ...traffic });
  progress('cost: computing the bill from the templates');
  const reports = new Map<string, CostReport>();
  for (const k of SIZES) for (const eps of RATES) reports.set(`${eps}/${k}`, cost('on-demand', { eventsPerSecond: eps, eventsPerRequest: k }));
  const provisioned = { idle: cost('provisioned', { eventsPerSecond: 0, eventsPerRequest: 100 }), arrays100: cost('provisioned', { eventsPerSecond: 100, eventsPerRequest: 100 }), arrays1000: cost('provisioned', { eventsPerSecond: 1000, eventsPerRequest: 100 }) };
  const at = (eps: number, k: number) => reports.get(`${eps}/${k}`)!;
  const idle = at(0, 100);
  const arrays100 = at(100, 100);
  const single100 = at(100, 1);
  const arrays1000 = at(1000, 100);
  const single1000 = at(1000, 1);
  const dynamo = (r: CostReport, idle = false) => `DynamoDB ${money(idle ? r.components.filter((c) => c.service === 'DynamoDB').reduce((n, c) => n + c.idleUsd, 0) : r.byService.DynamoDB ?? 0)}`;
  const top = (r: CostReport) => Object.entries(r.byService).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([s, v]) => `${s} ${money(v)}`).join(', ');

  const figures: Figure[] = [
    { key: 'idle_usd_month', label: 'idle', value: idle.idleTotal, unit: '$/month', goal: { op: '<=', target: GOALS.idleUsd }, note: top(idle) },
    { key: 'arrays_100eps_usd_month', label: '100 events/s, arrays of 100', value: arrays100.total, unit: '$/month', goal: { op: '<=', target: GOALS.arraysAt100Usd }, note: `peer ${PEER.name}: $${PEER.usdPerMonth}; ${top(arrays100)}` },
    { key: 'per_million_1000eps_arrays', label: '1,000 events/s, arrays of 100: per million events', value: arrays1000.perMillionEvents ?? 0, unit: '$', goal: { op: '<=', target: GOALS.perMillionAt1000Usd }, note: `${money(arrays1000.total)} a month; ${top(arrays1000)}` },
    { key: 'single_100eps_usd_month', label: '100 events/s, single events', value: single100.total, unit: '$/month', note: `${top(single100)}` },
    { key: 'per_million_1000eps_single', label: '1,000 events/s, single events: per million events', value: single1000.perMillionEvents ?? 0, unit: '$', note: `${money(single1000.total)} a month` },
    { key: 'provisioned_idle_usd_month', label: 'tables provisioned: idle', value: provisioned.idle.idleTotal, unit: '$/month', goal: { op: '<=', target: GOALS.idleUsd }, note: `${dynamo(provisioned.idle, true)} (the minimum capacity), auto scaling alarms ${money(provisioned.idle.components.filter((c) => c.item.includes('alarms auto scaling keeps')).reduce((n, c) => n + c.idleUsd, 0))}; -c ${tableCapacity.context}=provisioned` },
    { key: 'provisioned_arrays_100eps_usd_month', label: 'tables provisioned: 100 events/s, arrays of 100', value: provisioned.arrays100.total, unit: '$/month', goal: { op: '<=', target: GOALS.arraysAt100Usd }, note: `${dynamo(provisioned.arrays100)} (on demand ${money(arrays100.byService.DynamoDB ?? 0)}), then ${Object.entries(provisioned.arrays100.byService).filter(([svc]) => svc !== 'DynamoDB').sort((a, b) => b[1] - a[1]).slice(0, 2).map(([svc, v]) => `${svc} ${money(v)}`).join(', ')}` },
    { key: 'provisioned_per_million_1000eps_arrays', label: 'tables provisioned: 1,000 events/s, arrays of 100: per million events', value: provisioned.arrays1000.perMillionEvents ?? 0, unit: '$', goal: { op: '<=', target: GOALS.perMillionAt1000Usd }, note: `${money(provisioned.arrays1000.total)} a month; ${dynamo(provisioned.arrays1000)} (on demand ${money(arrays1000.byService.DynamoDB ?? 0)})` },
  ];
  const header = ['events/s', ...SIZES.map((k) => (k === 1 ? 'single events' : `arrays of ${k}`)), ...SIZES.map((k) => `$/M events (${k === 1 ? 'single' : `arrays of ${k}`})`)];
  const rows = RATES.map((eps) => [eps.toLocaleString('en-US'), ...SIZES.map((k) => money(at(eps, k).total)), ...SIZES.map((k) => (eps ? `$${at(eps, k).perMillionEvents!.toFixed(3)}` : '-'))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  const apiShare = (single100.byService['API Gateway'] ?? 0) / single100.total;
  const fullest100 = cost('on-demand', { eventsPerSecond: 100, eventsPerRequest: MAX_EVENTS_PER_REQUEST });
  const notes = [
    'monthly bill (us-east-1 list prices, 730-hour month, no free tier):',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `peer: ${PEER.name} publishes $${PEER.usdPerMonth} a month at ${PEER.eventsPerSecond} events/s (its README's cost table; no exactly-once counting or real-time reports, for which it adds Managed Flink at about $770 a month)`,
    `single events at 100 events/s: ${money(single100.total)} a month, API Gateway ${(apiShare * 100).toFixed(0)} % of it (${money(single100.byService['API Gateway'] ?? 0)}: it bills every request, and the ingestion function is invoked once per request). A producer should post arrays to the route of each type, up to ${MAX_EVENTS_PER_REQUEST} events each (${money(fullest100.total)} a month at 100 events/s in arrays of ${MAX_EVENTS_PER_REQUEST}), buffering each type for ~100 ms as sdp generate does; compressing bodies (content-encoding: gzip) saves bytes, not requests. See README "What it costs"`,
    `tables provisioned (-c ${tableCapacity.context}=provisioned, auto scaling at ${tableCapacity.targetUtilizationPercent} % utilization, steady traffic assumed): idle ${money(provisioned.idle.idleTotal)}, 100 events/s in arrays of 100 ${money(provisioned.arrays100.total)} a month ($${provisioned.arrays100.perMillionEvents!.toFixed(3)} per million events), 1,000 events/s $${provisioned.arrays1000.perMillionEvents!.toFixed(3)} per million events (${money(provisioned.arrays1000.total)} a month); bursts above the capacity are throttled and retried until auto scaling catches up (later, not lost)`,
    `templates: the stack synthesized now with -c ${tableCapacity.context}=on-demand (the default) and =provisioned; measurements: ${idle.measurements.file} (${idle.measurements.measuredAt.slice(0, 10)}, commit ${idle.measurements.commit.slice(0, 7)})`,
    ...arrays100.warnings.map((w) => `warning at 100 events/s: ${w}`),
    ...arrays1000.warnings.map((w) => `warning at 1,000 events/s: ${w}`),
    ...provisioned.arrays1000.warnings.map((w) => `warning at 1,000 events/s, tables provisioned: ${w}`),
  ];
  rmSync(dir, { recursive: true, force: true });
  const summary = (r: CostReport) => ({ total: r.total, idle: r.idleTotal, perMillionEvents: r.perMillionEvents, byService: r.byService });
  return {
    bench: 'cost',
    figures,
    notes,
    details: { scenarios: Object.fromEntries([...reports].map(([k, r]) => [k, summary(r)])), provisionedTables: { '0/100': summary(provisioned.idle), '100/100': summary(provisioned.arrays100), '1000/100': summary(provisioned.arrays1000) } },
  };
}
