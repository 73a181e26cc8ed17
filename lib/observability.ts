// Operations view of the whole flow: a TLS-only SNS topic for alarms (a customer managed key on request) (email subscription optional), the alarms that notify it, and the `sdp` CloudWatch dashboard.
import { Aws, CfnCondition, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { unreadableDataMetric } from '../schemas/resources';
import { streamRetentionSeconds } from './data-stream';
import { METRICS_NAMESPACE } from './handler-function';

/** The platform's functions, by role. */
export interface ObservedFunctions {
  readonly ingest: lambda.IFunction;
  readonly reports: lambda.IFunction;
  readonly aggregator: lambda.IFunction;
  readonly lakeWriter: lambda.IFunction;
  readonly compaction: lambda.IFunction;
}

/**
 * The Powertools service names (dimension `service` of the EMF metrics in namespace `sdp`): HandlerFunction
 * sets POWERTOOLS_SERVICE_NAME to the handler's folder under lambdas/.
 */
export interface ServiceNames {
  readonly aggregator: string;
  readonly lakeWriter: string;
  readonly compaction: string;
}

export const DEFAULT_SERVICE_NAMES: ServiceNames = {
  aggregator: 'aggregator',
  lakeWriter: 'lake-writer',
  compaction: 'compaction',
};

/** Alarm thresholds; every default is a safe starting point for a new deployment. */
export interface ObservabilityThresholds {
  /** API Gateway 5XXError / Count over 5 minutes, in percent. @default 1 */
  readonly apiServerErrorRatePercent?: number;
  /** Aggregator's Lambda IteratorAge (maximum over 5 minutes). @default 60 seconds */
  readonly aggregatorIteratorAge?: Duration;
  /** Lake writer's Lambda IteratorAge (maximum over 5 minutes); it batches for minutes on purpose. @default 15 minutes */
  readonly lakeWriterIteratorAge?: Duration;
  /** Events counted as late (past the allowed lateness) per 5 minutes. @default 100 */
  readonly lateEventsPer5Minutes?: number;
  /** Aggregator's Freshness (from the API accepting an event to its counted row), maximum over 5 minutes. @default 2 minutes */
  readonly freshness?: Duration;
}

export interface ObservabilityProps {
  readonly restApi: apigw.RestApi;
  readonly eventsStream: kinesis.IStream;
  /** None when the stack has no aggregates feed: no alarm or dashboard line for it. */
  readonly aggregatesStream?: kinesis.IStream;
  readonly functions: ObservedFunctions;
  /** The on-failure destinations of the stream consumers' event source mappings. */
  readonly deadLetterQueues: { readonly aggregator: sqs.IQueue; readonly lakeWriter: sqs.IQueue };
  /** DynamoDB tables shown on the dashboard, by label. */
  readonly tables?: Record<string, dynamodb.ITable>;
  /** The retraining state machine: a failed run is alarmed (it has no execution timeout: a step past its bound fails the run). */
  readonly retraining?: sfn.IStateMachine;
  /**
   * Email address subscribed to the alarm topic. May be a token (e.g. a CfnParameter's valueAsString):
   * the subscription is then created only when it is not empty. @default no subscription
   */
  readonly alarmEmail?: string;
  readonly thresholds?: ObservabilityThresholds;
  /** @default DEFAULT_SERVICE_NAMES */
  readonly serviceNames?: Partial<ServiceNames>;
  /** @default 'sdp' */
  readonly dashboardName?: string;
  /**
   * Encrypt the alarm topic at rest with a customer managed key (rotated yearly), for deployments
   * whose compliance asks every topic to be. It costs $1 a month ("Each AWS KMS key that you
   * create in AWS KMS costs $1/month", KMS pricing): a fifteenth of the idle bill. The AWS managed
   * key aws/sns cannot serve: "Some AWS services publish events to Amazon SNS topics. To allow
   * these event sources to work with encrypted topics, you must [...] use a customer managed key"
   * (SNS developer guide, compatibility between event sources and encrypted topics), and an alarm
   * notification carries only the alarm's name, state, reason and the description written here,
   * no event data. Off: the topic is TLS-only in transit, unencrypted at rest.
   * @default false
   */
  readonly topicKey?: boolean;
  /** Overrides for the topic (applied last). */
  readonly topicProps?: Partial<sns.TopicProps>;
  /**
   * Create the dashboard `sdp`: "$3.00 per dashboard per month" beyond an account's first three
   * (CloudWatch pricing), a fifth of the idle bill at list price. @default true
   */
  readonly dashboard?: boolean;
}

const FIVE_MINUTES = Duration.minutes(5);

export class Observability extends Construct {
  /** Receives every alarm's ALARM and OK transitions. */
  public readonly alarmTopic: sns.Topic;
  /** Customer managed key of the topic, when props.topicKey asks for one: CloudWatch cannot publish to a topic under the AWS managed aws/sns key. */
  public readonly topicKey?: kms.Key;
  /** The email subscription, when an address was given (conditional on it being non-empty when a token). */
  public readonly emailSubscription?: sns.Subscription;

  /** The dashboard `sdp`, unless props.dashboard is false. */
  public readonly dashboard?: cloudwatch.Dashboard;

  // Alarms are billed per metric they read ($0.10 a month each, idle or not), so each watches a
  // symptom no other alarm already reports; the metrics left out stay on the dashboard (free).
  public readonly apiServerErrorRateAlarm: cloudwatch.Alarm;
  public readonly eventsWriteThrottleAlarm: cloudwatch.Alarm;
  public readonly aggregatorIteratorAgeAlarm: cloudwatch.Alarm;
  public readonly lakeWriterIteratorAgeAlarm: cloudwatch.Alarm;
  public readonly freshnessAlarm: cloudwatch.Alarm;
  /**
   * A failed compaction run is sent to the alarm topic by Lambda itself (the on-failure destination
   * of its asynchronous invocations), not through an alarm: see notifyFailedRuns.
   */
  public readonly compactionFailures: lambda.CfnEventInvokeConfig;
  public readonly aggregatorDlqAlarm: cloudwatch.Alarm;
  public readonly lakeWriterDlqAlarm: cloudwatch.Alarm;
  /** A retraining run that failed, a step past its time bound included (when the retraining state machine is given). */
  public readonly retrainingFailedAlarm?: cloudwatch.Alarm;
  public readonly lateEventsAlarm: cloudwatch.Alarm;
  /** Unreadable data in the lake: stream records the lake writer wrote under errors/, or files compaction cannot read. */
  public readonly unreadableDataAlarm: cloudwatch.Alarm;
  /** Every alarm above. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  private readonly alarmPrefix: string;
  private readonly alarmAction: actions.SnsAction;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const t = props.thresholds ?? {};
    const services: ServiceNames = { ...DEFAULT_SERVICE_NAMES, ...props.serviceNames };
    const fns = props.functions;
    this.alarmPrefix = Stack.of(this).stackName;

    // --- The topic ---------------------------------------------------------------------------
    if (props.topicKey) this.topicKey = this.createTopicKey();
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'sdp alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
      ...props.topicProps,
    });

    // A topic policy replaces the default one: let this account's alarms publish.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
        },
      }),
    );
    this.alarmAction = new actions.SnsAction(this.alarmTopic);

    if (props.alarmEmail !== undefined && (Token.isUnresolved(props.alarmEmail) || props.alarmEmail !== '')) {
      this.emailSubscription = new sns.Subscription(this, 'AlarmEmail', {
        topic: this.alarmTopic,
        protocol: sns.SubscriptionProtocol.EMAIL,
        endpoint: props.alarmEmail,
      });
      if (Token.isUnresolved(props.alarmEmail)) {
        const hasEmail = new CfnCondition(this, 'HasAlarmEmail', {
          expression: Fn.conditionNot(Fn.conditionEquals(props.alarmEmail, '')),
        });
        (this.emailSubscription.node.defaultChild as sns.CfnSubscription).cfnOptions.condition = hasEmail;
      }
    }

    // --- Metrics -----------------------------------------------------------------------------
    const api = props.restApi;
    const apiRequests = api.metricCount({ statistic: 'Sum', period: FIVE_MINUTES });
    const api5xx = api.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES });
    const api4xx = api.metricClientError({ statistic: 'Sum', period: FIVE_MINUTES });
    const custom = (service: string, name: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service },
        statistic,
        period: FIVE_MINUTES,
      });
    const sum = { statistic: 'Sum', period: FIVE_MINUTES };
    const iteratorAge = (fn: lambda.IFunction) => fn.metric('IteratorAge', { statistic: 'Maximum', period: FIVE_MINUTES });
    const dlqDepth = (q: sqs.IQueue) => q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES });

    // --- Alarms ------------------------------------------------------------------------------
    if (props.retraining) {
      const runs = props.retraining;
      // One metric, ExecutionsFailed: the state machine has no execution timeout, so no run ends
      // TIMED_OUT; each of its steps is bounded and a step past its bound fails the run (lib/retraining.ts,
      // RUN_BOUNDS). Not ExecutionsAborted: only a StopExecution call aborts a run, made by an operator who knows.
      this.retrainingFailedAlarm = this.alarm('RetrainingFailed', {
        metric: runs.metricFailed(sum),
        description:
          'A retraining run failed (a step erred or passed its time bound): the deployed model is unchanged and grows stale. ' +
          'Open the execution in the Step Functions console to see the failing step (Athena query, SageMaker training job, quality gate, endpoint update) and its cause.',
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const errorRate = t.apiServerErrorRatePercent ?? 1;
    const apiErrorRatePercent = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { errors: api5xx, requests: apiRequests },
      period: FIVE_MINUTES,
      label: 'API 5XX rate (%)',
    });
    // One metric, not a ratio of two: "The Average statistic represents the 5XXError error rate,
    // namely, the total count of the 5XXError errors divided by the total number of requests during
    // the period" (API Gateway developer guide, dimensions and metrics). It also covers the ingest,
    // reports and predictions functions' Errors and Throttles (no alarms of their own): a proxy
    // integration whose function fails or is throttled answers 5XX.
    this.apiServerErrorRateAlarm = this.alarm('ApiServerErrorRate', {
      metric: api.metricServerError({ statistic: 'Average', period: FIVE_MINUTES }),
      threshold: errorRate / 100,
      description:
        `More than ${errorRate}% of API requests answered 5XX over 5 minutes. Clients retry, but events may be refused: ` +
        'check the ingest, reports and predictions functions on the dashboard (Errors, Throttles: account concurrency) and their logs, ' +
        'and the events stream write throttling (raise StreamShardCount). 4XX (bad input) is not alarmed.',
      // No requests, no errors.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.eventsWriteThrottleAlarm = this.alarm('EventsStreamWriteThrottled', {
      metric: props.eventsStream.metricWriteProvisionedThroughputExceeded(sum),
      description:
        'The events stream rejected writes (WriteProvisionedThroughputExceeded): the API answers 5xx/429 for them. ' +
        'Raise the StreamShardCount parameter, or check for a hot partition key.',
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // No alarm on the events stream's ReadProvisionedThroughputExceeded: read throttling only slows
    // the consumers, which the AggregatorIteratorAge and LakeWriterIteratorAge alarms report. None on
    // the aggregates stream's write throttling: the aggregator's batches then fail and are retried,
    // which AggregatorIteratorAge (and Freshness) report. Both stay on the dashboard.
    const aggregatesStream = props.aggregatesStream;

    const aggregatorAge = t.aggregatorIteratorAge ?? Duration.seconds(60);
    this.aggregatorIteratorAgeAlarm = this.alarm('AggregatorIteratorAge', {
      metric: iteratorAge(fns.aggregator),
      threshold: aggregatorAge.toMilliseconds(),
      description:
        `The aggregator is more than ${aggregatorAge.toHumanString()} behind the events stream: reports are stale. ` +
        'On the dashboard, check its Errors and Throttles (a failing batch blocks its shard until retries end) and its logs, DynamoDB throttles, ' +
        'the stream read throttling and, with the aggregates feed, its write throttling; raise the mapping parallelization factor or shards if it is just load.',
      // An idle stream invokes nothing and reports no age.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const lakeAge = t.lakeWriterIteratorAge ?? Duration.minutes(15);
    this.lakeWriterIteratorAgeAlarm = this.alarm('LakeWriterIteratorAge', {
      metric: iteratorAge(fns.lakeWriter),
      threshold: lakeAge.toMilliseconds(),
      description:
        `The lake writer is more than ${lakeAge.toHumanString()} behind the events or aggregates stream: the lake and Athena lag, ` +
        'and records near the stream retention may expire unwritten. On the dashboard, check its Errors and Throttles, and the stream read throttling; then its logs and S3 errors.',
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Errors and Throttles of the other functions have no alarms: the ingest, reports (and
    // predictions) functions' are covered by ApiServerErrorRate (above); the stream consumers' by
    // their IteratorAge alarms (a failing or throttled batch holds its shard back) and, once their
    // retries end, by their DeadLetters alarms. All of them stay on the dashboard.
    this.compactionFailures = this.notifyFailedRuns(fns.compaction);
    const label: Record<keyof ObservedFunctions, string> = {
      ingest: 'Ingest',
      reports: 'Reports',
      aggregator: 'Aggregator',
      lakeWriter: 'LakeWriter',
      compaction: 'Compaction',
    };
    const keys = Object.keys(label) as Array<keyof ObservedFunctions>;

    // A DLQ alarm stays in ALARM until the queue is drained: SQS stops reporting idle queues, so missing data keeps the state.
    const retention = Duration.seconds(streamRetentionSeconds(props.eventsStream)).toHumanString();
    const dlqAdvice = (consumer: string) =>
      `Batches the ${consumer} could not process after every retry are in its dead-letter queue (positions, not records). ` +
      `Fix the cause from the logs, then replay them with \`sdp dlq list\` / \`sdp dlq redrive\` before the events stream retention (${retention}) ends.`;
    this.aggregatorDlqAlarm = this.alarm('AggregatorDeadLetters', {
      metric: dlqDepth(props.deadLetterQueues.aggregator),
      description: dlqAdvice('aggregator'),
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    this.lakeWriterDlqAlarm = this.alarm('LakeWriterDeadLetters', {
      metric: dlqDepth(props.deadLetterQueues.lakeWriter),
      description: dlqAdvice('lake writer'),
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });

    const lateThreshold = t.lateEventsPer5Minutes ?? 100;
    this.lateEventsAlarm = this.alarm('LateEvents', {
      metric: custom(services.aggregator, 'LateEvents'),
      threshold: lateThreshold,
      description:
        `More than ${lateThreshold} events in 5 minutes arrived past the allowed lateness and were counted as late (not in their window). ` +
        'Look for a client with a skewed clock or a backlog (aggregator iterator age); raise the allowed lateness if this is normal traffic.',
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Not implied by AggregatorIteratorAge: IteratorAge is the age of a batch's LAST record when
    // Lambda reads it, Freshness that of its OLDEST event when its rows are counted. One batch at a
    // time per shard: records arriving while a batch is processed (up to the 60 s timeout) wait for
    // the next, so batches each taking close to 60 s keep IteratorAge near 0 while Freshness nears
    // 120 s plus the ingestion put time (Freshness ≤ IteratorAge + two invocations + the poll + the put).
    const freshness = t.freshness ?? Duration.minutes(2);
    this.freshnessAlarm = this.alarm('Freshness', {
      metric: custom(services.aggregator, 'Freshness', 'Maximum'),
      threshold: freshness.toMilliseconds(),
      description:
        `An event took more than ${freshness.toHumanString()} from the API to its counted row: reports are stale. ` +
        'Check the aggregator iterator age, errors and throttles, and DynamoDB throttling; raise StreamShardCount if the stream is the bottleneck.',
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // One alarm for both places data turns out unreadable, on the one metric both publish besides
    // their own (which stay on the dashboard): alarms are billed per metric they read, a custom
    // metric only in hours it is sent, and a healthy lake sends none.
    this.unreadableDataAlarm = this.alarm('UnreadableData', {
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: unreadableDataMetric.name,
        dimensionsMap: { service: unreadableDataMetric.service },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      }),
      description:
        'The lake holds data nobody can read. Lake writer: stream records it could not decode were written under errors/ in the lake bucket ' +
        '(its ERROR log names the file; dashboard: LakeUnreadableRecords); find the producer writing to the stream around the API. ' +
        'Compaction: lake files it could not read were left in place (its ERROR log names them; dashboard: CompactionUnreadableFiles); ' +
        'inspect or remove them, as Athena queries over those partitions may fail meanwhile.',
      // Emitted only when there are some.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // --- Dashboard ---------------------------------------------------------------------------
    const fnLines = (make: (fn: lambda.IFunction) => cloudwatch.IMetric, only: Array<keyof ObservedFunctions> = keys) =>
      only.map((k) => {
        const m = make(fns[k]);
        return m instanceof cloudwatch.Metric ? m.with({ label: label[k] }) : m;
      });
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, period: FIVE_MINUTES, ...extra });
    const streamLines = (make: (s: kinesis.IStream) => cloudwatch.Metric) => [
      make(props.eventsStream).with({ label: 'events' }),
      ...(aggregatesStream ? [make(aggregatesStream).with({ label: 'aggregates' })] : []),
    ];
    const tables = Object.entries(props.tables ?? {});
    const tableLines = (name: string) => tables.map(([l, table]) => table.metric(name, { ...sum, label: l }));
    const header = (markdown: string) => new cloudwatch.TextWidget({ markdown, width: 24, height: 1 });

    if (props.dashboard !== false) this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'sdp',
      defaultInterval: Duration.hours(3),
      widgets: [
        [header('## sdp: ingestion API → events stream → aggregator / lake writer → reports, lake, compaction')],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 })],
        [header('### Ingestion API')],
        [
          graph('API requests and errors', [
            apiRequests.with({ label: 'requests' }),
            api4xx.with({ label: '4XX' }),
            api5xx.with({ label: '5XX' }),
          ]),
          graph('API latency (ms)', [
            api.metricLatency({ statistic: 'p50', period: FIVE_MINUTES, label: 'latency p50' }),
            api.metricLatency({ statistic: 'p99', period: FIVE_MINUTES, label: 'latency p99' }),
            api.metricIntegrationLatency({ statistic: 'p99', period: FIVE_MINUTES, label: 'integration p99' }),
          ]),
          graph('API 5XX rate (%)', [apiErrorRatePercent], {
            leftAnnotations: [{ value: errorRate, label: 'alarm' }],
          }),
        ],
        [header('### Streams')],
        [
          graph('Incoming records', streamLines((s) => s.metricIncomingRecords(sum))),
          graph('Incoming bytes', streamLines((s) => s.metricIncomingBytes(sum))),
          graph('Throttled (provisioned throughput exceeded)', [
            props.eventsStream.metricWriteProvisionedThroughputExceeded({ ...sum, label: 'events write' }),
            props.eventsStream.metricReadProvisionedThroughputExceeded({ ...sum, label: 'events read' }),
            ...(aggregatesStream
              ? [
                  aggregatesStream.metricWriteProvisionedThroughputExceeded({ ...sum, label: 'aggregates write' }),
                  aggregatesStream.metricReadProvisionedThroughputExceeded({ ...sum, label: 'aggregates read' }),
                ]
              : []),
          ]),
        ],
        [header('### Functions (ingest, reports, aggregator, lake writer, compaction)')],
        [
          graph('Invocations', fnLines((fn) => fn.metricInvocations(sum))),
          graph('Errors', [
            ...fnLines((fn) => fn.metricErrors(sum)),
            fns.compaction.metric('DestinationDeliveryFailures', { ...sum, label: 'Compaction failures not delivered to the alarm topic' }),
          ]),
          graph('Throttles', fnLines((fn) => fn.metricThrottles(sum))),
        ],
        [
          graph('Duration p99 (ms)', fnLines((fn) => fn.metricDuration({ statistic: 'p99', period: FIVE_MINUTES }))),
          graph('Iterator age, max (ms)', fnLines(iteratorAge, ['aggregator', 'lakeWriter']), {
            leftAnnotations: [
              { value: aggregatorAge.toMilliseconds(), label: 'aggregator alarm' },
              { value: lakeAge.toMilliseconds(), label: 'lake writer alarm' },
            ],
          }),
          graph('Concurrent executions (max)', fnLines((fn) => fn.metric('ConcurrentExecutions', { statistic: 'Maximum', period: FIVE_MINUTES }))),
        ],
        [header('### Aggregation and lake (Powertools metrics, namespace sdp)')],
        [
          graph('Aggregator records', [
            custom(services.aggregator, 'RecordsProcessed'),
            custom(services.aggregator, 'DuplicatesDropped'),
            custom(services.aggregator, 'RecordsReplayed'),
            custom(services.aggregator, 'LateEvents'),
          ]),
          graph('Aggregator DynamoDB requests', [custom(services.aggregator, 'DynamoDBRequests')]),
          graph('Aggregator freshness and latency (ms)', [
            custom(services.aggregator, 'Freshness', 'Maximum').with({ label: 'freshness, max' }),
            custom(services.aggregator, 'Freshness', 'p99').with({ label: 'freshness p99' }),
            custom(services.aggregator, 'ProcessingTime', 'p99').with({ label: 'batch processing p99' }),
          ], { leftAnnotations: [{ value: freshness.toMilliseconds(), label: 'freshness alarm' }] }),
          graph('Aggregator batch size', [custom(services.aggregator, 'BatchSize', 'Average').with({ label: 'records per batch, average' })]),
          graph('Lake writer', [
            custom(services.lakeWriter, 'LakeBatchRecords'),
            custom(services.lakeWriter, 'LakeEventsWritten'),
            custom(services.lakeWriter, 'LakeRowsWritten'),
            custom(services.lakeWriter, 'LakeDuplicatesSkipped'),
            custom(services.lakeWriter, 'LakeUnreadableRecords'),
          ]),
        ],
        [header('### DynamoDB tables and dead-letter queues')],
        [
          graph('Consumed read capacity', tableLines('ConsumedReadCapacityUnits')),
          graph('Consumed write capacity', tableLines('ConsumedWriteCapacityUnits')),
          graph('Throttled requests', [
            ...tables.map(([l, table]) => table.metric('ReadThrottleEvents', { ...sum, label: `${l} read` })),
            ...tables.map(([l, table]) => table.metric('WriteThrottleEvents', { ...sum, label: `${l} write` })),
          ]),
        ],
        [
          graph('Dead-letter queue depth', [
            dlqDepth(props.deadLetterQueues.aggregator).with({ label: 'aggregator DLQ' }),
            dlqDepth(props.deadLetterQueues.lakeWriter).with({ label: 'lake writer DLQ' }),
          ]),
          graph('Compaction files', [
            custom(services.compaction, 'CompactionPartitions'),
            custom(services.compaction, 'CompactionFilesBefore'),
            custom(services.compaction, 'CompactionFilesAfter'),
            custom(services.compaction, 'CompactionUnreadableFiles'),
            custom(services.compaction, 'CompactionRecovered'),
          ]),
          graph('Compaction bytes', [
            custom(services.compaction, 'CompactionBytesBefore'),
            custom(services.compaction, 'CompactionBytesAfter'),
          ]),
        ],
      ],
    });
  }

  /**
   * Sends the record of every failed asynchronous invocation of a scheduled function (a run that
   * threw, timed out, or waited in Lambda's queue past its maximum age while throttled) to the alarm
   * topic: Lambda's on-failure destination, "The invocation record contains details about the request
   * and response in JSON format" (Lambda developer guide, capturing records of asynchronous
   * invocations): the function, the condition and the error message. An alarm on the function's
   * Errors would tell the same for $0.10 a month; this costs a notification per failed run, nothing
   * idle, and also reports the throttled run Lambda drops. Lambda counts records it could not deliver
   * in the function's DestinationDeliveryFailures metric (on the dashboard).
   * The function must configure its asynchronous invocations already (Compaction sets retryAttempts 0).
   */
  private notifyFailedRuns(fn: lambda.IFunction): lambda.CfnEventInvokeConfig {
    const config = fn.node.tryFindChild('EventInvokeConfig')?.node.defaultChild as lambda.CfnEventInvokeConfig | undefined;
    if (!config) throw new Error(`${fn.node.path} has no asynchronous invocation config to send its failed runs to the alarm topic`);
    config.destinationConfig = { onFailure: { destination: this.alarmTopic.topicArn } };
    // Exact actions, no wildcard (the topic's grantPublish grants kms:GenerateDataKey*).
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['sns:Publish'], resourceArns: [this.alarmTopic.topicArn] });
    this.topicKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
    return config;
  }

  /** The topic's customer managed key, with the key policy statement CloudWatch alarms need to publish. */
  private createTopicKey(): kms.Key {
    const key = new kms.Key(this, 'TopicKey', {
      description: 'sdp: encrypts the alarm topic (CloudWatch alarms may use it to publish)',
      enableKeyRotation: true,
      // It only protects alarm notifications in transit through the topic, which goes with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // Alarms of this account publish to the topic: they need the data key (exact actions, no wildcard).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        // In a key policy, '*' is this key. No source condition here: the topic policy below already
        // admits only this account's alarms, and CloudWatch's documented key statement has none.
        resources: ['*'],
      }),
    );
    return key;
  }

  /** An alarm over one 5-minute period, `> threshold` (default 0), notifying the topic on ALARM and on OK. */
  private alarm(
    id: string,
    opts: {
      metric: cloudwatch.IMetric;
      description: string;
      treatMissingData: cloudwatch.TreatMissingData;
      threshold?: number;
    },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.alarmPrefix}-${id}`,
      alarmDescription: opts.description,
      metric: opts.metric,
      threshold: opts.threshold ?? 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: opts.treatMissingData,
    });
    alarm.addAlarmAction(this.alarmAction);
    alarm.addOkAction(this.alarmAction);
    this.alarms.push(alarm);
    return alarm;
  }
}
