/**
 * The whole platform on one machine: emulators for Kinesis, DynamoDB and S3 in worker threads,
 * the resources provisioned from schemas/resources.ts, the unchanged Lambda handlers behind a local
 * API server on the main thread, and the stream consumers (a poller per consumer feeding its
 * handler) in worker threads of their own: one for the aggregator, one for the lake writer. Everything binds to 127.0.0.1 and keeps its
 * data under one directory, so a restart resumes where the last run stopped.
 */
import { periodSetting } from '../lambdas/aggregator/aggregations';
import type { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { aggregatorMapping, lakeBucket, lakeWriterMapping, modelEndpoint, readSetting, settings, streams, tables } from '../schemas/resources';
import { ApiServer, type ProxyHandler, type Route } from './api-server';
import { ConsumerThread } from './consumers';
import { withDeadline, type ThreadPriority } from './threads';
import { ARM_FAULTS, threadFaultsSet } from './faults';
import type { ConsumerState, ConsumerWorkerData } from './consumer-worker';
import { Scheduler } from './scheduler';
import { jobRuns, TRAINING_JOB } from './jobs';
import { ModelServer, SERVING_FIGURES_PATH } from './model-server';
import { startEmulator, type Emulator } from './emulators';
import { ensureBucket, ensureStream, ensureTable } from './provision';
import { healthRoute, type HealthSources } from './health';
import { apiIndex, ingestRoute, reportRoutes } from '../schemas/api-index';
import { activePipeline, loadPipelines, PIPELINES_ENV, pipelineEnv, usePipeline } from '../schemas/active-pipeline';
import { hasModel, type Pipeline } from '../schemas/pipeline';
import { DataDirLock } from './data-dir-lock';
import { DEFAULT_SHARDS } from './shard-limits';
import { OUTPUTS_FILE, PIPELINES_FILE, type PlatformOutputs } from './platform-outputs';
import { AggregateFeed } from './aggregate-feed';
import { CONSOLE_PATH, consoleRoutes } from './console-site';
import { LiveChannel } from './live';
import { servingEnv } from '../schemas/serving';
import { operationsStatus } from './operations-status';
import { RejectionLog, recordingRejections } from './rejections';
import { reshardUniform } from './reshard';
import { kinesis as kinesisClient, dynamo as dynamoClient } from '../lambdas/commons/clients';
import { s3 as s3Client } from '../lambdas/commons/s3';
import { checkStateFiles, checkStores } from './state-check';
import { checkPipelineSchemas } from './pipeline-schemas';

export { DEFAULT_SHARDS } from './shard-limits';
export { runningPlatformOutputs, type PlatformOutputs } from './platform-outputs';
const REGION = 'us-east-1';

export interface PlatformOptions {
  dataDir: string;
  /**
   * The pipelines to run (shipped names or pipeline files, schemas/active-pipeline.ts). Unset: the
   * process's active pipeline (SDP_PIPELINES, else adtech). Worker threads run the same
   * (threads.ts gives them pipelineEnv()).
   */
  pipelines?: readonly string[];
  port: number;
  /**
   * Shards of the events stream: a new stream is created with this many (DEFAULT_SHARDS when
   * unset); an existing one with another count is resharded to it, as a deploy with another
   * StreamShardCount does. Unset keeps an existing stream as it is.
   */
  shards?: number;
  aggregationPeriodSeconds?: number;
  logLevel?: string;
  /** Minutes between scheduled compactions of the lake; 0 turns the schedule off. */
  compactionIntervalMinutes?: number;
  /** Minutes between checks for retraining the model behind /predictions; 0 turns the schedule off. */
  retrainIntervalMinutes?: number;
  /** Require this key in x-api-key on the ingestion routes, as API Gateway does in AWS; unset: no check. */
  apiKey?: string;
  /** False runs kinesalite and dynalite as published, without the platform's speed-ups (for benches). */
  emulatorSpeedups?: boolean;
  log?: (line: string) => void;
  /**
   * A part died that cannot be restarted (an emulator thread), or was restarted too often (a
   * consumer thread): the platform is no longer whole and must end. Called once, with a one-line
   * reason; `sdp local` stops the platform and exits 1. Default: log the reason and stop.
   */
  onFatal?: (reason: string) => void;
}

/**
 * Deadlines of stop(), per part, within the 10 s a Ctrl-C or SIGTERM may take: the API's requests
 * in flight, the consumers' batches in progress (then their threads are terminated: their
 * checkpoints say where to resume), the scheduled jobs, the emulator threads.
 */
const STOP_DEADLINES_MS = { api: 2500, jobs: 1000, consumers: 4000, emulators: 1500 } as const;


/**
 * The environment the handlers run with against a local platform's emulators: what Lambda's
 * configuration gives them in AWS. Also used by commands that run a handler's code beside a
 * running platform (sdp dlq redrive).
 */
export function handlerEnvironment(
  platform: Pick<PlatformOutputs, 'KinesisEndpoint' | 'DynamoDBEndpoint' | 'S3Endpoint' | 'DataDir'>,
  options: { logLevel?: string; aggregationPeriodSeconds?: number } = {},
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: REGION,
    // s3rver accepts only these; kinesalite and dynalite accept any.
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_KINESIS: platform.KinesisEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: platform.DynamoDBEndpoint,
    AWS_ENDPOINT_URL_S3: platform.S3Endpoint,
    [streams.events.env]: streams.events.name,
    [streams.aggregates.env]: streams.aggregates.name,
    [tables.txState.env]: tables.txState.name,
    [tables.aggregates.env]: tables.aggregates.name,
    [tables.lakeSeen.env]: tables.lakeSeen.name,
    [tables.aggregatorJournal.env]: tables.aggregatorJournal.name,
    [lakeBucket.env]: lakeBucket.name,
    [modelEndpoint.env]: modelEndpoint.name,
    SDP_LOCAL_DATA_DIR: platform.DataDir,
    POWERTOOLS_SERVICE_NAME: 'sdp',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'WARN',
  };
  if (options.aggregationPeriodSeconds !== undefined) env[settings.aggregationPeriodSeconds.env] = String(options.aggregationPeriodSeconds);
  const pipelines = join(platform.DataDir, PIPELINES_FILE);
  if (existsSync(pipelines)) env[PIPELINES_ENV] = readFileSync(pipelines, 'utf8').trim();
  return env;
}


