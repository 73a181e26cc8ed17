/**
 * Bench `pipeline --pipeline <name>` for a pipeline other than adtech: the pipeline's generated
 * traffic (local/traffic.ts) sent as fast as accepted to a fresh platform running that pipeline,
 * until every group's report equals the ground truth (local/ground-truth.ts: every measure and
 * late_events, totals and window by window), then checked again (nothing counted twice after).
 * Figures: sustained events/s (goal ≥ 5,000, as adtech's), ingestion alone, the drain, DynamoDB
 * requests per stream record on the aggregator path (goal ≤ 0.25), peak RSS. No freshness probes:
 * adtech's probes are bids of a dedicated campaign; this run has no probe stream.
 */
import { activePipeline, loadPipelines, pipelineEnv, usePipeline } from '../schemas/active-pipeline';
import { aggregationOf, type Pipeline } from '../schemas/pipeline';
import { groundTruth, groupValues, streamRecords, totalsPerGroup, type TruthRow } from '../local/ground-truth';
import { generateTraffic } from '../local/traffic';
import { sendEvents } from '../local/send';
import { PlatformProcess, cpuBetween, statsDelta } from './support/platform-process';
import { progress, type BenchResult, type Figure } from './support/report';
import { machineCores, machineCpu, sleep, sum } from './support/stats';

/** DynamoDB operations the aggregator may make; Query (the report reads) is not on its path. */
const AGGREGATOR_OPS = ['BatchGetItem', 'BatchWriteItem', 'UpdateItem', 'GetItem', 'PutItem', 'DeleteItem'];

export interface DeclaredRunOptions {
  pipeline: string;
  events: number;
  batchSize: number;
  concurrency: number;
  timeoutSeconds: number;
  shards: number;
  publishedEmulators: boolean;
}

/** One group's report as the truth compares it: totals of the measures and late_events, and each window's. */
interface Expected {
  url: string;
  body: string;
}

const measureFields = (pipeline: Pipeline, name: string) => [...aggregationOf(pipeline, name).measures.map((m) => m.name), 'late_events'];
const pick = (fields: readonly string[], row: Readonly<Record<string, unknown>>) =>
  Object.fromEntries(fields.filter((f) => row[f] !== undefined && row[f] !== null).map((f) => [f, row[f]]));

/** What every group's report must read, from the ground truth: totals and the windows in period order. */
function expectedReports(pipeline: Pipeline, truth: ReadonlyMap<string, readonly TruthRow[]>, reportsBase: string): Expected[] {
  const out: Expected[] = [];
  for (const [name, rows] of truth) {
    const aggregation = aggregationOf(pipeline, name);
    const fields = measureFields(pipeline, name);
    for (const total of totalsPerGroup(aggregation, rows).values()) {
      const values = groupValues(aggregation, total);
      const windows = rows
        .filter((r) => JSON.stringify(groupValues(aggregation, r)) === JSON.stringify(values))
        .sort((a, b) => a.period - b.period)
        .map((w) => pick(['period', ...fields], w));
      out.push({
        url: `${reportsBase}reports/${aggregation.route}/${values.map((v) => encodeURIComponent(String(v))).join('/')}`,
        body: JSON.stringify({ ...pick(fields, total), periods: windows }),
      });
    }
  }
  return out;
}

async function readAs(url: string, pipeline: Pipeline, name: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new Error(`GET ${url}: ${(err as Error).message} (${String((err as { cause?: unknown }).cause)})`);
  }
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  const report = (await res.json()) as Record<string, unknown> & { periods?: Record<string, unknown>[] };
  const fields = measureFields(pipeline, name);
  const periods = (report.periods ?? []).map((p) => pick(['period', ...fields], p)).sort((a, b) => (a.period as number) - (b.period as number));
  return JSON.stringify({ ...pick(fields, report), periods });
}

