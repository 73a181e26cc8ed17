/**
 * `sdp cost` for people: the components of the bill with their monthly dollars at the traffic and
 * idle, the totals, the cost per million events, then the assumptions and where each comes from.
 * Also parses the command's --event-mix.
 */
import { prices } from '../../schemas/prices';
import { activePipeline } from '../../schemas/active-pipeline';
import type { CostReport, EventMix } from './bill';

const usd = (n: number) => `$${n < 10 ? n.toFixed(2) : n.toFixed(0)}`;

function align(rows: string[][], rightAligned: number[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
}

export function formatCostReport(r: CostReport): string {
  const t = r.traffic;
  const mix = Object.entries(t.mix).map(([stream, share]) => `${stream} ${share.toFixed(2)}`).join(', ');
  const out = [
    `sdp cost: ${r.region}, ${t.eventsPerSecond.toLocaleString('en-US')} events/s in requests of ${t.eventsPerRequest} (${mix}), a ${prices.hoursPerMonth}-hour month, no free tier`,
    `template: ${r.template}; measurements: ${r.measurements.file} (${r.measurements.measuredAt.slice(0, 10)}, commit ${r.measurements.commit.slice(0, 7)})`,
    '',
  ];
  const rows = [['service', 'component', 'month', 'idle'], ...r.components.filter((c) => c.usd >= 0.005 || c.idleUsd >= 0.005).map((c) => [c.service, c.item, usd(c.usd), usd(c.idleUsd)])];
  const lines = align(rows, [2, 3]);
  out.push(lines[0], '-'.repeat(lines[0].length), ...lines.slice(1), '');
  const summary: [string, string][] = [
    ['idle total:', `${usd(r.idleTotal)} a month`],
    [`total at ${t.eventsPerSecond.toLocaleString('en-US')} events/s:`, `${usd(r.total)} a month (${(r.eventsPerMonth / 1e6).toFixed(1)} M events, ${(r.requestsPerMonth / 1e6).toFixed(1)} M requests)`],
    ['cost per million events:', r.perMillionEvents === null ? '- (no events)' : `$${r.perMillionEvents.toFixed(3)}`],
    ['by service:', Object.entries(r.byService).filter(([, v]) => v >= 0.005).sort((a, b) => b[1] - a[1]).map(([s, v]) => `${s} ${usd(v)}`).join(', ')],
  ];
  const width = Math.max(...summary.map(([label]) => label.length)) + 1;
  out.push(...summary.map(([label, value]) => `${label.padEnd(width)}${value}`));
  if (r.warnings.length) out.push('', 'warnings:', ...r.warnings.map((w) => `  - ${w}`));
  out.push('', 'assumptions:', ...r.assumptions.map((a) => `  - ${a.what}: ${a.value} [${a.source}]`));
  return out.join('\n');
}

/**
 * "bid=0.6,impression=0.3,click=0.1" → shares of the given streams (default the active pipeline's;
 * `sdp cost` gives the measured ones) summing to 1; a one-line error naming what is wrong.
 */
export function parseEventMix(text: string, streams: readonly string[] = activePipeline().streams.map((s) => s.name)): EventMix {
  const mix: EventMix = Object.fromEntries(streams.map((s) => [s, 0]));
  for (const part of text.split(',')) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (!Object.hasOwn(mix, key)) throw new Error(`--event-mix: unknown event type "${key}" (${streams.join(', ')})`);
    const n = Number(value);
    if (value === undefined || value === '' || !Number.isFinite(n) || n < 0) throw new Error(`--event-mix: ${key} must be a share, 0 or more (e.g. ${key}=0.5)`);
    mix[key] = n;
  }
  const sum = Object.values(mix).reduce((a, b) => a + b, 0);
  if (sum <= 0) throw new Error('--event-mix: the shares add up to 0');
  return Object.fromEntries(Object.entries(mix).map(([s, n]) => [s, n / sum]));
}
