/** SdpStack's synthesized template: the settings each resource must carry, the wiring between them, and least privilege. */
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { EVENT_TYPES } from '../../pipelines/adtech/events';
import { aggregatesFeed, aggregatorMapping, resourceOutputs, settings, streamRetention, streams, tables, type TableDef } from '../../schemas/resources';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template as CdkTemplate } from 'aws-cdk-lib/assertions';
import { SdpStack } from '../../lib/sdp-stack';
import { isCdkDeploymentHandler, platformIdentityStatements, synthesize, type Json, type Statement } from './synth';


let stack: SdpStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json; DeletionPolicy?: string }>;

beforeAll(() => {
  // With the aggregates feed (-c sdp:aggregatesFeed=true); its default, off, is checked apart below.
  ({ stack, template } = synthesize({ context: { [aggregatesFeed.context]: 'true' } }));
  resources = template.toJSON().Resources;
});

const id = (c: IConstruct): string => stack.getLogicalId(c.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const actions = (s: Statement): string[] => [s.Action].flat();
const resourcesOf = (s: Statement): Json[] => [s.Resource].flat();
const envOf = (c: IConstruct) => resources[id(c)].Properties.Environment.Variables as Record<string, Json>;
const same = (a: Json, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Statements of the identity policies attached to a role. */
function roleStatements(role: IConstruct): Statement[] {
  const ref = { Ref: id(role) };
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Json[]).some((r) => same(r, ref)))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function allows(statements: Statement[], action: string, resource: Json): boolean {
  return statements.some(
    (s) => s.Effect === 'Allow' && actions(s).includes(action) && resourcesOf(s).some((r) => same(r, resource)),
  );
}

const arnOf = (c: IConstruct) => ({ 'Fn::GetAtt': [id(c), 'Arn'] });

describe('streams', () => {
  it('are the events and the aggregates streams', () => {
    expect(ofType('AWS::Kinesis::Stream').map(([logicalId]) => logicalId).sort()).toEqual(
      [id(stack.eventsStream.stream), id(stack.aggregatesStream!.stream)].sort(),
    );
  });

  it('events: provisioned, KMS-encrypted, kept 24 hours (the retention the shard price includes), sharded by the StreamShardCount parameter', () => {
    expect(resources[id(stack.eventsStream.stream)]).toMatchObject({
      Properties: {
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
        RetentionPeriodHours: 24,
        ShardCount: { Ref: 'StreamShardCount' },
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('aggregates: provisioned, KMS-encrypted, kept 24 hours, one shard', () => {
    expect(resources[id(stack.aggregatesStream!.stream)]).toMatchObject({
      Properties: {
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
        RetentionPeriodHours: 24,
        ShardCount: 1,
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
      },
    });
  });
});

describe('parameters', () => {
  it("AggregationPeriod: a number of seconds overriding every declared period, default 0 (each aggregation's declared period)", () => {
    template.hasParameter('AggregationPeriod', { Type: 'Number', Default: 0, MinValue: 0 });
  });

  it('StreamShardCount: a number, default 1, at least 1', () => {
    template.hasParameter('StreamShardCount', { Type: 'Number', Default: 1, MinValue: 1 });
  });
});

describe('state tables', () => {
  const cases: Array<[string, TableDef, () => IConstruct]> = [
    ['tx-state', tables.txState, () => stack.stateTables.txState],
    ['aggregates', tables.aggregates, () => stack.stateTables.aggregates],
    ['aggregator-journal', tables.aggregatorJournal, () => stack.stateTables.aggregatorJournal],
  ];

  it.each(cases)('%s has the key schema of schemas/resources.ts', (_name, def, table) => {
    const keys = [def.partitionKey, ...(def.sortKey ? [def.sortKey] : [])];
    const props = resources[id(table())].Properties;
    expect(props.KeySchema).toEqual(
      keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
    );
    expect(props.AttributeDefinitions).toEqual(keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })));
  });

  it.each(cases)('%s is on-demand, encrypted with KMS, has point-in-time recovery and is retained', (_name, _def, table) => {
    expect(resources[id(table())]).toMatchObject({
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
      DeletionPolicy: 'Retain',
    });
  });

  // A deploy that changes a table's key schema replaces the table (KeySchema: "Update requires:
  // Replacement"), which CloudFormation refuses for a custom-named resource ("You can't perform an update
  // that causes a custom-named resource to be replaced. If you must replace the resource, specify a new
  // name.", CloudFormation resource custom naming). Unnamed, each table is replaced under a new generated
  // name and the old one is kept (UpdateReplacePolicy Retain): how a stack from before the pipelines
  // (tx-state keyed tx_id, aggregates keyed campaign_item_id) upgrades (README, Deploying to AWS).
  it.each(cases)('%s is named by CloudFormation and kept when a deploy replaces it', (_name, _def, table) => {
    expect(resources[id(table())].Properties.TableName).toBeUndefined();
    expect(resources[id(table())]).toMatchObject({ UpdateReplacePolicy: 'Retain', DeletionPolicy: 'Retain' });
  });

  it('tx-state expires rows by TTL on the attribute from schemas/resources.ts; aggregates never expire', () => {
    expect(tables.txState.ttlAttribute).toBeTruthy();
    expect(resources[id(stack.stateTables.txState)].Properties.TimeToLiveSpecification).toEqual({
      AttributeName: tables.txState.ttlAttribute,
      Enabled: true,
    });
    expect(resources[id(stack.stateTables.aggregates)].Properties.TimeToLiveSpecification).toBeUndefined();
  });

  it('aggregator-journal expires its journal and dead-letter evidence by TTL', () => {
    expect(resources[id(stack.stateTables.aggregatorJournal)].Properties.TimeToLiveSpecification).toEqual({
      AttributeName: tables.aggregatorJournal.ttlAttribute,
      Enabled: true,
    });
  });
});

describe('aggregator event source mapping', () => {
  let mapping: Json;
  beforeAll(() => {
    // The aggregator's only; the lake writer's are tested in lake.test.ts.
    const fn = { Ref: id(stack.aggregator.aggregatorFunction.lambdaFunction) };
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => same(m.Properties.FunctionName, fn));
    expect(mappings).toHaveLength(1);
    mapping = mappings[0][1].Properties;
  });

  it('reads the events stream into the aggregator from the trim horizon', () => {
    expect(mapping.EventSourceArn).toEqual(arnOf(stack.eventsStream.stream));
    expect(mapping.FunctionName).toEqual({ Ref: id(stack.aggregator.aggregatorFunction.lambdaFunction) });
    expect(mapping.StartingPosition).toBe('TRIM_HORIZON');
  });

  it('batches, retries, bisects and reports partial failures as aggregatorMapping says', () => {
    expect(mapping).toMatchObject({
      BatchSize: aggregatorMapping.batchSize,
      MaximumBatchingWindowInSeconds: aggregatorMapping.maxBatchingWindowSeconds,
      BisectBatchOnFunctionError: aggregatorMapping.bisectBatchOnError,
      MaximumRetryAttempts: aggregatorMapping.retryAttempts,
      ParallelizationFactor: aggregatorMapping.parallelizationFactor,
    });
    expect(aggregatorMapping.reportBatchItemFailures).toBe(true);
    expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('sends batches that exhaust their retries to an encrypted, TLS-only queue kept 14 days', () => {
    const queue = stack.aggregator.deadLetterQueue;
    expect(mapping.DestinationConfig).toEqual({ OnFailure: { Destination: arnOf(queue) } });
    expect(resources[id(queue)].Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const denies = ofType('AWS::SQS::QueuePolicy')
      .filter(([, p]) => same(p.Properties.Queues, [{ Ref: id(queue) }]))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => s.Effect === 'Deny');
    expect(denies).toContainEqual(
      expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });
});

describe('lambdas', () => {
  const fns = () => ({
    ingest: stack.ingestionApi.ingestFunction,
    aggregator: stack.aggregator.aggregatorFunction,
    reports: stack.reportsApi.reportsFunction,
  });
  const env = (name: keyof ReturnType<typeof fns>) =>
    resources[id(fns()[name].lambdaFunction)].Properties.Environment.Variables as Record<string, Json>;

  it('are the handlers, each on Node.js 22, ARM64, traced, logging to a log group kept a month', () => {
    const functions = ofType('AWS::Lambda::Function').map(([logicalId]) => logicalId);
    expect(functions.filter(isCdkDeploymentHandler)).toHaveLength(1);
    expect(functions.filter((f) => !isCdkDeploymentHandler(f)).sort()).toEqual(
      [
        ...Object.values(fns()),
        stack.lakeWriter.lakeWriterFunction,
        stack.compaction.compactionFunction,
        stack.predictionsApi!.predictFunction,
        stack.predictionsApi!.modelsFunction,
        stack.retraining!.gateFunction,
        stack.retraining!.promoteFunction,
        stack.retraining!.channelsFunction,
      ]
        .map((fn) => id(fn.lambdaFunction))
        .sort(),
    );
    for (const fn of Object.values(fns())) {
      const props = resources[id(fn.lambdaFunction)].Properties;
      expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
      expect(props.LoggingConfig.LogGroup).toEqual({ Ref: id(fn.logGroup) });
      expect(resources[id(fn.logGroup)].Properties.RetentionInDays).toBe(30);
    }
  });

  it('carry the Powertools service name and the sdp metrics namespace', () => {
    for (const name of ['ingest', 'aggregator', 'reports'] as const) {
      expect(env(name)).toMatchObject({ POWERTOOLS_SERVICE_NAME: name, POWERTOOLS_METRICS_NAMESPACE: 'sdp' });
    }
  });

  it('ingest learns the stream name and the timestamp plausibility settings', () => {
    expect(env('ingest')).toMatchObject({
      [streams.events.env]: { Ref: id(stack.eventsStream.stream) },
      [settings.maxClockSkewSeconds.env]: String(settings.maxClockSkewSeconds.default),
      [settings.maxEventAgeSeconds.env]: String(settings.maxEventAgeSeconds.default),
    });
  });

  it('aggregator learns its table names, the aggregates stream, the AggregationPeriod parameter, lateness and TTL', () => {
    expect(env('aggregator')).toMatchObject({
      [tables.txState.env]: { Ref: id(stack.stateTables.txState) },
      [tables.aggregates.env]: { Ref: id(stack.stateTables.aggregates) },
      [tables.aggregatorJournal.env]: { Ref: id(stack.stateTables.aggregatorJournal) },
      [streams.aggregates.env]: { Ref: id(stack.aggregatesStream!.stream) },
      // Empty (as declared) when AggregationPeriod is 0: test/infra/aggregation-period.test.ts.
      [settings.aggregationPeriodSeconds.env]: { 'Fn::If': ['AggregationPeriodAsDeclared', '', { Ref: 'AggregationPeriod' }] },
      [settings.allowedLatenessSeconds.env]: String(settings.allowedLatenessSeconds.default),
      [settings.txStateTtlSeconds.env]: String(settings.txStateTtlSeconds.default),
    });
  });

  it('reports learns the aggregates table name', () => {
    expect(env('reports')).toMatchObject({ [tables.aggregates.env]: { Ref: id(stack.stateTables.aggregates) } });
  });
});

describe('API', () => {
  /** "METHOD /path" of every method, with the function its proxy integration invokes (or MOCK: GET /, the index). */
  function routes(): Map<string, string> {
    const paths = new Map<string, string>();
    const pathOf = (resourceId: Json): string => {
      if (resourceId['Fn::GetAtt']) return ''; // the API's root resource
      const logicalId: string = resourceId.Ref;
      if (!paths.has(logicalId)) {
        const r = resources[logicalId].Properties;
        paths.set(logicalId, `${pathOf(r.ParentId)}/${r.PathPart}`);
      }
      return paths.get(logicalId)!;
    };
    const result = new Map<string, string>();
    for (const [, m] of ofType('AWS::ApiGateway::Method')) {
      const { HttpMethod, ResourceId, Integration } = m.Properties;
      if (Integration.Type === 'MOCK') {
        result.set(`${HttpMethod} ${pathOf(ResourceId) || '/'}`, 'MOCK');
        continue;
      }
      expect(Integration.Type).toBe('AWS_PROXY');
      const target = (Integration.Uri['Fn::Join'][1] as Json[]).find((part) => part['Fn::GetAtt'])['Fn::GetAtt'][0];
      result.set(`${HttpMethod} ${pathOf(ResourceId)}`, target);
    }
    return result;
  }

  it('has exactly the ingestion, report and prediction routes, each proxied to its Lambda, and the index at GET /', () => {
    const ingest = id(stack.ingestionApi.ingestFunction.lambdaFunction);
    const reports = id(stack.reportsApi.reportsFunction.lambdaFunction);
    expect(ofType('AWS::ApiGateway::RestApi')).toHaveLength(1);
    expect(Object.fromEntries(routes())).toEqual({
      ...Object.fromEntries(EVENT_TYPES.map((t) => [`POST /${t}`, ingest])),
      'GET /reports/campaigns/{campaign_item_id}': reports,
      'GET /reports/campaigns/{campaign_item_id}/period': reports,
      'POST /predictions': id(stack.predictionsApi!.predictFunction.lambdaFunction),
      'GET /models/current': id(stack.predictionsApi!.modelsFunction.lambdaFunction),
      'GET /': 'MOCK',
    });
    expect(EVENT_TYPES).toEqual(['bid', 'impression', 'click']);
  });

  it('stage throttles, writes access logs, logs errors without bodies, and traces', () => {
    const stages = ofType('AWS::ApiGateway::Stage');
    expect(stages).toHaveLength(1);
    const stage = stages[0][1].Properties;
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({
        ResourcePath: '/*',
        HttpMethod: '*',
        ThrottlingRateLimit: 1000,
        ThrottlingBurstLimit: 2000,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
      }),
    ]);
    expect(JSON.stringify(stage.AccessLogSetting.DestinationArn)).toContain(id(stack.ingestionApi.accessLogGroup));
    expect(stage.AccessLogSetting.Format).toContain('$context.requestId');
    expect(stage.TracingEnabled).toBe(true);
  });
});

describe('outputs', () => {
  /** An output's Fn::Join with references written as ${LogicalId}. */
  const render = (name: string): string => {
    const value = template.toJSON().Outputs[name].Value;
    return (value['Fn::Join'][1] as Json[]).map((p) => (typeof p === 'string' ? p : `\${${p.Ref}}`)).join('');
  };

  it('UrlForAPI is the base URL of the deployed stage', () => {
    const api = id(stack.ingestionApi.restApi);
    const stage = id(stack.ingestionApi.restApi.deploymentStage);
    expect(render('UrlForAPI')).toBe(`https://\${${api}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/\${${stage}}/`);
  });

  it('UrlForReports is the base URL + reports/campaigns/', () => {
    expect(render('UrlForReports')).toBe(`${render('UrlForAPI')}reports/campaigns/`);
  });

  it('name every resource that sdp dlq redrive --aws runs handler code against, and both dead-letter queues', () => {
    const outputs = template.toJSON().Outputs;
    expect(Object.fromEntries(Object.keys(resourceOutputs).map((k) => [k, outputs[k].Value]))).toEqual({
      EventsStreamName: { Ref: id(stack.eventsStream.stream) },
      AggregatesStreamName: { Ref: id(stack.aggregatesStream!.stream) },
      TxStateTableName: { Ref: id(stack.stateTables.txState) },
      AggregatesTableName: { Ref: id(stack.stateTables.aggregates) },
      AggregatorJournalTableName: { Ref: id(stack.stateTables.aggregatorJournal) },
      LakeSeenTableName: { Ref: id(stack.lakeWriter.lakeSeen) },
      LakeBucketName: { Ref: id(stack.dataLake.bucket) },
    });
    expect(outputs.AggregatorDeadLetterQueueUrl.Value).toEqual({ Ref: id(stack.aggregator.deadLetterQueue) });
    expect(outputs.LakeWriterDeadLetterQueueUrl.Value).toEqual({ Ref: id(stack.lakeWriter.deadLetterQueue) });
  });
});

describe('least privilege', () => {
  const identityStatements = () => platformIdentityStatements(resources);

  it('no identity policy grants a wildcard action', () => {
    const statements = identityStatements();
    expect(statements.length).toBeGreaterThan(5);
    const wildcards = statements.flatMap(actions).filter((a) => a.includes('*'));
    expect(wildcards).toEqual([]);
  });

  it('only actions with no resource-level permissions are granted on Resource "*": X-Ray, SageMaker\'s metrics held to its namespaces, and the models function\'s metric reads', () => {
    const onStar = identityStatements().filter((s) => resourcesOf(s).includes('*'));
    // CDK merges the models function's statements on "*" into one: X-Ray's and GetMetricData.
    const others = onStar
      .map((s) => ({ ...s, Action: actions(s).filter((a) => !a.startsWith('xray:')) }))
      .filter((s) => s.Action.length > 0);
    // GetMetricData has no resource type ("Resource types: none" in the Service Authorization Reference for CloudWatch).
    expect(others.map((s) => [actions(s), s.Condition])).toEqual(
      expect.arrayContaining([
        [['cloudwatch:PutMetricData'], { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } }],
        [['cloudwatch:GetMetricData'], undefined],
      ]),
    );
    expect(others).toHaveLength(2);
  });

  it('ingest may put records on the events stream, and touch no table and no other stream', () => {
    const statements = roleStatements(stack.ingestionApi.ingestFunction.role);
    expect(allows(statements, 'kinesis:PutRecords', arnOf(stack.eventsStream.stream))).toBe(true);
    expect(statements.flatMap(resourcesOf)).not.toContainEqual(arnOf(stack.aggregatesStream!.stream));
    expect(statements.flatMap(actions).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    expect(statements.flatMap(actions)).not.toContain('kinesis:GetRecords');
  });

  it('aggregator may read the events stream, read and write both tables, put on the aggregates stream, and send to its dead-letter queue', () => {
    const statements = roleStatements(stack.aggregator.aggregatorFunction.role);
    expect(allows(statements, 'kinesis:GetRecords', arnOf(stack.eventsStream.stream))).toBe(true);
    for (const table of [stack.stateTables.txState, stack.stateTables.aggregates]) {
      expect(allows(statements, 'dynamodb:BatchGetItem', arnOf(table))).toBe(true);
      expect(allows(statements, 'dynamodb:UpdateItem', arnOf(table))).toBe(true);
      expect(allows(statements, 'dynamodb:BatchWriteItem', arnOf(table))).toBe(true);
    }
    expect(allows(statements, 'sqs:SendMessage', arnOf(stack.aggregator.deadLetterQueue))).toBe(true);
    expect(allows(statements, 'kinesis:PutRecords', arnOf(stack.aggregatesStream!.stream))).toBe(true);
    expect(allows(statements, 'kinesis:PutRecords', arnOf(stack.eventsStream.stream))).toBe(false);
    expect(allows(statements, 'kinesis:GetRecords', arnOf(stack.aggregatesStream!.stream))).toBe(false);
  });

  it('reports may only read the aggregates table', () => {
    const statements = roleStatements(stack.reportsApi.reportsFunction.role);
    expect(allows(statements, 'dynamodb:Query', arnOf(stack.stateTables.aggregates))).toBe(true);
    const dynamo = statements.filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(resourcesOf)).toEqual([arnOf(stack.stateTables.aggregates)]);
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    expect(dynamo.flatMap(actions).filter((a) => writes.includes(a))).toEqual([]);
  });

  it('functions write logs through their own roles, not AWSLambdaBasicExecutionRole', () => {
    for (const fn of [
      stack.ingestionApi.ingestFunction,
      stack.aggregator.aggregatorFunction,
      stack.reportsApi.reportsFunction,
    ]) {
      expect(resources[id(fn.role)].Properties.ManagedPolicyArns).toBeUndefined();
      expect(allows(roleStatements(fn.role), 'logs:PutLogEvents', arnOf(fn.logGroup))).toBe(true);
    }
  });
});

describe('events stream retention (-c sdp:streamRetentionHours=N: how long a dead-lettered batch can be redriven)', () => {
  const build = (hours: unknown) =>
    new SdpStack(new App({ context: { 'aws:cdk:bundling-stacks': [], [streamRetention.context]: hours } }), 'Retention');

  it('by default tells the consumers and the dead-letter alarms 24 hours, and keeps the state tables\' TTLs (they also dedupe resends up to 7 days old)', () => {
    expect(envOf(stack.lakeWriter.lakeWriterFunction.lambdaFunction)[settings.eventsStreamRetentionSeconds.env]).toBe(String(24 * 3600));
    expect(envOf(stack.aggregator.aggregatorFunction.lambdaFunction)[settings.txStateTtlSeconds.env]).toBe(String(settings.txStateTtlSeconds.default));
    expect(envOf(stack.lakeWriter.lakeWriterFunction.lambdaFunction)[settings.lakeSeenTtlSeconds.env]).toBe(String(settings.lakeSeenTtlSeconds.default));
    expect(resources[id(stack.observability.aggregatorDlqAlarm)].Properties.AlarmDescription).toContain('retention (1 day) ends');
  });

  it('kept longer on request: the stream, the alarms\' advice and the state TTLs follow (a replay never meets an expired state)', () => {
    const long = build('720');
    const t = CdkTemplate.fromStack(long).toJSON().Resources as typeof resources;
    const lid = (c: IConstruct) => long.getLogicalId(c.node.defaultChild as CfnElement);
    expect(t[lid(long.eventsStream.stream)].Properties.RetentionPeriodHours).toBe(720);
    const lakeEnv = t[lid(long.lakeWriter.lakeWriterFunction.lambdaFunction)].Properties.Environment.Variables;
    const aggEnv = t[lid(long.aggregator.aggregatorFunction.lambdaFunction)].Properties.Environment.Variables;
    expect(lakeEnv[settings.eventsStreamRetentionSeconds.env]).toBe(String(720 * 3600));
    expect(lakeEnv[settings.lakeSeenTtlSeconds.env]).toBe(String((720 + 24) * 3600));
    expect(aggEnv[settings.txStateTtlSeconds.env]).toBe(String(720 * 3600));
    expect(aggEnv[settings.eventsStreamRetentionSeconds.env]).toBe(String(720 * 3600));
    expect(t[lid(long.observability.lakeWriterDlqAlarm)].Properties.AlarmDescription).toContain('retention (30 days) ends');
  });

  it.each([[23], ['8761'], ['7 days'], [36.5], ['']])('refuses %p: Kinesis keeps records 24 to 8760 hours', (hours) => {
    expect(() => build(hours)).toThrow(/sdp:streamRetentionHours must be a whole number of hours from 24 to 8760/);
  });
});

describe('by default without the aggregates feed (its shard is $10.95 a month, read or not; -c sdp:aggregatesFeed=true adds it)', () => {
  let plain: SdpStack;
  let plainResources: typeof resources;
  let plainOutputs: Record<string, { Value: Json }>;
  const plainId = (c: IConstruct): string => plain.getLogicalId(c.node.defaultChild as CfnElement);
  const plainEnv = (c: IConstruct) => plainResources[plainId(c)].Properties.Environment.Variables as Record<string, Json>;

  beforeAll(() => {
    const synthesized = synthesize({ bundling: false, context: {} });
    plain = synthesized.stack;
    ({ Resources: plainResources, Outputs: plainOutputs } = synthesized.template.toJSON());
    expect(synthesized.violations).toEqual([]);
  });

  it('has the events stream only, and says so in the output AggregatesFeed', () => {
    expect(plain.aggregatesStream).toBeUndefined();
    const streamIds = Object.entries(plainResources).filter(([, r]) => r.Type === 'AWS::Kinesis::Stream').map(([logicalId]) => logicalId);
    expect(streamIds).toEqual([plainId(plain.eventsStream.stream)]);
    expect(plainOutputs.AggregatesFeed.Value).toBe(aggregatesFeed.off);
    expect(plainOutputs.AggregatesStreamName).toBeUndefined();
  });

  it('tells the aggregator the feed is off, and the lake writer reads the events stream only', () => {
    const aggregatorEnv = plainEnv(plain.aggregator.aggregatorFunction.lambdaFunction);
    expect(aggregatorEnv[aggregatesFeed.env]).toBe(aggregatesFeed.off);
    expect(aggregatorEnv[streams.aggregates.env]).toBeUndefined();
    expect(plain.lakeWriter.aggregatesSource).toBeUndefined();
    const mappings = Object.values(plainResources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings.map((m) => m.Properties.FunctionName).filter((f) => same(f, { Ref: plainId(plain.lakeWriter.lakeWriterFunction.lambdaFunction) }))).toHaveLength(1);
  });

  it('has the same alarms as a stack with the feed (the aggregates stream is watched through the aggregator)', () => {
    expect(plain.observability.alarms.map((a) => plainId(a)).sort()).toEqual(stack.observability.alarms.map((a) => id(a)).sort());
  });
});
