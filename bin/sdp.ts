/**
 * The `sdp` command line: everything a user runs. Each command that works on the local platform
 * takes --data-dir (SDP_DATA_DIR, default .sdp/). User errors end with a one-line reason and a
 * non-zero exit, never a stack trace.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { SendResult } from '../local/send';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
// Only light modules are imported here: bin/sdp.js bundles them, so `sdp --help` and `sdp status`
// start in a fraction of a second. Everything heavy is required by the command using it (lazy()).
import { hasPlatformData, PIPELINES_FILE, runningPlatformOutputs, type PlatformOutputs } from '../local/platform-outputs';
import { DEFAULT_SHARDS, MAX_LOCAL_SHARDS } from '../local/shard-limits';
import { lakeBucket, settings, streams, tableCapacity, type TableCapacityMode } from '../schemas/resources';
import { formatCsv, formatJson, formatTable } from '../local/format';
import { pricedRegions } from '../schemas/prices';
import { SHIPPED_PIPELINES } from '../pipelines/index';
import { formatCostReport } from '../local/cost/report';
import { getJson } from '../local/get-json';
import { jobRuns, recordedJobs, runJob, runJobAfterCurrent, TRAINING_JOB } from '../local/jobs';
import type { AggregationAuditRow, AuditRow, StreamAuditRow } from '../local/audit';
import type { DeadLetter } from '../local/dead-letters';
import type { RedriveOutcome } from '../local/redrive';
import type { DeployedConsumer, StackOutputs } from '../local/aws-dead-letters';
import type { CompactionReport } from '../lambdas/compaction/compact';
import type { TrainingReport } from '../local/trainer';
import { OUTCOME_WINDOW_MS } from '../lambdas/ml/outcome';
import type { QueryResult } from '../local/lake-sql';

/** This file's directory; in the bundle (bin/sdp.js), esbuild defines SDP_BIN_DIR, as __dirname is the bundle's own. */
declare const SDP_BIN_DIR: string | undefined;
const BIN_DIR = typeof SDP_BIN_DIR === 'string' ? SDP_BIN_DIR : __dirname;

/**
 * A module of this repo (a path from its root), required through tsx when a command needs it.
 * The path is computed, so the bundle leaves the module out: modules that find files or start
 * threads from their own directory (the platform) run from their sources.
 */
function lazy<T>(path: string): T {
  require('tsx/cjs');
  return require(join(BIN_DIR, '..', path)) as T;
}
const platformModule = () => lazy<typeof import('../local/platform')>('local/platform');
const emulators = () => lazy<typeof import('../local/emulators')>('local/emulators');
/** The lake's SQL: its own bundle beside the CLI's (bin/sdp.js builds both), else through tsx. */
const lakeSql = (): typeof import('../local/lake-sql') => (typeof SDP_BIN_DIR === 'string' ? require(join(__dirname, 'lake-sql.js')) : lazy('local/lake-sql'));
const deadLetters = () => lazy<typeof import('../local/dead-letters')>('local/dead-letters');
const awsDeadLetters = () => lazy<typeof import('../local/aws-dead-letters')>('local/aws-dead-letters');
const costModule = () => lazy<typeof import('../local/cost/run')>('local/cost/run');
class UserError extends Error {}

/** How long `sdp compact` waits for a compaction run in progress to end before it gives up. */
const COMPACTION_WAIT_MS = 5 * 60_000;