export async function runDeclaredPipeline(options: DeclaredRunOptions): Promise<BenchResult> {
  const { pipeline, files } = loadPipelines([options.pipeline]);
  usePipeline(pipeline, files);
  // The platform child inherits the environment: it runs this pipeline.
  Object.assign(process.env, pipelineEnv());
  const traffic = generateTraffic(activePipeline(), { events: Math.max(1, Math.round(options.events / 1.05)), seed: 42, timeSpreadMs: 600_000 });
  const distinct = sum(Object.values(traffic.distinct));
  progress(`${pipeline.name}: ${traffic.events.length} events to send (${distinct} distinct, rest resends)`);
  progress(`starting the local platform (${options.shards} shards) with pipeline ${pipeline.name}`);
  const platform = await PlatformProcess.start({ shards: options.shards, emulatorSpeedups: !options.publishedEmulators });
  try {
    const api = platform.outputs.UrlForAPI;
    const statsBefore = await platform.requestStats();
    const cpuBefore = await platform.cpu('run');
    const machineStart = machineCpu();
    const t0 = performance.now();
    const receivedAt = Date.now();
    const sendResult = await sendEvents(api, traffic.events, { batchSize: options.batchSize, concurrency: options.concurrency });
    const sendEnd = performance.now();
    progress(`all ${sendResult.events} events accepted in ${((sendEnd - t0) / 1000).toFixed(1)} s`);
    // Event times are the clients' (always sent, within the plausibility window), so the receive time only bounds them.
    const records = streamRecords(pipeline, traffic.events.map((e) => ({ ...e, receivedAt })));
    const truth = groundTruth(pipeline, records);
    const expected = [...truth.keys()].flatMap((name) => expectedReports(pipeline, new Map([[name, truth.get(name)!]]), api).map((e) => ({ ...e, name })));
    const deadline = t0 + options.timeoutSeconds * 1000;
    let exact = 0;
    let doneAt = 0;
    while (!doneAt) {
      if (performance.now() > deadline) throw new Error(`reports not exact within ${options.timeoutSeconds} s: ${exact} of ${expected.length} groups`);
      const read: string[] = [];
      for (const e of expected) read.push(await readAs(e.url, pipeline, e.name));
      exact = read.filter((r, i) => r === expected[i].body).length;
      if (exact === expected.length) doneAt = performance.now();
      else await sleep(200);
    }
    const recheck: string[] = [];
    for (const e of expected) recheck.push(await readAs(e.url, pipeline, e.name));
    const drifted = recheck.findIndex((r, i) => r !== expected[i].body);
    if (drifted >= 0) throw new Error(`${expected[drifted].url} changed after it was exact: ${recheck[drifted]} vs ${expected[drifted].body}`);
    const cpuAfter = await platform.cpu('run');
    const machine = machineCores(machineStart, machineCpu());
    const dynamo = statsDelta(statsBefore, await platform.requestStats()).dynamodb ?? {};
    const aggregatorRequests = sum(AGGREGATOR_OPS.map((op) => dynamo[op] ?? 0));
    const seconds = (doneAt - t0) / 1000;
    const cpu = cpuBetween(cpuBefore, cpuAfter);
    const figures: Figure[] = [
      { key: 'sustained_events_per_s', label: `${pipeline.name}: sustained events/s (distinct, end to end)`, value: distinct / seconds, unit: 'events/s', goal: { op: '>=', target: 5000 }, note: `${distinct} distinct events in ${seconds.toFixed(1)} s from first send to every report exact (${expected.length} groups, totals and windows)` },
      { key: 'ingest_events_per_s', label: '  ingestion alone', value: traffic.events.length / ((sendEnd - t0) / 1000), unit: 'events/s', note: `${traffic.events.length} events in ${sendResult.requests} requests, concurrency ${options.concurrency}` },
      { key: 'drain_s', label: '  reports exact after last send', value: (doneAt - sendEnd) / 1000, unit: 's' },
      { key: 'dynamodb_requests_per_event', label: 'DynamoDB requests per stream record', value: aggregatorRequests / records.length, unit: 'req/record', goal: { op: '<=', target: 0.25 }, note: `${aggregatorRequests} requests / ${records.length} records ingestion wrote` },
      { key: 'platform_peak_rss_mb', label: 'platform peak memory (RSS)', value: cpuAfter.peakRssBytes / 2 ** 20, unit: 'MB' },
    ];
    const notes = [
      `DynamoDB requests (aggregator path): ${AGGREGATOR_OPS.filter((op) => dynamo[op]).map((op) => `${op} ${dynamo[op]}`).join(', ')}; Query ${dynamo.Query ?? 0} (report polling, excluded)`,
      `CPU over the run: platform process ${cpu.processCores.toFixed(2)} cores; rest of the machine and this bench ${(machine - cpu.processCores).toFixed(2)} cores`,
      'no freshness probes for this pipeline (adtech only)',
    ];
    return { bench: 'pipeline', figures, notes, details: { options, distinctEvents: distinct, groups: expected.length, dynamodb: dynamo } };
  } finally {
    await platform.stop();
  }
}
