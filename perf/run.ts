/**
 * Benchmark runner: `npm run bench -- <name> [options]` (tsx perf/run.ts <name> ...).
 * Each bench prints a table of its figures with the goal beside each and PASS/MISS, then one JSON
 * line; progress goes to stderr. Exit code: 0 when every goal is met, 2 when a goal is missed
 * (0 with --allow-miss), 1 when the bench could not run; unknown names list the benches.
 */
import { parseArgs } from 'node:util';
import { ingestDefaults, runIngest } from './ingest';
import { pipelineDefaults, runPipeline } from './pipeline';
import { emulatorsDefaults, runEmulators } from './emulators';
import { exactnessDefaults, runExactness } from './exactness';
import { lakeDefaults, runLake } from './lake';
import { mlDefaults, runMl } from './ml';
import { loadDefaults, runLoad } from './load';
import { generateDefaults, runGenerate } from './generate';
import { cliDefaults, runCli } from './cli';
import { firstPredictionDefaults, runFirstPrediction } from './first-prediction';
import { costDefaults, runCostBench } from './cost';
import { printResult, type BenchResult } from './support/report';

interface Bench<O> {
  description: string;
  defaults: O;
  /** Flag name (kebab-case) → option key and help text. */
  flags: Record<string, { key: keyof O; help: string; allowZero?: boolean; text?: boolean }>;
  run(options: O): Promise<BenchResult>;
}

const common = {
  'cpu-prof': "profile the platform's main thread over the measured phases and print where its time went",
  'published-emulators': "run kinesalite and dynalite as published, without the platform's speed-ups (to compare)",
};