/** Ctrl-C and SIGTERM end `sdp local` within 10 s; this is the deadline of the stop itself. */
const STOP_DEADLINE_MS = 9000;

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number, 0 or more`);
    return n;
  };
}

function shardCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LOCAL_SHARDS) throw new InvalidArgumentError(`shards must be a whole number from 1 to ${MAX_LOCAL_SHARDS} locally`);
  return n;
}

/** Collects repeated --pipeline values, each a shipped pipeline's name or an existing file (loaded and checked at start). */
function pipelineReference(value: string, previous: string[] | undefined): string[] {
  if (!(value in SHIPPED_PIPELINES) && !existsSync(resolve(value))) {
    throw new InvalidArgumentError(`no pipeline ${value}: not a shipped one (${Object.keys(SHIPPED_PIPELINES).join(', ')}) and no file ${resolve(value)}`);
  }
  return [...(previous ?? []), value];
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be an integer from 0 to 65535');
  return n;
}

function apiKey(value: string): string {
  if (value.trim() === '' || value !== value.trim()) throw new InvalidArgumentError('the API key must be non-empty, without leading or trailing spaces');
  return value;
}

const QUERIES_DIR = join(BIN_DIR, '..', 'queries');

function namedQueries(): string[] {
  return existsSync(QUERIES_DIR) ? readdirSync(QUERIES_DIR).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4)) : [];
}

function readQuery(sql: string | undefined, file: string | undefined): string {
  if (sql && file) throw new UserError('give either SQL or --file, not both');
  if (sql) return sql;
  if (!file) throw new UserError('no SQL given: sdp query "<SQL>" or sdp query --file <query>');
  const path = existsSync(file) ? file : join(QUERIES_DIR, file.endsWith('.sql') ? file : `${file}.sql`);
  if (!existsSync(path)) throw new UserError(`no saved query "${file}"; saved queries: ${namedQueries().join(', ') || 'none'}`);
  return readFileSync(path, 'utf8');
}

/** One line on a component of the health report: lag and dead letters of a consumer, a job's last run. */
function describeComponent(c: Record<string, unknown>): string {
  if (Array.isArray(c.shards)) {
    const shards = c.shards as { millisBehindLatest?: number; pending: number; waitingFor?: string[] }[];
    const read = shards.filter((s) => !s.waitingFor);
    // A shard never read successfully has no lag to show: unknown, not "0 ms behind".
    const lagKnown = read.every((s) => s.millisBehindLatest !== undefined);
    const lag = lagKnown ? `${Math.max(0, ...read.map((s) => s.millisBehindLatest ?? 0))} ms behind` : 'lag unknown';
    const pending = shards.reduce((n, s) => n + s.pending, 0);
    const waiting = shards.length - read.length;
    const waitingNote = waiting > 0 ? ` (${waiting} more waiting for their parents)` : '';
    const reason = typeof c.reason === 'string' ? `${c.reason}; ` : '';
    return `${reason}${read.length} shard${read.length === 1 ? '' : 's'}${waitingNote}, ${lag}, ${pending} records in flight, ${c.deadLettered} dead-lettered`;
  }
  if (typeof c.reason === 'string') return c.reason;
  if (c.lastRun) {
    const run = c.lastRun as { ended_at: string; outcome: string };
    const failure = c.lastFailure as { at: string; error: string } | undefined;
    return `last run ${run.outcome} at ${run.ended_at}${failure ? `; last failed at ${failure.at}: ${failure.error}` : ''}`;
  }
  return typeof c.endpoint === 'string' ? c.endpoint : '';
}

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'where the local platform keeps its data').env('SDP_DATA_DIR').default('.sdp');

/**
 * The pipeline a command works on: --pipeline (shipped pipelines' names or pipeline files, several
 * side by side), else SDP_PIPELINES, else the default (adtech). Made the process's active pipeline.
 */
function commandPipeline(references: readonly string[] | undefined): import('../schemas/pipeline').Pipeline {
  const active = lazy<typeof import('../schemas/active-pipeline')>('schemas/active-pipeline');
  try {
    if (references && references.length > 0) {
      const { pipeline, files } = active.loadPipelines(references);
      active.usePipeline(pipeline, files);
    }
    return active.activePipeline();
  } catch (err) {
    throw new UserError((err as Error).message.replace(/\n\s*/g, ' '));
  }
}

const pipelineOption = () =>
  new Option('--pipeline <name or file>', "a pipeline to work on: a shipped one (adtech, telemetry) or a pipeline file; repeat for several (default: SDP_PIPELINES, else the data dir's, else adtech)").argParser(pipelineReference);

/**
 * Waits up to `seconds` until the platform's stream consumers have no records in flight and are not
 * behind the stream, so what was sent is in the aggregates and the lake; returns how many records
 * are still in flight (0: caught up). With `consumers` (e.g. the lake writer alone) it is strict:
 * each named consumer must answer, and a shard counts as caught up only once a read made after the
 * wait began found nothing pending and nothing behind (lastProgressAt), so a status from before what
 * was just sent was read does not count.
 */
async function waitForInFlight(outputs: PlatformOutputs, seconds: number, consumers?: string[]): Promise<number> {
  type Shard = { pending: number; millisBehindLatest?: number; lastProgressAt?: number; waitingFor?: string[] };
  const since = Date.now();
  const stale = (s: Shard) => consumers !== undefined && !s.waitingFor && (s.lastProgressAt ?? 0) < since;
  const behind = (s: Shard) => s.pending + (s.millisBehindLatest || stale(s) ? 1 : 0);
  const inFlight = async () => {
    const health = await getJson<{ components: Record<string, { shards?: Shard[] }> }>(`${outputs.UrlForAPI}health`, 10_000);
    const components = consumers ? consumers.map((name) => health.components[name]) : Object.values(health.components).filter((c) => c.shards);
    // A named consumer that does not answer (no shards reported) counts as behind.
    return components.reduce((n, c) => n + (c?.shards ? c.shards.reduce((m, s) => m + behind(s), 0) : 1), 0);
  };
  const deadline = since + seconds * 1000;
  let pending = await inFlight();
  const waited = pending > 0;
  while (pending > 0 && Date.now() < deadline) {
    process.stderr.write(`waiting for ${pending} records in flight...\r`);
    await sleep(500);
    pending = await inFlight();
  }
  if (waited) process.stderr.write('\n');
  return pending;
}

/** The outputs of the platform running on a data dir, or a user error naming the dir (absolute) and how to start one. */
async function requireRunningPlatform(dataDir: string): Promise<PlatformOutputs> {
  const outputs = await runningPlatformOutputs(dataDir);
  if (!outputs) throw new UserError(`no local platform is running on ${resolve(dataDir)}: start it with sdp local --data-dir ${resolve(dataDir)}`);
  return outputs;
}

/**
 * The absolute data dir of a command that reads a platform's data (running or not), or a user
 * error when no platform ever ran there: an empty table would hide a wrong --data-dir.
 */
function requirePlatformData(dataDir: string): string {
  const dir = resolve(dataDir);
  if (!hasPlatformData(dir)) throw new UserError(`no platform data in ${dir}: pass the --data-dir (or SDP_DATA_DIR) of a platform, or start one with sdp local --data-dir ${dir}`);
  return dir;
}

const program = new Command('sdp').description('sdp: a streaming data platform: your streams and aggregations declared in one file (the shipped adtech pipeline by default)');

/**
 * A command on a data dir works on the pipelines the platform there runs (the data dir's
 * pipelines.json, written at its start) unless --pipeline or SDP_PIPELINES says otherwise: so
 * `sdp query`, `sdp audit` or a restarted `sdp local` on a telemetry data dir see telemetry.
 */
program.hook('preAction', (_program, command) => {
  const { dataDir } = command.opts<{ dataDir?: string }>();
  if (dataDir === undefined || process.env.SDP_PIPELINES) return;
  const file = join(dataDir, PIPELINES_FILE);
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8').trim();
  let references: unknown;
  try {
    references = JSON.parse(text);
  } catch {
    references = undefined;
  }
  if (!Array.isArray(references) || references.length === 0 || !references.every((r) => typeof r === 'string')) {
    throw new UserError(`${file} is damaged (not a JSON array of pipeline files): pass --pipeline, or delete it to run the default pipeline`);
  }
  process.env.SDP_PIPELINES = text;
});

program
  .command('local')
  .description('run the whole platform on this machine (emulated Kinesis, DynamoDB and S3; no AWS account)')
  .addOption(dataDirOption())
  .addOption(new Option('--port <port>', 'HTTP port of the local API').env('PORT').default(3000).argParser(port))
  .addOption(new Option('--shards <n>', `shards of the events stream (default: ${DEFAULT_SHARDS} for a new stream, an existing one unchanged; another count reshards it)`).argParser(shardCount))
  .addOption(new Option('--aggregation-period <seconds>', `aggregation window length (default: ${settings.aggregationPeriodSeconds.default})`).env('AGGREGATION_PERIOD_SECONDS').argParser(positiveInt('aggregation period')))
  .addOption(new Option('--compaction-interval <minutes>', 'minutes between scheduled lake compactions (0: off)').default(10).argParser(nonNegativeInt('compaction interval')))
  .addOption(new Option('--retrain-interval <minutes>', 'minutes between checks for retraining the bid-win model (0: off)').default(30).argParser(nonNegativeInt('retrain interval')))
  .addOption(new Option('--log-level <level>', 'handler log level').choices(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'))
  .addOption(new Option('--api-key <key>', "require this key in the x-api-key header on every stream's POST route and /predictions, as API Gateway does (default: no key needed)").env('SDP_API_KEY').argParser(apiKey))
  .addOption(pipelineOption())
  .option('--json', 'print the outputs as one JSON line once ready')
  .action(async (opts: { dataDir: string; pipeline?: string[]; port: number; shards?: number; aggregationPeriod?: number; compactionInterval: number; retrainInterval: number; logLevel: string; apiKey?: string; json?: boolean }) => {
    const { LocalPlatform } = platformModule();
    const platform = new LocalPlatform({
      pipelines: opts.pipeline,
      apiKey: opts.apiKey,
      compactionIntervalMinutes: opts.compactionInterval,
      retrainIntervalMinutes: opts.retrainInterval,
      dataDir: opts.dataDir,
      port: opts.port,
      shards: opts.shards,
      aggregationPeriodSeconds: opts.aggregationPeriod,
      logLevel: opts.logLevel,
      log: opts.json ? (line) => process.stderr.write(`${line}\n`) : undefined,
      onFatal: (reason) => void stop(`error: ${reason}`, 1),
    });
    let stopping = false;
    /** Stops the platform and exits with `code`; within STOP_DEADLINE_MS whatever state a part is in. */
    async function stop(why: string, code: number): Promise<void> {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${why}\nstopping (finishing batches in progress)...\n`);
      // Each part of stop() has its own deadline; this one is the last resort if something still hangs.
      setTimeout(() => {
        process.stderr.write(`error: the platform did not stop within ${STOP_DEADLINE_MS / 1000} s; exiting anyway\n`);
        process.exit(code || 1);
      }, STOP_DEADLINE_MS).unref();
      await platform.stop();
      process.exit(code);
    }
    process.on('SIGINT', () => void stop('SIGINT', 0));
    process.on('SIGTERM', () => void stop('SIGTERM', 0));
    let outputs;
    try {
      outputs = await platform.start();
    } catch (err) {
      throw new UserError(`could not start the local platform: ${(err as Error).message}`);
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(outputs)}\n`);
    } else {
      console.log('sdp is running locally. Outputs:');
      // An output the platform does not set (AggregationPeriodSeconds without an override) is not printed, as --json leaves it out.
      const shown = Object.entries(outputs).filter(([, value]) => value !== undefined);
      const width = Math.max(...shown.map(([key]) => key.length));
      for (const [key, value] of shown) console.log(`  ${key.padEnd(width)}  ${value}`);
      if (opts.apiKey) console.log('Ingestion requires the API key: send it in the x-api-key header.');
      const keyHeader = opts.apiKey ? ` -H 'x-api-key: <your key>'` : '';
      // The example event is the pipeline's own (a stream's declared example), never the core's.
      const example = commandPipeline(undefined).streams.find((st) => st.example !== undefined);
      if (example) console.log(`Try: curl -s -XPOST ${outputs.UrlForAPI}${example.route.slice(1)} -H 'content-type: application/json'${keyHeader} -d '${JSON.stringify(example.example)}'`);
      console.log('Ctrl-C stops it; a restart resumes from where it stopped.');
    }
  });

program
  .command('query')
  .description('run SQL over the lake: DuckDB over the local lake, or Athena with --athena')
  .argument('[sql]', 'the SQL to run (or use --file)')
  .option('--file <query>', `a saved query: a name from queries/ (${namedQueries().join(', ') || 'none yet'}) or a path to a .sql file`)
  .addOption(dataDirOption())
  .option('--athena', 'run on Athena in the deployed stack (AWS credentials and region from the environment)')
  .addOption(new Option('--workgroup <name>', 'Athena workgroup (stack output AthenaWorkGroup)').env('SDP_ATHENA_WORKGROUP').default('sdp'))
  .addOption(new Option('--database <name>', 'Glue database (stack output GlueDatabase)').env('SDP_GLUE_DATABASE').default('sdp_lake'))
  .addOption(new Option('--json', 'print rows as JSON').conflicts('csv'))
  .option('--csv', 'print rows as CSV')
  .action(async (sqlArg: string | undefined, opts: { file?: string; dataDir: string; athena?: boolean; workgroup: string; database: string; json?: boolean; csv?: boolean }) => {
    const sql = readQuery(sqlArg, opts.file);
    let result: QueryResult;
    const { LakeSql, localLakeRoot, skippedWarning } = lakeSql();
    if (opts.athena) {
      try {
        const { queryAthena } = lazy<typeof import('../local/athena-sql')>('local/athena-sql');
        result = await queryAthena(sql, { workGroup: opts.workgroup, database: opts.database, onProgress: (state) => process.stderr.write(`athena: ${state}\r`) });
        process.stderr.write('\n');
      } catch (err) {
        throw new UserError(`athena: ${(err as Error).message}`);
      }
    } else {
      const dataDir = requirePlatformData(opts.dataDir);
      const root = localLakeRoot(dataDir);
      if (!existsSync(root)) throw new UserError(`no local lake under ${dataDir}: start the platform (sdp local --data-dir ${dataDir}) and send events first, or pass --data-dir`);
      const lake = await LakeSql.open(root, { forSql: sql, onSkip: (s) => process.stderr.write(`${skippedWarning(s)}\n`) });
      try {
        result = await lake.query(sql);
      } catch (err) {
        throw new UserError((err as Error).message.split('\n')[0]);
      } finally {
        lake.close();
      }
    }
    process.stdout.write(`${opts.json ? formatJson(result) : opts.csv ? formatCsv(result) : formatTable(result)}\n`);
  });

program
  .command('compact')
  .description("compact the local lake's closed partitions now (the schedule does it every --compaction-interval minutes)")
  .addOption(dataDirOption())
  .option('--json', 'print the report as JSON')
  .action(async (opts: { dataDir: string; json?: boolean }) => {
    const outputs = await requireRunningPlatform(opts.dataDir);
    const s3 = emulators().emulatorS3Client(outputs.S3Endpoint);
    const { compactLake } = lazy<typeof import('../lambdas/compaction/compact')>('lambdas/compaction/compact');
    let report: CompactionReport;
    try {
      // A scheduled run in progress is waited for, not an error.
      report = await runJobAfterCurrent(
        outputs.DataDir,
        'compaction',
        'sdp compact',
        () =>
          compactLake({
            s3,
            bucket: lakeBucket.name,
            now: Date.now(),
            allowedLatenessSeconds: outputs.AllowedLatenessSeconds,
            onProgress: (p) => process.stderr.write(`${p.phase}: ${p.message}\n`),
          }),
        COMPACTION_WAIT_MS,
        (why) => process.stderr.write(`${why}\n`),
      );
    } catch (err) {
      throw new UserError(`compaction failed: ${(err as Error).message}`);
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
    console.log(`compacted ${report.partitions} partitions: ${report.filesBefore} files (${mb(report.bytesBefore)}) -> ${report.filesAfter} files (${mb(report.bytesAfter)})`);
    // The built tables' names come from the pipelines' declarations (adtech: auctions).
    const builtNames = (lazy<typeof import('../schemas/active-pipeline')>('schemas/active-pipeline').activePipeline().builtTables ?? []).map((t) => t.name).join(', ') || 'built tables';
    console.log(`${builtNames} rebuilt for ${report.built} hours; ${report.recovered} interrupted compactions finished`);
    for (const u of report.unreadable) console.log(`unreadable, left in place: ${u.key}: ${u.reason}`);
    for (const p of report.superseded) console.log(`left for the next run (an input was rewritten while compacting): ${p}`);
    for (const k of report.kept) console.log(`rewritten just before its delete, kept (compacted again next run): ${k}`);
  });

program
  .command('status')
  .description("the local platform's health: each component, its lag and dead letters (exits 1 when unhealthy)")
  .addOption(dataDirOption())
  .option('--json', 'print the health report as JSON')
  .action(async (opts: { dataDir: string; json?: boolean }) => {
    const outputs = await requireRunningPlatform(opts.dataDir);
    const health = await getJson<{ status: string; components: Record<string, Record<string, unknown>> }>(`${outputs.UrlForAPI}health`, 10_000).catch((err: Error) => {
      throw new UserError(`the local platform does not answer at ${outputs.UrlForAPI}: ${err.message}`);
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(health, null, 2)}\n`);
    else console.log(formatTable({ columns: ['component', 'status', 'detail'], rows: Object.entries(health.components).map(([component, c]) => ({ component, status: c.status, detail: describeComponent(c) })) }));
    if (health.status !== 'ok') throw new UserError(`the platform is ${health.status}`);
  });

