/**
 * The Observability construct in SdpStack's template: every alarm's metric, threshold and action, the alarm topic, the email subscription, the dashboard.
 * The alarm set is what an operator is told about: each symptom once (alarms are billed per metric
 * they read), the metrics left without an alarm still on the dashboard.
 */
import type { CfnElement } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { IConstruct } from 'constructs';
import type { SdpStack } from '../../lib/sdp-stack';
import { aggregatesFeed, unreadableDataMetric } from '../../schemas/resources';
import { synthesize, type Json, type Statement } from './synth';

let stack: SdpStack;
let resources: Record<string, { Type: string; Properties: Json; Condition?: string }>;
let conditions: Record<string, Json>;
let parameters: Record<string, Json>;

beforeAll(() => {
  let template;
  // With the aggregates feed, so its stream's lines on the dashboard are checked (its default, off, in sdp-stack.test.ts).
  ({ stack, template } = synthesize({ bundling: false, context: { [aggregatesFeed.context]: 'true' } }));
  ({ Resources: resources, Conditions: conditions, Parameters: parameters } = template.toJSON());
});

const id = (c: IConstruct): string => stack.getLogicalId(c.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const obs = () => stack.observability;
const topicRef = () => ({ Ref: id(obs().alarmTopic) });
const fnRef = (fn: IConstruct) => ({ Ref: id(fn) });

interface Expected {
  alarm: () => cloudwatch.Alarm;
  namespace: string;
  metricName: string;
  statistic: string;
  dimensions: () => Json[];
  threshold: number;
  treatMissingData: string;
}

const fns = () => ({
  ingest: stack.ingestionApi.ingestFunction.lambdaFunction,
  reports: stack.reportsApi.reportsFunction.lambdaFunction,
  aggregator: stack.aggregator.aggregatorFunction.lambdaFunction,
  lakeWriter: stack.lakeWriter.lakeWriterFunction.lambdaFunction,
  compaction: stack.compaction.compactionFunction.lambdaFunction,
});
type FnKey = keyof ReturnType<typeof fns>;
const FN_KEYS: FnKey[] = ['ingest', 'reports', 'aggregator', 'lakeWriter', 'compaction'];

const lambdaAlarm = (alarm: () => cloudwatch.Alarm, fn: FnKey, metricName: string, statistic: string, threshold: number): Expected => ({
  alarm,
  namespace: 'AWS/Lambda',
  metricName,
  statistic,
  dimensions: () => [{ Name: 'FunctionName', Value: fnRef(fns()[fn]) }],
  threshold,
  treatMissingData: 'notBreaching',
});
const streamAlarm = (alarm: () => cloudwatch.Alarm, stream: () => IConstruct, metricName: string): Expected => ({
  alarm,
  namespace: 'AWS/Kinesis',
  metricName,
  statistic: 'Sum',
  dimensions: () => [{ Name: 'StreamName', Value: fnRef(stream()) }],
  threshold: 0,
  treatMissingData: 'notBreaching',
});
const dlqAlarm = (alarm: () => cloudwatch.Alarm, queue: () => IConstruct): Expected => ({
  alarm,
  namespace: 'AWS/SQS',
  metricName: 'ApproximateNumberOfMessagesVisible',
  statistic: 'Maximum',
  dimensions: () => [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(queue()), 'QueueName'] } }],
  threshold: 0,
  // Stays in ALARM until the queue reports it is drained.
  treatMissingData: 'ignore',
});
const customAlarm = (alarm: () => cloudwatch.Alarm, service: string, metricName: string, statistic: string, threshold: number): Expected => ({
  alarm,
  namespace: 'sdp',
  metricName,
  statistic,
  dimensions: () => [{ Name: 'service', Value: service }],
  threshold,
  treatMissingData: 'notBreaching',
});

const expected: Record<string, Expected> = {
  EventsStreamWriteThrottled: streamAlarm(() => obs().eventsWriteThrottleAlarm, () => stack.eventsStream.stream, 'WriteProvisionedThroughputExceeded'),
  AggregatorIteratorAge: lambdaAlarm(() => obs().aggregatorIteratorAgeAlarm, 'aggregator', 'IteratorAge', 'Maximum', 60_000),
  LakeWriterIteratorAge: lambdaAlarm(() => obs().lakeWriterIteratorAgeAlarm, 'lakeWriter', 'IteratorAge', 'Maximum', 15 * 60_000),
  AggregatorDeadLetters: dlqAlarm(() => obs().aggregatorDlqAlarm, () => stack.aggregator.deadLetterQueue),
  LakeWriterDeadLetters: dlqAlarm(() => obs().lakeWriterDlqAlarm, () => stack.lakeWriter.deadLetterQueue),
  LateEvents: customAlarm(() => obs().lateEventsAlarm, 'aggregator', 'LateEvents', 'Sum', 100),
  Freshness: customAlarm(() => obs().freshnessAlarm, 'aggregator', 'Freshness', 'Maximum', 120_000),
  // One alarm for the lake writer's undecodable records and compaction's unreadable files: the metric both publish (service lake).
  UnreadableData: customAlarm(() => obs().unreadableDataAlarm, unreadableDataMetric.service, unreadableDataMetric.name, 'Sum', 0),
};