const benches: Record<string, Bench<never>> = {
  ingest: {
    description: "ingestion API throughput and latency against kinesalite's own PutRecords ceiling (~1 min)",
    defaults: ingestDefaults,
    flags: {
      seconds: { key: 'seconds', help: 'measured seconds per load phase' },
      'ceiling-seconds': { key: 'ceilingSeconds', help: 'measured seconds of the kinesalite ceiling' },
      callers: { key: 'callers', help: 'concurrent PutRecords callers for the ceiling' },
      warmup: { key: 'warmupSeconds', help: 'warm-up seconds before each load phase' },
      connections: { key: 'connections', help: 'autocannon connections, single events' },
      'array-size': { key: 'arraySize', help: 'events per request in the array phase' },
      'array-connections': { key: 'arrayConnections', help: 'autocannon connections, array phase' },
      shards: { key: 'shards', help: 'shards of the events stream' },
      'cpu-prof': { key: 'cpuProfile', help: common['cpu-prof'] },
      'published-emulators': { key: 'publishedEmulators', help: common['published-emulators'] },
    },
    run: runIngest,
  } satisfies Bench<typeof ingestDefaults> as unknown as Bench<never>,
  pipeline: {
    description: 'end to end: sustained events/s unthrottled (median of 3 runs), then report freshness at a steady rate; DynamoDB requests per event (~3 min)',
    defaults: pipelineDefaults,
    flags: {
      pipeline: { key: 'pipeline', help: 'the pipeline run, a shipped name or a file (adtech: freshness probes and the paced run; others: generated traffic until every report equals its ground truth)', text: true },
      events: { key: 'events', help: 'events to send (resends included)' },
      campaigns: { key: 'campaigns', help: 'campaigns in the workload' },
      'batch-size': { key: 'batchSize', help: 'events per request' },
      concurrency: { key: 'concurrency', help: 'concurrent requests of the sender' },
      rate: { key: 'rate', help: 'offered load in events/s for a single run (0: --runs runs as fast as accepted, then one at --freshness-rate)', allowZero: true },
      'freshness-rate': { key: 'freshnessRate', help: 'events/s of the last run, which holds freshness to its goal (0: no such run)', allowZero: true },
      runs: { key: 'runs', help: 'unthrottled runs, each on a fresh platform; the median run is kept' },
      'group-window': { key: 'groupWindow', help: 'sort events by type within windows of this many so arrays fill up (1: keep order)' },
      'probe-ms': { key: 'probeMs', help: 'interval between freshness probes' },
      'idle-probe-seconds': { key: 'idleProbeSeconds', help: 'seconds of probes on the idle platform before the load', allowZero: true },
      timeout: { key: 'timeoutSeconds', help: 'give up when reports are not exact after this many seconds' },
      shards: { key: 'shards', help: 'shards of the events stream' },
      'cpu-prof': { key: 'cpuProfile', help: common['cpu-prof'] },
      'published-emulators': { key: 'publishedEmulators', help: common['published-emulators'] },
    },
    run: runPipeline,
  } satisfies Bench<typeof pipelineDefaults> as unknown as Bench<never>,
  emulators: {
    description: 'ceilings of the emulator operations the aggregator path uses (dynalite, kinesalite GetRecords; ~30 s)',
    defaults: emulatorsDefaults,
    flags: {
      seconds: { key: 'seconds', help: 'measured seconds per operation' },
      'cpu-prof': { key: 'cpuProfile', help: 'profile the emulator threads (V8 --cpu-prof) and print where their time went' },
    },
    run: runEmulators,
  } satisfies Bench<typeof emulatorsDefaults> as unknown as Bench<never>,
  exactness: {
    description: "cost of the aggregator's exactly-once mechanism: events/s and DynamoDB requests per record, few and many campaigns, with and without injected faults (~2-3 min)",
    defaults: exactnessDefaults,
    flags: {
      auctions: { key: 'auctions', help: 'auctions per scenario' },
      'seed-campaigns': { key: 'seedCampaigns', help: 'campaigns of the seed-like scenarios' },
      'wide-campaigns': { key: 'wideCampaigns', help: 'campaigns of the wide scenarios' },
      'fault-probability': { key: 'faultProbability', help: 'probability of a fault per call and per invocation', allowZero: true },
      shards: { key: 'shards', help: 'shards of the events stream' },
      timeout: { key: 'timeoutSeconds', help: 'give up on a scenario after this many seconds' },
    },
    run: runExactness,
  } satisfies Bench<typeof exactnessDefaults> as unknown as Bench<never>,
  ml: {
    description: 'bid-win model: held-out AUC vs the Bayes-optimal AUC, training time for 1M auctions, POST /predictions latency (~1 min)',
    defaults: mlDefaults,
    flags: {
      auctions: { key: 'auctions', help: 'generated auctions (training + held out)' },
      seconds: { key: 'seconds', help: 'seconds of prediction load' },
      connections: { key: 'connections', help: 'autocannon connections for the prediction load' },
      seed: { key: 'seed', help: 'seed of the generated world' },
    },
    run: runMl,
  } satisfies Bench<typeof mlDefaults> as unknown as Bench<never>,
  lake: {
    description: 'data lake: Parquet write rows/s against DuckDB on the same 1M rows; campaign-by-hour SQL latency over 10M events before and after compaction (~5 min)',
    defaults: lakeDefaults,
    flags: {
      rows: { key: 'rows', help: 'bcns rows written by each writer' },
      repeats: { key: 'repeats', help: 'runs of each writer (the median counts)' },
      'row-group-size': { key: 'rowGroupSize', help: 'rows per row group of the lake writer' },
      'batch-rows': { key: 'batchRows', help: 'rows of the Lambda-sized batch timed on its own' },
      'sql-events': { key: 'sqlEvents', help: 'events in the lake the SQL latency is measured on' },
      'sql-hours': { key: 'sqlHours', help: 'hours of event time those events span' },
      'batch-events': { key: 'batchEvents', help: 'events per lake-writer batch (files before compaction)' },
      'sql-runs': { key: 'sqlRuns', help: 'timed runs of the query on each lake (the median counts)' },
    },
    run: runLake,
  } satisfies Bench<typeof lakeDefaults> as unknown as Bench<never>,
  load: {
    description: "load and soak: the seed's user journey (bid, impression, click) ramped to capacity, then a soak at a share of it; req/s, latency, errors, memory over time, zero lost events (reports and sdp audit) (~15 min)",
    defaults: loadDefaults,
    flags: {
      'ramp-step-seconds': { key: 'rampStepSeconds', help: 'measured seconds per ramp step' },
      'start-users': { key: 'startUsers', help: 'virtual users of the first ramp step (doubled every step)' },
      'max-users': { key: 'maxUsers', help: 'most virtual users the ramp goes to' },
      'p99-bound-ms': { key: 'p99BoundMs', help: 'a ramp step with a higher p99 is past capacity; the soak p99 goal' },
      'soak-fraction': { key: 'soakFraction', help: 'soak load as a share of capacity' },
      'soak-seconds': { key: 'soakSeconds', help: 'seconds of soak' },
      'interval-seconds': { key: 'intervalSeconds', help: 'seconds per soak sample' },
      'max-in-flight': { key: 'maxInFlight', help: 'most soak journeys in flight; journeys due beyond it are dropped and counted' },
      campaigns: { key: 'campaigns', help: 'campaigns the journeys bid for' },
      seed: { key: 'seed', help: 'seed of the journeys' },
      shards: { key: 'shards', help: 'shards of the events stream' },
      'drain-timeout': { key: 'drainTimeoutSeconds', help: 'seconds to wait for the pipeline to drain after the ramp and after the soak' },
    },
    run: runLoad,
  } satisfies Bench<typeof loadDefaults> as unknown as Bench<never>,
  generate: {
    description: '`sdp generate` at its defaults against a fresh local platform: events/s sent (goal ≥ 5,000), requests, events per request (~1 min)',
    defaults: generateDefaults,
    flags: {
      auctions: { key: 'auctions', help: 'auctions generated' },
      shards: { key: 'shards', help: 'shards of the events stream' },
    },
    run: runGenerate,
  } satisfies Bench<typeof generateDefaults> as unknown as Bench<never>,
  'first-prediction': {
    description: "the README's ML walkthrough on a fresh platform at default settings: sdp local, sdp generate, sdp train, then seconds to the first answered POST /predictions (goal ≤ 300 s; ~2-4 min)",
    defaults: firstPredictionDefaults,
    flags: {
      auctions: { key: 'auctions', help: 'auctions sdp generate sends' },
      rate: { key: 'rate', help: 'events/s sdp generate sends at' },
    },
    run: runFirstPrediction,
  } satisfies Bench<typeof firstPredictionDefaults> as unknown as Bench<never>,
  cli: {
    description: "the sdp command's start-to-exit wall time: --help, status (platform running and none), query \"SELECT 1\", medians side by side with node -e 0 (~1 min)",
    defaults: cliDefaults,
    flags: {
      runs: { key: 'runs', help: 'rounds; each runs every command once (the median counts)' },
    },
    run: runCli,
  } satisfies Bench<typeof cliDefaults> as unknown as Bench<never>,
  cost: {
    description: "the stack's monthly AWS bill (sdp cost) at 0, 10, 100 and 1,000 events/s, single events and arrays of 100, beside the peer's figure; --measure first measures the per-event figures on the local platform (~1 min)",
    defaults: costDefaults,
    flags: {
      measure: { key: 'measure', help: 'measure on the local platform first and rewrite perf/cost-measurements.json (another pipeline: perf/cost-measurements.<pipeline>.json)' },
      pipeline: { key: 'pipeline', help: 'the pipeline measured and billed, a shipped name (adtech: the blueprint auctions; others: generated traffic, one root event per auction of the options below)', text: true },
      auctions: { key: 'auctions', help: 'auctions of blueprint traffic sent as fast as taken: large batches (with --measure)' },
      'paced-auctions': { key: 'pacedAuctions', help: 'auctions of blueprint traffic sent at --paced-rate: small batches (with --measure)' },
      'paced-rate': { key: 'pacedRate', help: 'events/s of the paced traffic (with --measure)' },
      'trickle-events': { key: 'trickleEvents', help: 'single events sent 1.2 s apart (with --measure)' },
      'array-requests': { key: 'arrayRequests', help: 'arrays of 100 sent one at a time (with --measure)' },
    },
    run: runCostBench,
  } satisfies Bench<typeof costDefaults> as unknown as Bench<never>,
};

