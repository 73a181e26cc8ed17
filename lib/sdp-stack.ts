// The sdp stack: the ingestion API, the events stream, the aggregator with its tables and the aggregates stream, and the reports API.
import { CfnOutput, CfnParameter, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { settings } from '../schemas/resources';
import { Aggregator } from './aggregator';
import { DataStream } from './data-stream';
import { IngestionApi } from './ingestion-api';
import { REPORTS_PATH, ReportsApi } from './reports-api';
import { StateTables } from './state-tables';

export class SdpStack extends Stack {
  public readonly eventsStream: DataStream;
  public readonly aggregatesStream: DataStream;
  public readonly stateTables: StateTables;
  public readonly ingestionApi: IngestionApi;
  public readonly aggregator: Aggregator;
  public readonly reportsApi: ReportsApi;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, {
      description: 'sdp: streaming data platform (ingestion, events stream, aggregation, aggregates stream, reports)',
      ...props,
    });

    const aggregationPeriod = new CfnParameter(this, 'AggregationPeriod', {
      type: 'Number',
      default: settings.aggregationPeriodSeconds.default,
      minValue: 1,
      description: 'Length of an aggregation window, in seconds',
    });
    const shardCount = new CfnParameter(this, 'StreamShardCount', {
      type: 'Number',
      default: 1,
      minValue: 1,
      description: 'Shards of the events stream (1 MB/s or 1000 records/s of writes each)',
    });

    this.eventsStream = new DataStream(this, 'Events', {
      shardCount: shardCount.valueAsNumber,
      // A week to replay from: the aggregator's dead-letter queue holds positions, not records.
      retentionPeriod: Duration.days(7),
    });
    this.aggregatesStream = new DataStream(this, 'Aggregates');
    this.stateTables = new StateTables(this, 'State');
    this.ingestionApi = new IngestionApi(this, 'Ingestion', { eventsStream: this.eventsStream.stream });
    this.aggregator = new Aggregator(this, 'Aggregation', {
      eventsStream: this.eventsStream.stream,
      aggregatesStream: this.aggregatesStream.stream,
      txStateTable: this.stateTables.txState,
      aggregatesTable: this.stateTables.aggregates,
      aggregationPeriodSeconds: aggregationPeriod.valueAsString,
    });
    this.reportsApi = new ReportsApi(this, 'Reporting', {
      restApi: this.ingestionApi.restApi,
      aggregatesTable: this.stateTables.aggregates,
    });

    const baseUrl = this.ingestionApi.restApi.url;
    new CfnOutput(this, 'UrlForAPI', { value: baseUrl, description: 'Base URL of the API' });
    new CfnOutput(this, 'UrlForReports', {
      value: `${baseUrl}${REPORTS_PATH}/`,
      description: 'Base URL of the campaign reports; append a campaign_item_id',
    });
  }
}