program
  .command('audit')
  .description("reconcile end to end per hour and stream (events stream, aggregates, lake) and per aggregation (every measure of every row against the lake's events); exits 1 on a mismatch")
  .addOption(dataDirOption())
  .addOption(new Option('--from <epoch s>', 'first hour to audit (default: the oldest on the stream)').argParser(nonNegativeInt('from')))
  .addOption(new Option('--to <epoch s>', 'audit hours before this instant (default: now)').argParser(nonNegativeInt('to')))
  .addOption(new Option('--wait <seconds>', 'wait this long for events in flight to be processed first').default(60).argParser(nonNegativeInt('wait')))
  .addOption(pipelineOption())
  .option('--json', 'print the audit as JSON')
  .action(async (opts: { dataDir: string; from?: number; to?: number; wait: number; pipeline?: string[]; json?: boolean }) => {
    const outputs = await requireRunningPlatform(opts.dataDir);
    const { asRunWithPeriod } = lazy<typeof import('../local/ground-truth')>('local/ground-truth');
    const pipeline = asRunWithPeriod(commandPipeline(opts.pipeline), outputs.AggregationPeriodSeconds);
    const pending = await waitForInFlight(outputs, opts.wait);
    process.stderr.write('reading the events stream, the aggregates and the lake...\n');
    const audit = lazy<typeof import('../local/audit')>('local/audit');
    const { KinesisClient } = (require('@aws-sdk/client-kinesis') as typeof import('@aws-sdk/client-kinesis'));
    const { DynamoDBClient } = (require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb'));
    const { DynamoDBDocumentClient } = (require('@aws-sdk/lib-dynamodb') as typeof import('@aws-sdk/lib-dynamodb'));
    const { emulatorClientConfig } = emulators();
    const { LakeSql, localLakeRoot, skippedWarning } = lakeSql();
    const records = await audit.readEventsStream(new KinesisClient(emulatorClientConfig(outputs.KinesisEndpoint)));
    const rows = await audit.readAggregateRows(DynamoDBDocumentClient.from(new DynamoDBClient(emulatorClientConfig(outputs.DynamoDBEndpoint))), pipeline);
    const lake = await LakeSql.open(localLakeRoot(outputs.DataDir), { onSkip: (s) => process.stderr.write(`${skippedWarning(s)}\n`) });
    const range = { from: opts.from === undefined ? undefined : opts.from * 1000, to: (opts.to ?? Math.floor(Date.now() / 1000)) * 1000 };
    let hours: AuditRow[];
    let perStream: StreamAuditRow[];
    let perAggregation: AggregationAuditRow[];
    try {
      const expected = audit.expectedFromStream(pipeline, records);
      const expectedAggregated = audit.aggregatedPerHour(pipeline, audit.expectedRowsFromStream(pipeline, records, outputs.AllowedLatenessSeconds * 1000));
      const parquet = await audit.lakePerStreamHour(lake, pipeline, 'parquet');
      const raw = await audit.lakePerStreamHour(lake, pipeline, 'raw');
      hours = audit.reconcile(expected, expectedAggregated, audit.aggregatedPerHour(pipeline, rows), parquet, raw, range);
      perStream = audit.reconcileStreams(pipeline, expected, parquet, raw, range);
      perAggregation = audit.reconcileAggregations(pipeline, await audit.lakeAggregateRows(lake, pipeline, outputs.AllowedLatenessSeconds), rows, range);
    } finally {
      lake.close();
    }
    const mismatches = hours.filter((r) => !r.ok);
    const measuresDiffering = perAggregation.filter((r) => !r.ok);
    if (opts.json) process.stdout.write(`${JSON.stringify({ inFlight: pending, rows: hours, mismatches: mismatches.length, streams: perStream, aggregations: perAggregation, aggregationMismatches: measuresDiffering.length }, null, 2)}\n`);
    else {
      const okText = <T extends { ok: boolean }>(r: T) => ({ ...r, ok: r.ok ? 'ok' : 'MISMATCH' });
      console.log(formatTable({ columns: ['hour', 'streamRecords', 'expectedAggregated', 'aggregated', 'expectedLake', 'lakeParquet', 'lakeRaw', 'ok'], rows: hours.map(okText) }));
      console.log(formatTable({ columns: ['stream', 'lakeTable', 'streamRecords', 'expectedLake', 'lakeParquet', 'lakeRaw', 'ok'], rows: perStream.map(okText) }));
      console.log(formatTable({ columns: ['aggregation', 'measure', 'expected', 'aggregated', 'rowsDiffering', 'ok'], rows: perAggregation.map((r) => okText({ ...r, expected: r.expected ?? '', aggregated: r.aggregated ?? '' })) }));
    }
    const problems = [
      ...(mismatches.length > 0 ? [`${mismatches.length} hour(s) do not reconcile`] : []),
      ...(measuresDiffering.length > 0 ? [`${measuresDiffering.length} aggregation measure(s) differ from the lake's events (${measuresDiffering.map((r) => `${r.aggregation}.${r.measure}`).join(', ')})`] : []),
    ];
    if (problems.length > 0) {
      throw new UserError(`${problems.join('; ')}${pending > 0 ? ` (${pending} records were still in flight after ${opts.wait} s)` : ''}`);
    }
  });

program
  .command('reshard')
  .description("reshard the running local platform's events stream to equal shards, as a deploy with another StreamShardCount does in AWS; consumers read the old shards to their ends before the new ones")
  .addOption(new Option('--shards <n>', `open shards wanted (1 to ${MAX_LOCAL_SHARDS})`).makeOptionMandatory().argParser(shardCount))
  .addOption(dataDirOption())
  .option('--json', 'print the outcome as JSON')
  .action(async (opts: { shards: number; dataDir: string; json?: boolean }) => {
    const outputs = await requireRunningPlatform(opts.dataDir);
    const { KinesisClient } = (require('@aws-sdk/client-kinesis') as typeof import('@aws-sdk/client-kinesis'));
    const kinesis = new KinesisClient(emulators().emulatorClientConfig(outputs.KinesisEndpoint));
    const { reshardUniform } = lazy<typeof import('../local/reshard')>('local/reshard');
    const outcome = await reshardUniform(kinesis, streams.events.name, opts.shards, (step) => process.stderr.write(`${step}\n`)).catch((err: Error) => {
      throw new UserError(`could not reshard the events stream: ${err.message}`);
    });
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...outcome, to: opts.shards })}\n`);
    else if (outcome.splits + outcome.merges === 0) console.log(`the events stream already has ${opts.shards} equal shards`);
    else console.log(`events stream resharded from ${outcome.from} to ${opts.shards} shards (${outcome.splits} splits, ${outcome.merges} merges)`);
  });

const dlq = program.command('dlq').description('dead letters: batches a stream consumer gave up on after its retries');

const awsOptions = (command: Command) =>
  command
    .option('--aws', 'the dead letters of a deployed stack (its SQS queues; AWS credentials and region from the environment)')
    .option('--outputs <file>', 'with --aws: the stack outputs, as written by npx cdk deploy --outputs-file <file>', 'cdk-outputs.json')
    .option('--stack <name>', 'with --aws: the stack in the outputs file, when it holds several');

function deployedClients() {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new UserError('set AWS_REGION to the region of the deployed stack');
  const { KinesisClient } = (require('@aws-sdk/client-kinesis') as typeof import('@aws-sdk/client-kinesis'));
  const { SQSClient } = (require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs'));
  return { kinesis: new KinesisClient({ region }), sqs: new SQSClient({ region }), region };
}

function stackOutputs(opts: { outputs: string; stack?: string }): StackOutputs {
  try {
    return awsDeadLetters().readStackOutputs(opts.outputs, opts.stack);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

awsOptions(
  dlq
    .command('list')
    .description('list the dead-lettered batches of every consumer')
    .addOption(dataDirOption())
    .option('--json', 'print them as JSON'),
).action(async (opts: { dataDir: string; json?: boolean; aws?: boolean; outputs: string; stack?: string }) => {
  let letters: { letter: string; consumer: string; info: DeadLetter['KinesisBatchInfo']; at: string; error: string }[];
  if (opts.aws) {
    const outputs = stackOutputs(opts);
    const { sqs } = deployedClients();
    letters = [];
    const { deadLetterQueueOutputs, receiveLetters } = awsDeadLetters();
    for (const [consumer, key] of Object.entries(deadLetterQueueOutputs)) {
      if (!outputs[key]) throw new UserError(`the stack outputs lack ${key}: redeploy the stack with this version of sdp`);
      for (const q of await receiveLetters(sqs, outputs[key], consumer as DeployedConsumer, { visibilitySeconds: 30, release: true })) {
        letters.push({ letter: q.messageId, consumer, info: q.letter.KinesisBatchInfo, at: q.letter.timestamp, error: q.letter.responseContext?.functionError ?? '' });
      }
    }
  } else {
    letters = deadLetters().deadLetterSummaries(requirePlatformData(opts.dataDir)).map(({ consumer, file, letter }) => ({
      letter: basename(file),
      consumer,
      info: letter.KinesisBatchInfo,
      at: letter.timestamp,
      error: letter.responseContext.functionError,
    }));
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
    return;
  }
  console.log(
    formatTable({
      columns: ['letter', 'consumer', 'at', 'shard', 'records', 'error'],
      rows: letters.map((l) => ({ letter: l.letter, consumer: l.consumer, at: l.at, shard: l.info?.shardId, records: l.info?.batchSize, error: l.error })),
    }),
  );
});

awsOptions(
  dlq
    .command('redrive')
    .description('replay dead letters into their consumer, counting nothing twice, and set each replayed letter aside')
    .argument('[letters...]', 'letters to replay, as `sdp dlq list` names them')
    .option('--all', 'replay every dead letter')
    .option('--consumer <name>', 'only the letters of this consumer (locally: aggregator, lake-writer-events, lake-writer-aggregates; --aws: aggregator, lake-writer)')
    .addOption(dataDirOption())
    .option('--json', 'print the outcomes as JSON'),
).action(async (names: string[], opts: { all?: boolean; consumer?: string; dataDir: string; json?: boolean; aws?: boolean; outputs: string; stack?: string }) => {
  if (!opts.all && names.length === 0) throw new UserError('name the letters to replay (see sdp dlq list), or pass --all');
  const wanted = (consumer: string, letter: string) => (opts.consumer === undefined || consumer === opts.consumer) && (opts.all || names.includes(letter));
  const notice = (line: string) => {
    if (!opts.json) process.stderr.write(`${line}\n`);
  };
  const progress = (o: RedriveOutcome) => notice(`${o.ok ? 'replayed' : 'FAILED  '} ${basename(o.file)}: ${o.detail}`);
  let outcomes: RedriveOutcome[];
  const { redriveDeadLetters, redriveDeployedDeadLetters } = lazy<typeof import('../local/redrive')>('local/redrive');
  if (opts.aws) {
    outcomes = await redriveDeployedDeadLetters(stackOutputs(opts), deployedClients(), wanted, progress, notice);
  } else {
    const outputs = await requireRunningPlatform(opts.dataDir);
    const known = new Set(deadLetters().deadLetterSummaries(outputs.DataDir).map((l) => basename(l.file)));
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) throw new UserError(`no such dead letter: ${unknown.join(', ')}`);
    outcomes = await redriveDeadLetters(outputs, (consumer, file) => wanted(consumer, basename(file)), progress, notice);
  }
  const replayed = outcomes.filter((o) => o.ok).length;
  if (opts.json) process.stdout.write(`${JSON.stringify(outcomes.map((o) => ({ ...o, letter: basename(o.file) })), null, 2)}\n`);
  else console.log(`${replayed} of ${outcomes.length} dead letters replayed`);
  if (outcomes.length === 0 && names.length > 0) throw new UserError(`no such dead letter: ${names.join(', ')}`);
  if (replayed < outcomes.length) throw new UserError(`${outcomes.length - replayed} dead letter(s) could not be replayed; they stay in place`);
});

program
  .command('generate')
  .description("generate traffic for the pipeline (from each stream's schema; for adtech, auctions with a known win function), send it to a platform (or write it to a file), and print its ground truth: every aggregation's rows")
  .addOption(new Option('--auctions <n>', 'adtech: auctions to generate').default(10_000).argParser(positiveInt('auctions')))
  .addOption(new Option('--campaigns <n>', 'adtech: campaigns').default(50).argParser(positiveInt('campaigns')))
  .addOption(new Option('--events <n>', 'other pipelines: distinct events of each stream not joined to another (joined streams get about half as many per join)').default(10_000).argParser(positiveInt('events')))
  .addOption(new Option('--groups <n>', 'other pipelines: distinct values of each group field').default(5).argParser(positiveInt('groups')))
  .addOption(new Option('--seed <n>', 'seed: the same seed makes the same traffic and world').default(1).argParser(nonNegativeInt('seed')))
  .addOption(new Option('--resend-rate <share>', 'share of events sent twice').default(0.05).argParser(Number))
  .addOption(new Option('--minutes <n>', "event times spread over the last n minutes (an auction's outcome is known once its bid is 5 minutes old)").default(10).argParser(positiveInt('minutes')))
  .addOption(new Option('--rate <events/s>', 'send this many events per second, evenly paced (0: as fast as accepted)').default(0).argParser(nonNegativeInt('rate')))
  .addOption(new Option('--batch-size <n>', 'events per request, each request of one type to its route (1: single events)').default(100).argParser(positiveInt('batch size')))
  .addOption(new Option('--concurrency <n>', 'most requests in flight at once').default(16).argParser(positiveInt('concurrency')))
  .option('--url <api>', 'the ingestion API to send to (default: the local platform on --data-dir)')
  .addOption(pipelineOption())
  .addOption(dataDirOption())
  .addOption(new Option('--api-key <key>', 'x-api-key to send').env('SDP_API_KEY'))
  .option('--out <file>', 'write the events as NDJSON ({type, body} per line) instead of sending them')
  .option('--json', 'print the summary as JSON')
  .action(async (opts: { auctions: number; campaigns: number; events: number; groups: number; seed: number; resendRate: number; minutes: number; rate: number; batchSize: number; concurrency: number; url?: string; pipeline?: string[]; dataDir: string; apiKey?: string; out?: string; json?: boolean }) => {
    if (!(opts.resendRate >= 0 && opts.resendRate < 1)) throw new UserError('--resend-rate must be a share from 0 to 1');
    const pipeline = commandPipeline(opts.pipeline);
    const { asRunWithPeriod, groundTruth, streamRecords, distinctPerStream } = lazy<typeof import('../local/ground-truth')>('local/ground-truth');
    // The ad-tech model's traffic (its win function, the Bayes-optimal AUC) is adtech's own; any other pipeline's comes from its schemas.
    const adtechModel = pipeline.name === 'adtech';
    let events: import('../local/send-plan').OutgoingEvent[];
    let adtechSummary: Record<string, unknown> = {};
    if (adtechModel) {
      const { bayesOptimalAuc, generateWorkload } = lazy<typeof import('../pipelines/adtech/workload')>('pipelines/adtech/workload');
      const workload = generateWorkload({ auctions: opts.auctions, campaigns: opts.campaigns, seed: opts.seed, resendRate: opts.resendRate, timeSpreadMs: opts.minutes * 60_000, winModel: true });
      events = workload.events;
      adtechSummary = { auctions: opts.auctions, distinct: workload.totals, bayesOptimalAuc: bayesOptimalAuc(workload), campaigns: Object.fromEntries(workload.truth) };
    } else {
      const { generateTraffic } = lazy<typeof import('../local/traffic')>('local/traffic');
      try {
        events = generateTraffic(pipeline, { events: opts.events, groups: opts.groups, seed: opts.seed, resendRate: opts.resendRate, timeSpreadMs: opts.minutes * 60_000 }).events;
      } catch (err) {
        throw new UserError((err as Error).message);
      }
    }
    let sent: (SendResult & { seconds: number }) | undefined;
    let allowedLatenessSeconds: number | undefined;
    let periodSeconds: number | undefined;
    const receivedFrom = Date.now();
    if (opts.out) {
      writeFileSync(opts.out, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    } else {
      const local = opts.url ? undefined : await runningPlatformOutputs(opts.dataDir);
      allowedLatenessSeconds = local?.AllowedLatenessSeconds;
      periodSeconds = local?.AggregationPeriodSeconds;
      const url = opts.url ?? local?.UrlForAPI;
      if (!url) throw new UserError(`no local platform is running on ${resolve(opts.dataDir)}: start it with sdp local --data-dir ${resolve(opts.dataDir)}, or pass --url`);
      const base = url.endsWith('/') ? url : `${url}/`;
      const started = Date.now();
      const bar = (sent: number) => {
        const width = 30;
        const done = Math.round((sent / events.length) * width);
        const rate = sent / Math.max(0.001, (Date.now() - started) / 1000);
        process.stderr.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${sent}/${events.length} events, ${Math.round(rate)}/s`);
      };
      try {
        const { sendEvents } = lazy<typeof import('../local/send')>('local/send');
        const routes = Object.fromEntries(pipeline.streams.map((s) => [s.name, s.route.slice(1)]));
        const result = await sendEvents(base, events, { batchSize: opts.batchSize, concurrency: opts.concurrency, eventsPerSecond: opts.rate || undefined, apiKey: opts.apiKey, routes, onProgress: bar });
        const seconds = (Date.now() - started) / 1000;
        sent = { ...result, seconds };
        process.stderr.write(`\nsent ${result.events} events in ${result.requests} requests (${result.retries} retried) in ${seconds.toFixed(1)} s: ${Math.round(result.events / Math.max(0.001, seconds))} events/s\n`);
      } catch (err) {
        throw new UserError(`sending failed: ${(err as Error).message}`);
      }
    }
    // The ground truth: every event received about when it was sent (lateness and period as the local platform's, else the defaults).
    const records = streamRecords(pipeline, events.map((e) => ({ ...e, receivedAt: receivedFrom })));
    const truth = groundTruth(asRunWithPeriod(pipeline, periodSeconds), records, allowedLatenessSeconds === undefined ? undefined : allowedLatenessSeconds * 1000);
    const distinct = distinctPerStream(pipeline, records);
    const summary = { pipeline: pipeline.name, events: events.length, distinct, ...adtechSummary, aggregations: Object.fromEntries(truth) };
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...summary, ...(sent ? { sent } : {}) }, null, 2)}\n`);
    else {
      const written = opts.out ? ` written to ${opts.out}` : '';
      if (adtechModel) {
        const d = adtechSummary.distinct as Record<'bids' | 'impressions' | 'clicks', number>;
        console.log(`${summary.events} events (${opts.auctions} auctions): ${d.bids} bids, ${d.impressions} impressions, ${d.clicks} clicks distinct${written}`);
        console.log(`Bayes-optimal AUC of the win function on the held-out auctions: ${(adtechSummary.bayesOptimalAuc as number).toFixed(4)}`);
      } else {
        console.log(`${summary.events} events: ${Object.entries(distinct).map(([s, n]) => `${n} ${s}`).join(', ')} distinct${written}`);
        for (const [name, rows] of truth) console.log(`aggregation ${name}: ${rows.length} rows (--json prints them)`);
      }
    }
  });

function pricedRegion(value: string): string {
  if (!pricedRegions.includes(value)) throw new InvalidArgumentError(`no prices for region ${value}: the price table (schemas/prices.ts) prices ${pricedRegions.join(', ')}`);
  return value;
}

function nonNegativeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number, 0 or more`);
    return n;
  };
}