function usage(): string {
  const lines = ['usage: npm run bench -- <bench> [options] [--allow-miss]', '', 'benches:'];
  for (const [name, bench] of Object.entries(benches)) {
    lines.push(`  ${name.padEnd(10)} ${bench.description}`);
    for (const [flag, { key, help }] of Object.entries(bench.flags)) {
      const def = (bench.defaults as Record<string, unknown>)[key as string];
      lines.push(`      --${flag.padEnd(18)} ${help}${typeof def === 'boolean' ? '' : ` (default ${def})`}`);
    }
  }
  lines.push('', 'exit code: 0 all goals met, 2 a goal missed (0 with --allow-miss), 1 the bench failed to run');
  return lines.join('\n');
}

function parseOptions<O>(bench: Bench<O>, args: string[]): { options: O; allowMiss: boolean } {
  const spec: Record<string, { type: 'string' | 'boolean' }> = { 'allow-miss': { type: 'boolean' } };
  for (const [flag, { key }] of Object.entries(bench.flags)) {
    spec[flag] = { type: typeof bench.defaults[key] === 'boolean' ? 'boolean' : 'string' };
  }
  const { values } = parseArgs({ args, options: spec, strict: true, allowPositionals: false });
  const options = { ...bench.defaults };
  for (const [flag, { key, allowZero, text }] of Object.entries(bench.flags)) {
    const raw = values[flag];
    if (raw === undefined) continue;
    if (typeof raw === 'boolean' || text) {
      (options as Record<string, unknown>)[key as string] = raw;
      continue;
    }
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) throw new Error(`--${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${raw}"`);
    (options as Record<string, unknown>)[key as string] = n;
  }
  return { options, allowMiss: Boolean(values['allow-miss']) };
}

async function main(argv: string[]): Promise<number> {
  // Node 20 is what this machine has; the SDK's notice about its Node 22 floor is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 1 : 0;
  }
  const bench = benches[name];
  if (!bench) {
    process.stderr.write(`unknown bench "${name}"\n\n${usage()}\n`);
    return 1;
  }
  let parsed: { options: never; allowMiss: boolean };
  try {
    parsed = parseOptions(bench, rest);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage()}\n`);
    return 1;
  }
  const started = Date.now();
  const result = await bench.run(parsed.options);
  const ok = printResult(result);
  process.stderr.write(`${name} took ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return ok || parsed.allowMiss ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
