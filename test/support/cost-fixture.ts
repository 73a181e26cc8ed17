/**
 * A small hand-made stack for the cost tests: one provisioned stream (2 shards through a
 * parameter's default), an ingestion function behind a REST API, an aggregator reading the stream
 * into an on-demand table, two alarms (one of them metric math over two metrics), a dashboard, a
 * KMS key and an IAM role; and measurements with round figures, so the bill can be worked out by hand.
 */
import type { CfnTemplate } from '../../local/cost/template';
import type { Measurements } from '../../local/cost/measurements';

export const smallTemplate: CfnTemplate = {
  Parameters: { ShardCount: { Type: 'Number', Default: 2 } },
  Resources: {
    Stream: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: { Ref: 'ShardCount' }, RetentionPeriodHours: 24, StreamModeDetails: { StreamMode: 'PROVISIONED' } } },
    Ingest: {
      Type: 'AWS::Lambda::Function',
      Properties: { MemorySize: 1024, Architectures: ['arm64'], Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'ingest', EVENTS_STREAM_NAME: { Ref: 'Stream' } } } },
    },
    Aggregator: {
      Type: 'AWS::Lambda::Function',
      Properties: { MemorySize: 512, Architectures: ['x86_64'], Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'aggregator', TX_STATE_TABLE_NAME: { Ref: 'TxState' } } } },
    },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { EventSourceArn: { 'Fn::GetAtt': ['Stream', 'Arn'] }, FunctionName: { Ref: 'Aggregator' }, BatchSize: 1000, MaximumBatchingWindowInSeconds: 0 },
    },
    TxState: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'PAY_PER_REQUEST' } },
    Api: { Type: 'AWS::ApiGateway::RestApi', Properties: {} },
    Post: {
      Type: 'AWS::ApiGateway::Method',
      Properties: { RestApiId: { Ref: 'Api' }, HttpMethod: 'POST', Integration: { Type: 'AWS_PROXY', Uri: { 'Fn::Join': ['', ['arn:', { 'Fn::GetAtt': ['Ingest', 'Arn'] }, '/invocations']] } } },
    },
    Errors: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors', Namespace: 'AWS/Lambda', Period: 300 } },
    ErrorRate: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Metrics: [
          { Id: 'rate', Expression: 'e / n' },
          { Id: 'e', MetricStat: { Metric: { MetricName: '5XXError', Namespace: 'AWS/ApiGateway' }, Period: 300, Stat: 'Sum' } },
          { Id: 'n', MetricStat: { Metric: { MetricName: 'Count', Namespace: 'AWS/ApiGateway' }, Period: 300, Stat: 'Sum' } },
        ],
      },
    },
    Dashboard: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: '{"widgets":[]}' } },
    Key: { Type: 'AWS::KMS::Key', Properties: {} },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
  },
};

export const roundMeasurements: Measurements = {
  measuredAt: '2026-12-05T00:00:00.000Z',
  commit: '0123456789abcdef0123456789abcdef01234567',
  command: 'hand-made for the tests',
  note: 'round figures',
  workload: { events: 1000, auctions: 500, eventsPerRequest: 10, mix: { bid: 0.6, impression: 0.3, click: 0.1 } },
  streams: { events: { recordsPerEvent: 1, bytesPerRecord: 1000 } },
  tables: {
    'tx-state': {
      samples: [{ batchRecords: { aggregator: 5 }, writeUnitsPerEvent: 2, readUnitsPerEvent: 1, itemWritesPerEvent: 2, itemReadsPerEvent: 1, queriesPerEvent: 0 }],
      storedBytesPerEvent: 0,
    },
  },
  buckets: {},
  functions: {
    ingest: { fixedMs: 100, perRecordMs: 0, recordsPerInvocation: 10, logBytesPerInvocation: 0, logBytesPerRecord: 0 },
    aggregator: { fixedMs: 200, perRecordMs: 0, recordsPerInvocation: 5, logBytesPerInvocation: 0, logBytesPerRecord: 0 },
  },
};