program
  .command('cost')
  .description("the stack's monthly AWS bill (list prices, no free tier) at the traffic you give: computed from its CloudFormation template and the per-event figures the cost bench measured")
  .addOption(new Option('--events-per-second <n>', 'steady traffic, events per second').default(100).argParser(nonNegativeNumber('events per second')))
  .addOption(new Option('--events-per-request <k>', 'events per POST (1: single events; the API takes arrays)').default(100).argParser(positiveInt('events per request')))
  .option('--event-mix <shares>', 'shares of each stream\'s events, e.g. bid=0.6,impression=0.3,click=0.1 (default: the mix the bench measured)')
  .addOption(new Option('--region <region>', `AWS region to price (priced: ${pricedRegions.join(', ')})`).default('us-east-1').argParser(pricedRegion))
  .option('--template <file>', 'a synthesized template to bill (default: cdk.out/SdpStack.template.json when newer than the sources, else the stack synthesized now)')
  .addOption(
    new Option(
      '--table-capacity <mode>',
      `bill the stack as deployed with -c ${tableCapacity.context}=<mode>: synthesized now with it (not with --template). provisioned: capacity = measured units/s ÷ the ${tableCapacity.targetUtilizationPercent} % auto scaling target, at least the minimum, for steady traffic (bursts are throttled and retried until auto scaling catches up)`,
    ).choices([...tableCapacity.modes]),
  )
  .option('-c, --context <key=value>', 'bill the stack as deployed with this option (cdk deploy -c key=value), synthesized now with it (not with --template); repeatable, e.g. -c sdp:reportsBatchingWindowSeconds=5 -c sdp:dashboard=false', (pair: string, all: string[] = []) => [...all, pair])
  .option('--measurements <file>', 'measured per-event figures (default: the pipeline\'s: perf/cost-measurements.json for adtech, perf/cost-measurements.<pipeline>.json for another, written by npm run bench -- cost --measure [--pipeline <name>])')
  .option('--json', 'print the report as JSON')
  .action((opts: { eventsPerSecond: number; eventsPerRequest: number; eventMix?: string; region: string; template?: string; tableCapacity?: TableCapacityMode; context?: string[]; measurements?: string; json?: boolean }) => {
    let report;
    try {
      const cost = costModule();
      const context = opts.context && cost.parseContext(opts.context);
      report = cost.runCost(join(BIN_DIR, '..'), { eventsPerSecond: opts.eventsPerSecond, eventsPerRequest: opts.eventsPerRequest, eventMix: opts.eventMix, region: opts.region, template: opts.template && resolve(opts.template), tableCapacity: opts.tableCapacity, context, measurements: opts.measurements && resolve(opts.measurements) });
    } catch (err) {
      throw new UserError((err as Error).message);
    }
    process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatCostReport(report)}\n`);
  });

program
  .command('train')
  .description("train the bid-win model now on the lake's auctions whose outcome is known (bids at least 5 minutes old); deploy it if it passes the quality gate")
  .addOption(dataDirOption())
  .addOption(new Option('--wait <seconds>', 'first wait up to this long for events in flight to reach the lake').default(300).argParser(nonNegativeInt('wait')))
  .addOption(new Option('--floor <auc>', 'held-out AUC the model must reach to be deployed').env('MODEL_AUC_FLOOR').default(settings.modelAucFloor.default).argParser(Number))
  .option('--json', 'print the training report as JSON')
  .action(async (opts: { dataDir: string; floor: number; wait: number; json?: boolean }) => {
    const outputs = await requireRunningPlatform(opts.dataDir);
    if (!(opts.floor >= 0 && opts.floor <= 1)) throw new UserError('--floor must be an AUC between 0 and 1');
    // An auction read while its impression is still in flight would be labelled lost.
    const inFlight = await waitForInFlight(outputs, opts.wait, ['lake-writer-events']);
    if (inFlight > 0) throw new UserError(`${inFlight} events still on their way to the lake after ${opts.wait} s: train when it has caught up (sdp status shows the lake writer's lag), or pass a longer --wait`);
    const s3 = emulators().emulatorS3Client(outputs.S3Endpoint);
    const { trainingSummary } = lazy<typeof import('../local/training-job')>('local/training-job');
    const { trainModel } = lazy<typeof import('../local/trainer')>('local/trainer');
    const { localLakeRoot } = lakeSql();
    let report: TrainingReport;
    try {
      report = await runJob(outputs.DataDir, TRAINING_JOB, 'sdp train', async () => {
        const r = await trainModel({ lakeRoot: localLakeRoot(outputs.DataDir), s3, bucket: lakeBucket.name, aucFloor: opts.floor, onProgress: (m) => process.stderr.write(`${m}\n`) });
        return Object.assign(r, trainingSummary(r));
      });
    } catch (err) {
      throw new UserError(`training failed: ${(err as Error).message}`);
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    console.log(`${report.auctions} auctions with a known outcome (bids up to ${new Date(Date.parse(report.knownBefore) - OUTCOME_WINDOW_MS).toISOString()})`);
    console.log(`model ${report.version}: held-out AUC ${report.metrics.auc.toFixed(4)}, log loss ${report.metrics.logLoss.toFixed(4)} on ${report.holdoutRows} auctions (trained on ${report.trainingRows} in ${report.trainingSeconds.toFixed(1)} s)`);
    console.log(`${report.decision.deploy ? 'deployed' : 'not deployed'}: ${report.decision.reason}`);
  });

program
  .command('jobs')
  .description('list the recorded runs of scheduled jobs (compaction, training)')
  .addOption(dataDirOption())
  .option('--json', 'print the runs as JSON')
  .action((opts: { dataDir: string; json?: boolean }) => {
    const dataDir = requirePlatformData(opts.dataDir);
    const runs = recordedJobs(dataDir).flatMap((job) => jobRuns(dataDir, job)).sort((a, b) => a.started_at.localeCompare(b.started_at));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return;
    }
    const rows = runs.map((r) => ({ job: r.job, started_at: r.started_at, seconds: ((Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000).toFixed(1), trigger: r.trigger, outcome: r.outcome, detail: r.error ?? JSON.stringify(r.figures ?? {}) }));
    console.log(formatTable({ columns: ['job', 'started_at', 'seconds', 'trigger', 'outcome', 'detail'], rows }));
  });

/** `sdp dlq list`: the command's name as typed, for hints. */
function commandPath(command: Command): string {
  return command.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

/** A usage error (unknown option, bad argument) is one line naming where to read more, never the whole usage. */
function oneLineUsageErrors(command: Command): void {
  command.configureOutput({ outputError: (message, write) => write(`sdp: ${message.trim().replace(/\s*\n\s*/g, ' ')} (see ${commandPath(command)} --help)\n`) });
  command.commands.forEach(oneLineUsageErrors);
}
oneLineUsageErrors(program);

// `sdp` alone prints the commands (the same text as `sdp --help`) and exits 0: asking what there is is no error.
if (process.argv.length <= 2) {
  program.outputHelp();
  process.exit(0);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`sdp: ${message}\n`);
  if (!(err instanceof UserError) && process.env.SDP_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
