// The sdp stack: the ingestion API, the events stream, the aggregator with its tables and (on request, -c sdp:aggregatesFeed=true) the aggregates stream, the reports API, the data lake (lake writer, compaction, Glue catalog, Athena), and observability (alarms to an SNS topic, the sdp dashboard).
import { Aws, CfnOutput, CfnCondition, CfnParameter, CfnRule, Duration, Fn, Stack, Token, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { contextFlag, contextInteger } from './context';
import { aggregatesFeed, alarmTopicKeyContext, dashboardContext, feedOutput, reportsWindowContext, resourceOutputs, settings, streamRetention } from '../schemas/resources';
import { Aggregator } from './aggregator';
import { Analytics, LAKE_START_DATE_DEFAULT } from './analytics';
import { addApiIndex } from './api-index';
import { Compaction } from './compaction';
import { ConsoleSite } from './console-site';
import { DataLake } from './data-lake';
import { DataStream } from './data-stream';
import { IngestionApi } from './ingestion-api';
import { LakeWriter } from './lake-writer';
import { Observability } from './observability';
import { PREDICTIONS_PATH, PredictionsApi } from './predictions-api';
import { reportsPath, ReportsApi } from './reports-api';
import { stackPipeline } from './stack-pipeline';
import { hasModel } from '../schemas/pipeline';
import { Retraining } from './retraining';
import { SUPPORTED_REGIONS, unsupportedRegionMessage } from './regions';
import { StateTables, tableCapacityFromContext } from './state-tables';

export class SdpStack extends Stack {
  public readonly eventsStream: DataStream;
  /** The aggregates feed's stream, when deployed with -c sdp:aggregatesFeed=true (schemas/resources.ts aggregatesFeed). */
  public readonly aggregatesStream?: DataStream;
  public readonly stateTables: StateTables;
  public readonly ingestionApi: IngestionApi;
  public readonly aggregator: Aggregator;
  public readonly reportsApi: ReportsApi;
  public readonly dataLake: DataLake;
  public readonly lakeWriter: LakeWriter;
  public readonly compaction: Compaction;
  public readonly analytics: Analytics;
  public readonly observability: Observability;
  public readonly consoleSite: ConsoleSite;
  /** The shipped model's retraining, when an active pipeline declares the model (PipelineDeclaration.model). */
  public readonly retraining?: Retraining;
  /** POST /predictions and GET /models/current, likewise. */
  public readonly predictionsApi?: PredictionsApi;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, {
      description: 'sdp: streaming data platform (ingestion, events stream, aggregation, reports, data lake; the aggregates stream on request)',
      ...props,
    });
    this.refuseUnsupportedRegion();
    // `cdk deploy -c sdp:pipelines=adtech,telemetry`: the pipelines whose routes, functions and tables the stack derives.
    const { pipeline } = stackPipeline(this);

    // Each aggregation windows by the period its pipeline declares; AggregationPeriod=N overrides them
    // all (as `sdp local --aggregation-period` does), 0 (the default) keeps the declared ones. The
    // handlers read an empty AGGREGATION_PERIOD_SECONDS as "as declared" (lambdas/aggregator/aggregations.ts periodSetting).
    const aggregationPeriod = new CfnParameter(this, 'AggregationPeriod', {
      type: 'Number',
      default: 0,
      minValue: 0,
      description: "Length of every aggregation window, in seconds, overriding the periods the pipelines declare; 0 (the default): each aggregation's declared period",
    });
    const periodAsDeclared = new CfnCondition(this, 'AggregationPeriodAsDeclared', { expression: Fn.conditionEquals(aggregationPeriod.valueAsString, '0') });
    const aggregationPeriodSetting = Fn.conditionIf(periodAsDeclared.logicalId, '', aggregationPeriod.valueAsString).toString();
    const shardCount = new CfnParameter(this, 'StreamShardCount', {
      type: 'Number',
      default: 1,
      minValue: 1,
      description: 'Shards of the events stream (1 MB/s or 1000 records/s of writes each)',
    });

    this.eventsStream = new DataStream(this, 'Events', {
      shardCount: shardCount.valueAsNumber,
      // How long a dead-lettered batch can be redriven: the dead-letter queues hold positions, not
      // records. 24 h by default (in the shard price); -c sdp:streamRetentionHours=N for longer.
      retentionPeriod: Duration.hours(streamRetentionHours(this)),
    });
    // The feed of every row revision, a shard billed by the hour whether read or not: on request
    // (-c sdp:aggregatesFeed=true). Without it the saved queries answer from the event tables.
    if (contextFlag(this, aggregatesFeed.context, false)) this.aggregatesStream = new DataStream(this, 'Aggregates');
    // `cdk deploy -c sdp:tableCapacity=provisioned`: the tables whose traffic grows with events on auto-scaled provisioned capacity.
    const tableCapacity = tableCapacityFromContext(this);
    this.stateTables = new StateTables(this, 'State', { capacity: tableCapacity });
    this.ingestionApi = new IngestionApi(this, 'Ingestion', { eventsStream: this.eventsStream.stream });
    this.aggregator = new Aggregator(this, 'Aggregation', {
      eventsStream: this.eventsStream.stream,
      aggregatesStream: this.aggregatesStream?.stream,
      txStateTable: this.stateTables.txState,
      aggregatesTable: this.stateTables.aggregates,
      journalTable: this.stateTables.aggregatorJournal,
      aggregationPeriodSeconds: aggregationPeriodSetting,
      // Fresher reports or fewer row writes: settings.reportsBatchingWindowSeconds says what it trades.
      eventSourceProps: {
        maxBatchingWindow: Duration.seconds(
          contextInteger(this, reportsWindowContext, { byDefault: settings.reportsBatchingWindowSeconds.default, min: 0, max: 300 }),
        ),
      },
    });
    this.reportsApi = new ReportsApi(this, 'Reporting', {
      restApi: this.ingestionApi.restApi,
      aggregatesTable: this.stateTables.aggregates,
      aggregationPeriodSeconds: aggregationPeriodSetting,
    });

    this.dataLake = new DataLake(this, 'Lake');
    this.lakeWriter = new LakeWriter(this, 'LakeWriting', {
      lakeBucket: this.dataLake.bucket,
      eventsStream: this.eventsStream.stream,
      aggregatesStream: this.aggregatesStream?.stream,
      tableCapacity,
    });
    this.compaction = new Compaction(this, 'LakeCompaction', { lakeBucket: this.dataLake.bucket });
    // Deploys keep the value given first (cdk deploy reuses a parameter's previous value).
    const lakeStartDate = new CfnParameter(this, 'LakeStartDate', {
      type: 'String',
      default: LAKE_START_DATE_DEFAULT,
      allowedPattern: '^\\d{4}-\\d{2}-\\d{2}$',
      constraintDescription: 'a date, YYYY-MM-DD',
      description: "The lake's first date (YYYY-MM-DD; your first deploy's date, less the maximum event age, 7 days): Athena's partition projection starts there, so queries without a dt filter list no empty days before it",
    });
    this.analytics = new Analytics(this, 'Analytics', {
      lakeBucket: this.dataLake.bucket,
      accessLogsBucket: this.dataLake.accessLogsBucket,
      projectionStartDate: lakeStartDate.valueAsString,
    });

    // The model behind /predictions, when an active pipeline declares it (adtech's):
    // scheduled retraining to a serverless SageMaker endpoint, served at POST /predictions.
    if (hasModel(pipeline)) {
      this.retraining = new Retraining(this, 'Retraining', {
        lakeBucket: this.dataLake.bucket,
        databaseName: this.analytics.databaseName,
        accessLogsBucket: this.dataLake.accessLogsBucket,
      });
      this.predictionsApi = new PredictionsApi(this, 'Predictions', {
        restApi: this.ingestionApi.restApi,
        lakeBucket: this.dataLake.bucket,
        endpointName: this.retraining.endpointName,
      });
    }

    const alarmEmail = new CfnParameter(this, 'AlarmEmail', {
      type: 'String',
      default: '',
      description: 'Email address notified of the alarms (confirm the subscription mail); empty for none',
    });
    this.observability = new Observability(this, 'Observability', {
      restApi: this.ingestionApi.restApi,
      eventsStream: this.eventsStream.stream,
      aggregatesStream: this.aggregatesStream?.stream,
      functions: {
        ingest: this.ingestionApi.ingestFunction.lambdaFunction,
        reports: this.reportsApi.reportsFunction.lambdaFunction,
        aggregator: this.aggregator.aggregatorFunction.lambdaFunction,
        lakeWriter: this.lakeWriter.lakeWriterFunction.lambdaFunction,
        compaction: this.compaction.compactionFunction.lambdaFunction,
      },
      deadLetterQueues: { aggregator: this.aggregator.deadLetterQueue, lakeWriter: this.lakeWriter.deadLetterQueue },
      retraining: this.retraining?.stateMachine,
      tables: {
        'tx state': this.stateTables.txState,
        aggregates: this.stateTables.aggregates,
        'lake seen': this.lakeWriter.lakeSeen,
      },
      alarmEmail: alarmEmail.valueAsString,
      // `cdk deploy -c sdp:alarmTopicKey=true`: the alarm topic under a customer managed key ($1 a month).
      topicKey: contextFlag(this, alarmTopicKeyContext),
      // `cdk deploy -c sdp:dashboard=false`: no dashboard ($3 a month at list price; the alarms stay).
      dashboard: contextFlag(this, dashboardContext, true),
    });

    const baseUrl = this.ingestionApi.restApi.url;
    this.consoleSite = new ConsoleSite(this, 'Console', { apiBaseUrl: baseUrl, accessLogsBucket: this.dataLake.accessLogsBucket });
    addApiIndex(this.ingestionApi.restApi, this.consoleSite.url);
    new CfnOutput(this, 'UrlForAPI', { value: baseUrl, description: 'Base URL of the API (GET: an index of its routes)' });
    new CfnOutput(this, 'UrlForConsole', { value: this.consoleSite.url, description: 'The live console (a static site polling the reports and model routes)' });
    new CfnOutput(this, 'UrlForReports', {
      value: `${baseUrl}${reportsPath(pipeline)}/`,
      description: `Base URL of the ${pipeline.aggregations[0]?.name ?? ''} reports; append ${pipeline.aggregations[0]?.groupBy.map((g) => `a ${g.name}`).join('/') ?? 'an aggregation route'}`,
    });
    if (this.predictionsApi) {
      new CfnOutput(this, 'UrlForPredictions', {
        value: `${baseUrl}${PREDICTIONS_PATH}`,
        description: 'POST prediction requests here (x-api-key required); GET models/current shows the deployed model',
      });
    }
    new CfnOutput(this, 'IngestionApiKeyId', {
      value: this.ingestionApi.apiKey.keyId,
      description: 'ID of the ingestion API key; its value: aws apigateway get-api-key --api-key <id> --include-value',
    });
    const resourceNames: Partial<Record<keyof typeof resourceOutputs, string>> = {
      EventsStreamName: this.eventsStream.stream.streamName,
      AggregatesStreamName: this.aggregatesStream?.stream.streamName,
      TxStateTableName: this.stateTables.txState.tableName,
      AggregatesTableName: this.stateTables.aggregates.tableName,
      AggregatorJournalTableName: this.stateTables.aggregatorJournal.tableName,
      LakeSeenTableName: this.lakeWriter.lakeSeen.tableName,
      LakeBucketName: this.dataLake.bucket.bucketName,
    };
    for (const [key, value] of Object.entries(resourceNames)) {
      if (value === undefined) continue;
      new CfnOutput(this, key, { value, description: `Read by sdp commands that run handler code against this stack (${resourceOutputs[key as keyof typeof resourceOutputs]})` });
    }
    new CfnOutput(this, feedOutput.key, {
      value: this.aggregatesStream ? 'on' : aggregatesFeed.off,
      description: 'Whether the stack has the aggregates stream (deploy with -c sdp:aggregatesFeed=true to have it)',
    });
    const operations: [id: string, value: string, description: string][] = [
      ['AggregatorDeadLetterQueueUrl', this.aggregator.deadLetterQueue.queueUrl, 'Batches the aggregator gave up on (sdp dlq list/redrive --aws)'],
      ['LakeWriterDeadLetterQueueUrl', this.lakeWriter.deadLetterQueue.queueUrl, 'Batches the lake writer gave up on (sdp dlq list/redrive --aws)'],
      ['AthenaWorkGroup', this.analytics.workGroup.ref, 'Athena workgroup for SQL over the lake (sdp query)'],
      ['GlueDatabase', this.analytics.database.ref, 'Glue database of the lake tables (raw_<table>, parquet_<table>)'],
      ['AlarmTopicArn', this.observability.alarmTopic.topicArn, 'SNS topic every alarm notifies (subscribe more endpoints here)'],
    ];
    for (const [id, value, description] of operations) new CfnOutput(this, id, { value, description });
  }

  /**
   * A region without one of the stack's services fails deep inside a deploy (a missing image map
   * entry, a resource type that does not exist there): refuse it up front instead, at synth when
   * the region is known, else by a rule CloudFormation checks before it creates anything.
   */
  private refuseUnsupportedRegion(): void {
    if (!Token.isUnresolved(this.region)) {
      if (!SUPPORTED_REGIONS.includes(this.region)) throw new Error(unsupportedRegionMessage(this.region));
      return;
    }
    new CfnRule(this, 'SupportedRegion', {
      assertions: [
        {
          assert: Fn.conditionContains([...SUPPORTED_REGIONS], Aws.REGION),
          assertDescription: `sdp deploys only to these regions: ${SUPPORTED_REGIONS.join(', ')}`,
        },
      ],
    });
  }
}

/**
 * The events stream's retention, hours: `-c sdp:streamRetentionHours=N` (schemas/resources.ts
 * streamRetention), a whole number from 24 to 8760 ("A Kinesis data stream stores records from 24
 * hours by default, up to 8760 hours (365 days)", Kinesis Developer Guide), else synth fails.
 */
export function streamRetentionHours(scope: Construct): number {
  return contextInteger(scope, streamRetention.context, {
    byDefault: settings.eventsStreamRetentionSeconds.default / 3600,
    min: streamRetention.minHours,
    max: streamRetention.maxHours,
    unit: 'hours',
    why: 'Kinesis keeps records 24 hours to 365 days',
  });
}
