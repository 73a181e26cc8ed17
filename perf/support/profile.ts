/**
 * Summarises V8 .cpuprofile files (node --cpu-prof) into where the time went: self time by
 * package or area (node_modules package, project folder, GC, idle) and the top functions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** Thread wall time covered by the profile, ms. */
  totalMs: number;
  /** Share of samples that were not idle. */
  busyShare: number;
  areas: { area: string; ms: number; share: number }[];
  functions: { fn: string; ms: number; share: number }[];
}

const projectRoot = join(__dirname, '..', '..');

function areaOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(gc)';
  if (functionName === '(program)') return '(program: native/VM)';
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (path.startsWith('node:')) return `node:${path.slice(5).split('/')[0]}`;
  if (path.startsWith(projectRoot)) return relative(projectRoot, path).split('/').slice(0, 2).join('/');
  return path;
}

function fnOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(`${projectRoot}/`, '') : '';
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

export function summarise(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const areaMs = new Map<string, number>();
  const fnMs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node) return;
    total += ms;
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    if (area === '(idle)') idle += ms;
    areaMs.set(area, (areaMs.get(area) ?? 0) + ms);
    if (area !== '(idle)') fnMs.set(fnOf(node), (fnMs.get(fnOf(node)) ?? 0) + ms);
  });
  const busy = total - idle;
  const ranked = (m: Map<string, number>, denominator: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => ({ k, ms, share: denominator > 0 ? ms / denominator : 0 }));
  return {
    file,
    totalMs: total,
    busyShare: total > 0 ? busy / total : 0,
    areas: ranked(new Map([...areaMs].filter(([k]) => k !== '(idle)')), busy).map(({ k, ms, share }) => ({ area: k, ms, share })),
    functions: ranked(fnMs, busy).map(({ k, ms, share }) => ({ fn: k, ms, share })),
  };
}

/** Summaries of every profile in a directory, busiest thread first. */
export function summariseDir(dir: string, top = 12): ProfileSummary[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summarise(join(dir, f), top))
    .sort((a, b) => b.totalMs * b.busyShare - a.totalMs * a.busyShare);
}

export function formatSummary(s: ProfileSummary): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `profile ${s.file.split('/').pop()}: ${(s.totalMs / 1000).toFixed(1)} s profiled, busy ${pct(s.busyShare)}`,
    '  self time by area (share of busy time):',
    ...s.areas.map((a) => `    ${pct(a.share).padStart(6)}  ${a.area}`),
    '  top functions by self time:',
    ...s.functions.map((f) => `    ${pct(f.share).padStart(6)}  ${f.fn}`),
  ];
}