/** The predict function's calls and run times, as Lambda's Invocations and Duration measure them in AWS. */
function measuringCalls(handler: ProxyHandler, modelServer: ModelServer): ProxyHandler {
  return async (event) => {
    const started = performance.now();
    try {
      return await handler(event);
    } finally {
      modelServer.recordPredictCall(performance.now() - started);
    }
  };
}

/** The pid of the platform running on a data dir, as information for people: the lock is data-dir-lock.ts. */
const PID_FILE = 'sdp.pid';

export class LocalPlatform {
  private emulators: Emulator[] = [];
  private consumers: ConsumerThread[] = [];
  private scheduler?: Scheduler;
  private modelServer?: ModelServer;
  private api?: ApiServer;
  private live?: LiveChannel;
  private lock?: DataDirLock;
  /** Why the platform had to end, once a part died for good. */
  failed?: string;
  outputs?: PlatformOutputs;

  constructor(private readonly options: PlatformOptions) {}

  private log(line: string): void {
    (this.options.log ?? console.log)(line);
  }

  /** The declared model's routes and status panel, its handlers loaded once their configuration is set. */
  private loadModelParts(modelServer: ModelServer, s3: S3Client): { routes: Route[]; view: () => Promise<unknown> } {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const predict = (require('../lambdas/predict/handler') as typeof import('../lambdas/predict/handler')).handler;
    const models = (require('../lambdas/models/handler') as typeof import('../lambdas/models/handler')).handler;
    const { currentModelView } = require('../lambdas/models/current-model') as typeof import('../lambdas/models/current-model');
    /* eslint-enable @typescript-eslint/no-require-imports */
    return {
      routes: [
        { method: 'POST', resource: '/predictions', handler: measuringCalls(predict, modelServer), apiKeyRequired: true },
        { method: 'GET', resource: '/models/current', handler: models },
      ],
      view: () => currentModelView(s3, lakeBucket.name),
    };
  }