describe('alarms', () => {
  it.each(Object.entries(expected))('%s: its metric over 5 minutes, > threshold, notifying the topic', (_name, e) => {
    const alarm = resources[id(e.alarm())];
    expect(alarm.Type).toBe('AWS::CloudWatch::Alarm');
    expect(alarm.Properties).toMatchObject({
      Namespace: e.namespace,
      MetricName: e.metricName,
      Statistic: e.statistic,
      Period: 300,
      Dimensions: e.dimensions(),
      Threshold: e.threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: e.treatMissingData,
      AlarmActions: [topicRef()],
      OKActions: [topicRef()],
    });
    expect(alarm.Properties.AlarmDescription.length).toBeGreaterThan(60);
  });

  it('API 5XX rate: the 5XXError metric\'s Average (API Gateway: "the 5XXError error rate"), > 1 %, one metric billed', () => {
    const alarm = resources[id(obs().apiServerErrorRateAlarm)].Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: [{ Name: 'ApiName', Value: stack.ingestionApi.restApi.restApiName }],
      Statistic: 'Average',
      Period: 300,
      Threshold: 0.01,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
    });
    expect(alarm.Metrics).toBeUndefined();
  });

  it('retraining: failed runs of the state machine, one metric (it has no execution timeout: a step past its bound fails the run; an aborted run is an operator\'s StopExecution)', () => {
    const alarm = resources[id(obs().retrainingFailedAlarm!)].Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: id(stack.retraining!.stateMachine) } }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
    });
    expect(alarm.Metrics).toBeUndefined();
  });

  it('compaction: a failed run is sent to the topic by Lambda (the on-failure destination of its scheduled invocations), no alarm', () => {
    const config = resources[stack.getLogicalId(obs().compactionFailures)];
    expect(config.Type).toBe('AWS::Lambda::EventInvokeConfig');
    expect(config.Properties).toMatchObject({
      FunctionName: fnRef(fns().compaction),
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: topicRef() } },
    });
    const role = fns().compaction.role!;
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as Json[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: id(role) })))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Resource: topicRef() }));
    const body = JSON.stringify(resources[id(obs().dashboard!)].Properties.DashboardBody);
    expect(body).toContain('DestinationDeliveryFailures');
  });

  it('4XX is not alarmed', () => {
    expect(JSON.stringify(ofType('AWS::CloudWatch::Alarm'))).not.toContain('4XXError');
  });

  it('unreadable data: the description sends the operator to errors/ and to the compaction logs', () => {
    const description = resources[id(obs().unreadableDataAlarm)].Properties.AlarmDescription as string;
    expect(description).toContain('errors/');
    expect(description).toMatch(/Compaction.*ERROR log/);
  });

  it('are exactly those listed here, each exposed by the construct: 10 alarms reading 10 metrics', () => {
    const exposed = [obs().apiServerErrorRateAlarm, obs().retrainingFailedAlarm!, ...Object.values(expected).map((e) => e.alarm())].map(id).sort();
    expect(ofType('AWS::CloudWatch::Alarm').map(([logicalId]) => logicalId).sort()).toEqual(exposed);
    expect(obs().alarms.map(id).sort()).toEqual(exposed);
    const names = ofType('AWS::CloudWatch::Alarm').map(([, a]) => (a.Properties.AlarmName as string).replace(/^SdpStack-/, '')).sort();
    expect(names).toEqual([
      'AggregatorDeadLetters', 'AggregatorIteratorAge', 'ApiServerErrorRate',
      'EventsStreamWriteThrottled', 'Freshness', 'LakeWriterDeadLetters', 'LakeWriterIteratorAge',
      'LateEvents', 'RetrainingFailed', 'UnreadableData',
    ]);
    const metricsRead = ofType('AWS::CloudWatch::Alarm').reduce((n, [, a]) => n + (a.Properties.Metrics ? (a.Properties.Metrics as Json[]).filter((m) => m.MetricStat).length : 1), 0);
    expect(metricsRead).toBe(10);
  });

  it('leave no metric unwatched that an operator needs: what has no alarm is on the dashboard', () => {
    const body = JSON.stringify(resources[id(obs().dashboard!)].Properties.DashboardBody);
    for (const name of ['Throttles', 'Errors', 'ReadProvisionedThroughputExceeded', 'WriteProvisionedThroughputExceeded']) expect(body).toContain(name);
    for (const k of FN_KEYS) expect(body).toContain(JSON.stringify(fnRef(fns()[k])));
    expect(body).toContain(JSON.stringify(fnRef(stack.aggregatesStream!.stream)));
  });
});

