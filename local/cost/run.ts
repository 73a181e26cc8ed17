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

export interface CostOptions extends Traffic {
  region: string;
  /** A template file; default cdk.out/ when fresh, else synthesized. */
  template?: string;
  /** Default the pipeline's file in the repository (measurements.ts measurementsFile). */
  measurements?: string;
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
  const file = options.measurements ?? pipelineMeasurementsFile(root, pipelines);
  const measurements = loadMeasurements(file);
  if (options.tableCapacity && options.template) throw new Error('--table-capacity prices the stack synthesized with that option; a --template already says how its tables are billed: give one or the other');
  const context = { ...options.context, ...(options.tableCapacity && { [tableCapacity.context]: options.tableCapacity }) };
  const { template, origin } = loadTemplate(root, options.template, Object.keys(context).length > 0 ? context : undefined);
  const inventory = readInventory(template);
  const shown = relative(root, file) || file;
  return costReport(inventory, measurements, options, { region: options.region, template: origin, measurementsFile: shown.startsWith('..') ? file : shown });
}

/**
 * The measurements a stack of these pipelines is billed with: a single pipeline's own file. Each
 * pipeline's per-event figures were measured alone; a stack of several is not priced by guessing
 * how their traffic mixes: the error says to bill one pipeline at a time (or give --measurements).
 */
function pipelineMeasurementsFile(root: string, pipelines: readonly string[]): string {
  if (pipelines.length !== 1) throw new Error(`the per-event figures are measured one pipeline at a time; ${pipelines.join(', ')} together are not: bill each with -c ${pipelinesContext}=<one of them>, or give --measurements`);
  const [pipeline] = pipelines;
  const file = join(root, measurementsFile(pipeline));
  if (pipeline !== 'adtech' && !existsSync(file)) throw new Error(`no measurements for pipeline ${pipeline}: run npm run bench -- cost --measure --pipeline ${pipeline}`);
  return file;
}