  private async reshardEvents(kinesis: KinesisClient, shards: number): Promise<void> {
    let announced = false;
    const { from } = await reshardUniform(kinesis, streams.events.name, shards, (step) => {
      if (!announced) this.log(`resharding the events stream to ${shards} shards`);
      announced = true;
      this.log(`  ${step}`);
    });
    if (announced) this.log(`events stream resharded from ${from} to ${shards} shards; its consumers read the old shards to their ends first`);
  }

  async start(): Promise<PlatformOutputs> {
    const dataDir = resolve(this.options.dataDir);
    mkdirSync(dataDir, { recursive: true });
    this.lock = await DataDirLock.acquire(dataDir);
    writeFileSync(join(dataDir, PID_FILE), String(process.pid));
    try {
      return await this.startIn(dataDir);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startIn(dataDir: string): Promise<PlatformOutputs> {
    if (this.options.pipelines !== undefined) {
      const { pipeline, files } = loadPipelines(this.options.pipelines);
      usePipeline(pipeline, files);
    }
    const pipeline = activePipeline();
    const running = pipelineEnv()[PIPELINES_ENV];
    if (running !== undefined) writeFileSync(join(dataDir, PIPELINES_FILE), `${running}\n`);
    else rmSync(join(dataDir, PIPELINES_FILE), { force: true });
    for (const warning of checkStateFiles(dataDir)) this.log(warning);
    checkPipelineSchemas(dataDir, activePipeline());
    this.log(`starting emulators in ${dataDir}`);
    const [kinesisEmu, dynamoEmu, s3Emu] = await Promise.all([
      startEmulator('kinesis', dataDir, 0, this.options.emulatorSpeedups),
      startEmulator('dynamodb', dataDir, 0, this.options.emulatorSpeedups),
      startEmulator('s3', dataDir),
    ]);
    this.emulators = [kinesisEmu, dynamoEmu, s3Emu];
    for (const emulator of this.emulators) emulator.watch((reason) => this.fatal(reason));
    this.configureEnvironment(kinesisEmu.endpoint, dynamoEmu.endpoint, s3Emu.endpoint, dataDir);
    await checkStores(dataDir, { dynamo: dynamoClient(), s3: s3Client() });

    const clientConfig = { region: REGION, requestHandler: new NodeHttpHandler() };
    const kinesis = new KinesisClient(clientConfig);
    await ensureStream(kinesis, streams.events, this.options.shards ?? DEFAULT_SHARDS);
    if (this.options.shards !== undefined) await this.reshardEvents(kinesis, this.options.shards);
    await ensureStream(kinesis, streams.aggregates, 1);
    const dynamo = new DynamoDBClient(clientConfig);
    await Promise.all(Object.values(tables).map((t) => ensureTable(dynamo, t)));
    const s3 = new S3Client({ ...clientConfig, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    await ensureBucket(s3, lakeBucket.name);
    // The shipped model's parts, only when an active pipeline declares it (PipelineDeclaration.model).
    const withModel = hasModel(pipeline);
    if (withModel) {
      this.modelServer = new ModelServer(s3, lakeBucket.name, modelEndpoint.name);
      const modelServerUrl = await this.modelServer.listen();
      process.env.AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME = modelServerUrl;
      // GET /models/current reads the serving figures from the model server (CloudWatch in AWS).
      process.env[servingEnv.localFiguresUrl] = `${modelServerUrl}${SERVING_FIGURES_PATH}`;
    }

    // The handlers read their configuration when loaded, so they are loaded after it is set.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const ingest = (require('../lambdas/ingest/handler') as typeof import('../lambdas/ingest/handler')).handler;
    const reports = (require('../lambdas/reports/handler') as typeof import('../lambdas/reports/handler')).handler;
    /* eslint-enable @typescript-eslint/no-require-imports */
    const modelParts = this.modelServer ? this.loadModelParts(this.modelServer, s3) : undefined;

    const onError = (message: string, err: unknown) => this.log(`error: ${message}: ${(err as Error)?.message ?? err}`);
    // One thread per consuming function, as each is its own Lambda in AWS: the aggregator's batches
    // do not wait behind the lake writer's Parquet encoding, so reports stay fresh under load. When
    // the cores are all busy, the API comes first, then the aggregator, then the lake writer.
    const thread = (name: string, consumers: ConsumerWorkerData['consumers'], priority: ThreadPriority) =>
      ConsumerThread.start(name, { dataDir, region: REGION, consumers }, { priority, log: (line) => this.log(line), onFatal: (reason) => this.fatal(reason) });
    // The lake writer's batching window, as its event source mapping has it in AWS unless the
    // environment sets another (LAKE_BATCHING_WINDOW_SECONDS; tests that read the lake at once).
    const lakeMapping = { ...lakeWriterMapping, maxBatchingWindowSeconds: readSetting('lakeBatchingWindowSeconds') };
    // The aggregator's, likewise (REPORTS_BATCHING_WINDOW_SECONDS; none by default, as in AWS).
    const aggregatorBatching = { ...aggregatorMapping, maxBatchingWindowSeconds: readSetting('reportsBatchingWindowSeconds') };
    const started = await Promise.allSettled([
      thread('aggregator', [{ name: 'aggregator', handlerModule: '../lambdas/aggregator/handler', streamName: streams.events.name, mapping: aggregatorBatching }], 'aggregating'),
      thread('lake-writer', [
        { name: 'lake-writer-events', handlerModule: '../lambdas/lake-writer/handler', streamName: streams.events.name, mapping: lakeMapping },
        { name: 'lake-writer-aggregates', handlerModule: '../lambdas/lake-writer/handler', streamName: streams.aggregates.name, mapping: lakeMapping },
      ], 'background'),
    ]);
    this.consumers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const jobs = withModel ? ['compaction', TRAINING_JOB] : ['compaction'];
    const health: HealthSources = {
      emulators: this.emulators,
      consumers: () => this.consumerStatus(),
      jobs: () => Object.fromEntries(jobs.map((job) => [job, jobRuns(dataDir, job)])),
    };
    const rejections = new RejectionLog();
    const ingestRecorded = recordingRejections(ingest, rejections);
    this.live = new LiveChannel({
      feed: new AggregateFeed({ kinesis: kinesisClient(), db: dynamoClient(), table: tables.aggregates.name, stream: streams.aggregates.name, onError }),
      status: () => operationsStatus({ dataDir, health, jobs, rejections, ...(modelParts && { model: modelParts.view }) }),
      onError,
    });

    const routes: Route[] = [
      // Derived from the pipeline: one ingestion route per stream (it needs the API key when one is
      // configured, as in AWS) and a pair of report routes per aggregation; reports and health need no key.
      ...pipelineRoutes(pipeline, ingestRecorded, reports),
      ...(modelParts?.routes ?? []),
      healthRoute(health),
      indexRoute(),
      ...consoleRoutes(),
    ];
    this.api = new ApiServer({ routes, onError, apiKey: this.options.apiKey, streamRoutes: [this.live.route] });
    const port = await this.api.listen(this.options.port);
    const base = `http://127.0.0.1:${port}/`;
    this.scheduler = new Scheduler(dataDir, (line) => this.log(line));
    this.scheduler.start([
      { name: 'compaction', handlerModule: '../lambdas/compaction/handler', intervalMs: (this.options.compactionIntervalMinutes ?? 10) * 60_000 },
      ...(withModel ? [{ name: TRAINING_JOB, handlerModule: './training-job', intervalMs: (this.options.retrainIntervalMinutes ?? 30) * 60_000 }] : []),
    ]);
    this.outputs = {
      UrlForAPI: base,
      UrlForReports: `${base}reports/${pipeline.aggregations[0] ? `${pipeline.aggregations[0].route}/` : ''}`,
      ...(withModel && { UrlForPredictions: `${base}predictions` }),
      UrlForConsole: `${base}${CONSOLE_PATH.slice(1)}`,
      DataDir: dataDir,
      KinesisEndpoint: kinesisEmu.endpoint,
      DynamoDBEndpoint: dynamoEmu.endpoint,
      S3Endpoint: s3Emu.endpoint,
      AllowedLatenessSeconds: readSetting('allowedLatenessSeconds'),
      // Only when it overrides the periods the aggregations declare (the redrive then uses it too).
      AggregationPeriodSeconds: this.options.aggregationPeriodSeconds ?? periodSetting(),
    };
    writeFileSync(join(dataDir, OUTPUTS_FILE), JSON.stringify(this.outputs, null, 2));
    // Only now do CLI commands find it running (runningPlatformOutputs), with these outputs.
    this.lock?.setUrl(base);
    if (threadFaultsSet()) {
      for (const e of this.emulators) e.worker.postMessage({ type: ARM_FAULTS });
      for (const c of this.consumers) c.armFaults();
    }
    return this.outputs;
  }

  private configureEnvironment(kinesis: string, dynamodb: string, s3: string, dataDir: string): void {
    const period = this.options.aggregationPeriodSeconds;
    Object.assign(process.env, handlerEnvironment({ KinesisEndpoint: kinesis, DynamoDBEndpoint: dynamodb, S3Endpoint: s3, DataDir: dataDir }, {
      logLevel: this.options.logLevel,
      ...(period !== undefined && { aggregationPeriodSeconds: period }),
    }));
  }

  /** The platform's worker threads by name, for measuring them. */
  threads(): { name: string; worker: Worker }[] {
    return [
      ...this.emulators.map((e) => ({ name: e.kind, worker: e.worker })),
      ...this.consumers.map((c) => ({ name: c.name, worker: c.worker })),
    ];
  }

  /** Each stream consumer's status (shards, invocations, records, handler time), by consumer name: for health and benches. */
  async consumerStatus(): Promise<Record<string, ConsumerState>> {
    return Object.assign({}, ...(await Promise.all(this.consumers.map((c) => c.status()))));
  }

  /** Emulator request counts, by emulator and operation. */
  async requestStats(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const e of this.emulators) out[e.kind] = await e.stats();
    return out;
  }

  /** A part died for good: the platform ends, never half alive. */
  private fatal(reason: string): void {
    if (this.failed) return;
    this.failed = reason;
    if (this.options.onFatal) return this.options.onFatal(reason);
    this.log(`error: ${reason}; stopping the platform`);
    void this.stop();
  }

  /**
   * Stops every part, each within its deadline (STOP_DEADLINES_MS), whatever state it is in: a
   * consumer thread that does not finish its batch in time, or is hung or dead, is terminated.
   */
  async stop(): Promise<void> {
    const warn = (err: Error) => this.log(`warning: ${err.message}`);
    const api = async () => {
      await this.live?.close();
      await this.api?.close(STOP_DEADLINES_MS.api - 500);
    };
    await withDeadline(api(), STOP_DEADLINES_MS.api, 'the API server closing').catch(warn);
    await withDeadline(this.scheduler?.stop(STOP_DEADLINES_MS.jobs) ?? Promise.resolve(), STOP_DEADLINES_MS.jobs + 1500, 'the scheduled jobs').catch(warn);
    await withDeadline(this.modelServer?.close() ?? Promise.resolve(), 500, 'the model server closing').catch(warn);
    await Promise.all(this.consumers.map((c) => c.stop(STOP_DEADLINES_MS.consumers)));
    await Promise.all(this.emulators.map((e) => e.stop(STOP_DEADLINES_MS.emulators)));
    if (this.lock) {
      const pidFile = join(resolve(this.options.dataDir), PID_FILE);
      if (existsSync(pidFile) && readFileSync(pidFile, 'utf8') === String(process.pid)) rmSync(pidFile, { force: true });
      await this.lock.release();
      this.lock = undefined;
    }
  }
}

/** The routes a pipeline derives (as schemas/api-index.ts lists them): ingestion per stream, reports per aggregation. */
function pipelineRoutes(pipeline: Pipeline, ingest: ProxyHandler, reports: ProxyHandler): Route[] {
  return [
    ...pipeline.streams.map(ingestRoute).map((r): Route => ({ method: r.method, resource: r.path, handler: ingest, apiKeyRequired: r.apiKey })),
    ...pipeline.aggregations.flatMap(reportRoutes).map((r): Route => ({ method: r.method, resource: r.path, handler: reports })),
  ];
}

/** GET /: the API's index (schemas/api-index.ts), as the root resource answers in AWS. */
function indexRoute(): Route {
  const body = JSON.stringify(apiIndex({ home: 'local' }), null, 2);
  return { method: 'GET', resource: '/', handler: async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body }) };
}