describe('alarm topic', () => {
  it('has no customer managed key by default ($1 a month; alarm notifications carry no event data)', () => {
    expect(obs().topicKey).toBeUndefined();
    expect(resources[id(obs().alarmTopic)].Properties.KmsMasterKeyId).toBeUndefined();
    expect(ofType('AWS::KMS::Key')).toEqual([]);
  });

  it('with -c sdp:alarmTopicKey=true, is encrypted with a rotated customer managed key that CloudWatch may use', () => {
    const keyed = synthesize({ bundling: false, context: { 'sdp:alarmTopicKey': 'true' } });
    const keyedResources = keyed.template.toJSON().Resources as typeof resources;
    const keyedId = (c: IConstruct): string => keyed.stack.getLogicalId(c.node.defaultChild as CfnElement);
    const topic = keyedResources[keyedId(keyed.stack.observability.alarmTopic)];
    const keyId = keyedId(keyed.stack.observability.topicKey!);
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(keyed.violations).toEqual([]);
    // Compaction publishes its failed runs to the topic: it may use the key for that.
    const compactionRole = keyedId(keyed.stack.compaction.compactionFunction.lambdaFunction.role!);
    const compactionStatements = Object.values(keyedResources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((x) => JSON.stringify(x) === JSON.stringify({ Ref: compactionRole })))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
    expect(compactionStatements).toContainEqual(expect.objectContaining({ Effect: 'Allow', Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } }));
    const key = keyedResources[keyId].Properties;
    expect(key.EnableKeyRotation).toBe(true);
    expect(key.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      }),
    );
  });

  it('is TLS-only and lets only CloudWatch alarms of this account publish', () => {
    const [policy] = ofType('AWS::SNS::TopicPolicy').filter(([, p]) =>
      (p.Properties.Topics as Json[]).some((t) => JSON.stringify(t) === JSON.stringify(topicRef())),
    );
    const statements = policy[1].Properties.PolicyDocument.Statement as Array<Statement & { Principal: Json }>;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Principal: '*', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const allow = statements.find((s) => s.Effect === 'Allow');
    expect(allow).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
  });

  it('has an email subscription only when the AlarmEmail parameter is not empty', () => {
    const subscription = resources[id(obs().emailSubscription!)];
    expect(subscription.Properties).toEqual({ Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' }, TopicArn: topicRef() });
    expect(conditions[subscription.Condition!]).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }],
    });
    expect(parameters.AlarmEmail).toMatchObject({ Type: 'String', Default: '' });
  });
});

describe('dashboard', () => {
  it('is left out with -c sdp:dashboard=false ($3 a month at list price), the alarms kept', () => {
    const plain = synthesize({ bundling: false, context: { 'sdp:dashboard': 'false' } });
    expect(plain.stack.observability.dashboard).toBeUndefined();
    const plainResources = Object.values(plain.template.toJSON().Resources as typeof resources);
    expect(plainResources.filter((r) => r.Type === 'AWS::CloudWatch::Dashboard')).toEqual([]);
    expect(plainResources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm')).toHaveLength(obs().alarms.length);
  });

  let body: string;
  beforeAll(() => {
    const dashboard = resources[id(obs().dashboard!)];
    expect(dashboard.Properties.DashboardName).toBe('sdp');
    body = JSON.stringify(dashboard.Properties.DashboardBody);
  });

  it.each(FN_KEYS)('shows the %s function', (k) => {
    expect(body).toContain(JSON.stringify(fnRef(fns()[k])));
  });

  it('covers the API, the streams, the DLQs, the tables and the custom metrics', () => {
    for (const name of ['4XXError', '5XXError', 'Latency', 'IncomingRecords', 'IteratorAge', 'Duration', 'ApproximateNumberOfMessagesVisible']) {
      expect(body).toContain(name);
    }
    for (const name of ['RecordsProcessed', 'DuplicatesDropped', 'LateEvents', 'DynamoDBRequests', 'LakeUnreadableRecords', 'CompactionUnreadableFiles', 'CompactionFilesBefore', 'CompactionFilesAfter']) {
      expect(body).toContain(name);
    }
    for (const c of [stack.eventsStream.stream, stack.stateTables.txState, stack.stateTables.aggregates, stack.lakeWriter.lakeSeen]) {
      expect(body).toContain(JSON.stringify(fnRef(c)));
    }
    expect(body).toContain('ConsumedWriteCapacityUnits');
    expect(body).toContain('WriteThrottleEvents');
  });
});
