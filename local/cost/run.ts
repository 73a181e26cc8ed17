/**
 * `sdp cost` end to end: the template (template.ts), what it deploys (inventory.ts), the measured
 * per-event figures (measurements.ts), the bill at the traffic and idle (bill.ts).
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pricedRegions } from '../../schemas/prices';
import { deployOptions, pipelinesContext, reportsWindowContext, tableCapacity, type TableCapacityMode } from '../../schemas/resources';
import { costReport, type CostReport, type Traffic } from './bill';
import { readInventory } from './inventory';
import { loadMeasurements, measurementsFile } from './measurements';
import { loadTemplate } from './template';
import { parseEventMix } from './report';

export interface CostOptions extends Traffic {
  region: string;
  /** A template file; default cdk.out/ when fresh, else synthesized. */
  template?: string;
  /** Default the pipeline's file in the repository (measurements.ts measurementsFile). */
  measurements?: string;
  /** --event-mix's text, parsed against the measured streams (overrides `mix`). */
  eventMix?: string;
  /** The pipelines billed; default those of -c sdp:pipelines, else adtech. */
  pipelines?: readonly string[];
  /** Bill the stack as synthesized with -c sdp:tableCapacity=<mode> (not with `template`). */
  tableCapacity?: TableCapacityMode;
  /** Bill the stack as synthesized with these deploy options (`-c key=value`; not with `template`). */
  context?: Record<string, string>;
}

/** Parses `key=value` deploy options; refuses keys the stack does not read (deployOptions). */
export function parseContext(pairs: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`-c ${pair}: give key=value, e.g. -c ${reportsWindowContext}=5`);
    const key = pair.slice(0, at);
    if (!(key in deployOptions)) throw new Error(`-c ${key}: not a context value the stack reads (${Object.keys(deployOptions).join(', ')})`);
    context[key] = pair.slice(at + 1);
  }
  return context;
}

/** The report; throws a one-line Error for a region the price table does not price, or a bad template or measurements file. */
export function runCost(root: string, options: CostOptions): CostReport {
  if (!pricedRegions.includes(options.region)) throw new Error(`no prices for region ${options.region}: the price table (schemas/prices.ts) prices ${pricedRegions.join(', ')}`);
  const pipelines = options.pipelines ?? options.context?.[pipelinesContext]?.split(',').map((p) => p.trim()).filter(Boolean) ?? ['adtech'];
  const { file, approximated } = options.measurements ? { file: options.measurements, approximated: undefined } : pipelineMeasurementsFile(root, pipelines);
  const measurements = loadMeasurements(file);
  const mix = options.eventMix === undefined ? options.mix : parseEventMix(options.eventMix, Object.keys(measurements.workload.mix));
  if (options.tableCapacity && options.template) throw new Error('--table-capacity prices the stack synthesized with that option; a --template already says how its tables are billed: give one or the other');
  const context = { ...options.context, ...(options.tableCapacity && { [tableCapacity.context]: options.tableCapacity }) };
  const { template, origin } = loadTemplate(root, options.template, Object.keys(context).length > 0 ? context : undefined);
  const inventory = readInventory(template);
  const shown = relative(root, file) || file;
  // The traffic as --json has always printed it: the options with the parsed mix in --event-mix's place.
  const traffic = Object.fromEntries(Object.entries(options).map(([k, v]) => (k === 'eventMix' ? ['mix', mix] : [k, v]))) as CostOptions;
  if (!('eventMix' in options)) traffic.mix = mix;
  const report = costReport(inventory, measurements, traffic, { region: options.region, template: origin, measurementsFile: shown.startsWith('..') ? file : shown });
  if (approximated) report.warnings.unshift(approximated);
  return report;
}

/**
 * The measurements a stack of these pipelines is billed with: its pipeline's own file; for several,
 * the first's that has one (each pipeline's figures are measured alone: the report says so).
 */
function pipelineMeasurementsFile(root: string, pipelines: readonly string[]): { file: string; approximated?: string } {
  const measured = pipelines.filter((p) => existsSync(join(root, measurementsFile(p))));
  if (pipelines.length > 1 && measured.length > 0)
    return { file: join(root, measurementsFile(measured[0])), approximated: `the stack runs ${pipelines.join(', ')}; the per-event figures are ${measured[0]}'s (measured alone): every event is billed as one of ${measured[0]}'s, at the measured mix or --event-mix` };
  const [pipeline] = pipelines;
  if (pipeline !== 'adtech' && measured.length === 0) throw new Error(`no measurements for pipeline ${pipeline}: run npm run bench -- cost --measure --pipeline ${pipeline}`);
  return { file: join(root, measurementsFile(pipeline)) };
}
