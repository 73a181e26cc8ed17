/** The data lake in SdpStack's template: buckets, the lake writer and compaction with their grants, the Glue catalog (columns, partition projection) and the Athena workgroup with its named queries. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack, type CfnElement } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DataStream } from '../../lib/data-stream';
import { LakeWriter } from '../../lib/lake-writer';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { COMPACTION_PREFIX, ERRORS_PREFIX, LAKE_PREFIXES, PARTITION_KEYS, RAW_JSON_SERDE, glueColumns, lakeTableNames, sqlTableName, tablePrefix, type LakeFormat } from '../../schemas/lake';
import { aggregatesFeed, lakeBucket, lakeWriterMapping, settings, streams, tables } from '../../schemas/resources';
import { Analytics, LAKE_START_DATE_DEFAULT, readNamedQueries } from '../../lib/analytics';
import { usePipeline } from '../../schemas/active-pipeline';
import adtech from '../../pipelines/adtech';
import telemetry from '../../pipelines/telemetry';
import type { SdpStack } from '../../lib/sdp-stack';
import { platformIdentityStatements, synthesize, type Json, type Statement } from './synth';


let stack: SdpStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json; DeletionPolicy?: string }>;

beforeAll(() => {
  // With the aggregates feed, whose stream the lake writer also reads (its default, off, in sdp-stack.test.ts).
  ({ stack, template } = synthesize({ bundling: false, context: { [aggregatesFeed.context]: 'true' } }));
  resources = template.toJSON().Resources;
});

const id = (c: IConstruct): string => stack.getLogicalId((c.node.defaultChild ?? c) as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const actions = (s: Statement): string[] => [s.Action].flat();
const resourcesOf = (s: Statement): Json[] => [s.Resource].flat();
const same = (a: Json, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b);
const arnOf = (c: IConstruct) => ({ 'Fn::GetAtt': [id(c), 'Arn'] });
const formats = Object.keys(LAKE_PREFIXES) as LakeFormat[];

/** A template string value with references written as ${LogicalId} and ${LogicalId.Attr}. */
function render(value: Json): string {
  if (typeof value === 'string') return value;
  if (value.Ref) return `\${${value.Ref}}`;
  if (value['Fn::GetAtt']) return `\${${value['Fn::GetAtt'].join('.')}}`;
  if (value['Fn::Join']) return (value['Fn::Join'][1] as Json[]).map(render).join(value['Fn::Join'][0]);
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** Statements of the identity policies attached to a role. */
function roleStatements(role: IConstruct): Statement[] {
  const ref = { Ref: id(role) };
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Json[]).some((r) => same(r, ref)))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every S3 (action, rendered resource) pair a role is allowed, e.g. "s3:GetObject ${LakeBucket.Arn}/raw/*". */
function s3Grants(role: IConstruct): string[] {
  return roleStatements(role)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) =>
      actions(s)
        .filter((a) => a.startsWith('s3:'))
        .flatMap((a) => resourcesOf(s).map((r) => `${a} ${render(r)}`)),
    )
    .sort();
}

describe('lake bucket', () => {
  const bucket = () => resources[id(stack.dataLake.bucket)];

  it('is encrypted (SSE-S3), blocks all public access, enforces bucket ownership, is versioned and retained', () => {
    expect(bucket()).toMatchObject({
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        VersioningConfiguration: { Status: 'Enabled' },
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('aborts incomplete uploads after a day, expires old versions after a week, moves raw/ to Glacier IR after 90 days and never expires current files', () => {
    const rules: Json[] = bucket().Properties.LifecycleConfiguration.Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 7 }, ExpiredObjectDeleteMarker: true, Status: 'Enabled' }),
        expect.objectContaining({
          Prefix: `${LAKE_PREFIXES.raw}/`,
          Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
          Status: 'Enabled',
        }),
      ]),
    );
    expect(rules.filter((r) => r.ExpirationInDays !== undefined || r.ExpirationDate !== undefined)).toEqual([]);
  });

  it('logs server access to the access-log bucket', () => {
    expect(bucket().Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: id(stack.dataLake.accessLogsBucket) },
      LogFilePrefix: 'lake/',
    });
  });
});

describe('buckets', () => {
  const all = () => ({
    lake: stack.dataLake.bucket,
    accessLogs: stack.dataLake.accessLogsBucket,
    athenaResults: stack.analytics.resultsBucket,
    trainingSets: stack.retraining!.trainingBucket,
    console: stack.consoleSite.bucket,
  });

  it("are the lake, its access logs, the Athena results, the retraining sets and the console's files", () => {
    expect(ofType('AWS::S3::Bucket').map(([logicalId]) => logicalId).sort()).toEqual(Object.values(all()).map(id).sort());
  });

  it.each(['lake', 'accessLogs', 'athenaResults'] as const)('%s: encrypted at rest and not public', (name) => {
    expect(resources[id(all()[name])].Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it.each(['lake', 'accessLogs', 'athenaResults'] as const)('%s: denies every request without TLS', (name) => {
    const bucket = all()[name];
    const statements = ofType('AWS::S3::BucketPolicy')
      .filter(([, p]) => same(p.Properties.Bucket, { Ref: id(bucket) }))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Resource: [arnOf(bucket), { 'Fn::Join': ['', [arnOf(bucket), '/*']] }],
      }),
    );
  });

  it("access logs: delivered by the logging service from the lake, results, training-set and console buckets only, expired after 90 days", () => {
    const logs = stack.dataLake.accessLogsBucket;
    const allows = ofType('AWS::S3::BucketPolicy')
      .filter(([, p]) => same(p.Properties.Bucket, { Ref: id(logs) }))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => s.Effect === 'Allow');
    const sources = allows.map((s: Json) => [s.Principal, s.Action, s.Condition.ArnLike['aws:SourceArn']]);
    expect(sources).toHaveLength(4);
    expect(sources).toEqual(
      expect.arrayContaining([
        [{ Service: 'logging.s3.amazonaws.com' }, 's3:PutObject', arnOf(stack.dataLake.bucket)],
        [{ Service: 'logging.s3.amazonaws.com' }, 's3:PutObject', arnOf(stack.analytics.resultsBucket)],
        [{ Service: 'logging.s3.amazonaws.com' }, 's3:PutObject', arnOf(stack.retraining!.trainingBucket)],
        [{ Service: 'logging.s3.amazonaws.com' }, 's3:PutObject', arnOf(stack.consoleSite.bucket)],
      ]),
    );
    expect(resources[id(logs)].Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' }),
    );
  });

  it('athena results: unversioned, expired after 7 days, incomplete uploads aborted after a day, access logged', () => {
    const props = resources[id(stack.analytics.resultsBucket)].Properties;
    expect(props.VersioningConfiguration).toBeUndefined();
    expect(props.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ExpirationInDays: 7, Status: 'Enabled' }),
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
      ]),
    );
    expect(props.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: id(stack.dataLake.accessLogsBucket) });
  });
});

describe('lake-seen table', () => {
  it('has the key schema and TTL of tables.lakeSeen', () => {
    const props = resources[id(stack.lakeWriter.lakeSeen)].Properties;
    expect(props.KeySchema).toEqual([{ AttributeName: tables.lakeSeen.partitionKey.name, KeyType: 'HASH' }]);
    expect(props.AttributeDefinitions).toEqual([
      { AttributeName: tables.lakeSeen.partitionKey.name, AttributeType: tables.lakeSeen.partitionKey.type },
    ]);
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: tables.lakeSeen.ttlAttribute, Enabled: true });
  });

  it('is on-demand, encrypted with KMS, has point-in-time recovery and is retained', () => {
    expect(resources[id(stack.lakeWriter.lakeSeen)]).toMatchObject({
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
      DeletionPolicy: 'Retain',
    });
  });
});

describe('lake writer', () => {
  const fn = () => stack.lakeWriter.lakeWriterFunction;
  const mappings = () =>
    ofType('AWS::Lambda::EventSourceMapping')
      .map(([, m]) => m.Properties)
      .filter((m) => same(m.FunctionName, { Ref: id(fn().lambdaFunction) }));

  it('reads both the events and the aggregates streams from the trim horizon', () => {
    expect(mappings().map((m) => m.EventSourceArn)).toEqual(
      expect.arrayContaining([arnOf(stack.eventsStream.stream), arnOf(stack.aggregatesStream!.stream)]),
    );
    expect(mappings()).toHaveLength(2);
    for (const m of mappings()) expect(m.StartingPosition).toBe('TRIM_HORIZON');
  });

  it('batches and retries as lakeWriterMapping says, whole batches only: no bisect, no partial batch responses', () => {
    expect(lakeWriterMapping).toMatchObject({ bisectBatchOnError: false, reportBatchItemFailures: false });
    for (const m of mappings()) {
      expect(m).toMatchObject({
        BatchSize: lakeWriterMapping.batchSize,
        MaximumBatchingWindowInSeconds: lakeWriterMapping.maxBatchingWindowSeconds,
        BisectBatchOnFunctionError: false,
        MaximumRetryAttempts: lakeWriterMapping.retryAttempts,
        ParallelizationFactor: lakeWriterMapping.parallelizationFactor,
      });
      expect(m.FunctionResponseTypes).toBeUndefined();
    }
  });

  it('gathers half a minute of records per batch (settings.lakeBatchingWindowSeconds), within the 300 s Lambda allows', () => {
    // A batch PUTs ~10 objects: second-long batches cost ~$130 a month in S3 PUTs per shard (docs/cost-design.md).
    expect(lakeWriterMapping.maxBatchingWindowSeconds).toBe(settings.lakeBatchingWindowSeconds.default);
    for (const m of mappings()) {
      expect(m.MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(30);
      expect(m.MaximumBatchingWindowInSeconds).toBeLessThanOrEqual(300);
    }
  });

  it('sends batches that exhaust their retries to an encrypted, TLS-only queue kept 14 days', () => {
    const queue = stack.lakeWriter.deadLetterQueue;
    for (const m of mappings()) expect(m.DestinationConfig).toEqual({ OnFailure: { Destination: arnOf(queue) } });
    expect(resources[id(queue)].Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const denies = ofType('AWS::SQS::QueuePolicy')
      .filter(([, p]) => same(p.Properties.Queues, [{ Ref: id(queue) }]))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => s.Effect === 'Deny');
    expect(denies).toContainEqual(expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  it('is a Node.js 22 ARM64 handler that learns the lake bucket, the lake-seen table, the aggregates stream and the TTL', () => {
    const props = resources[id(fn().lambdaFunction)].Properties;
    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    expect(props.Environment.Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'lake-writer',
      [lakeBucket.env]: { Ref: id(stack.dataLake.bucket) },
      [tables.lakeSeen.env]: { Ref: id(stack.lakeWriter.lakeSeen) },
      [streams.aggregates.env]: { Ref: id(stack.aggregatesStream!.stream) },
      [settings.lakeSeenTtlSeconds.env]: String(settings.lakeSeenTtlSeconds.default),
    });
  });

  it("keeps each lake-seen state at least as long as the events stream keeps its records, and tells the handler the retention", () => {
    const env = resources[id(fn().lambdaFunction)].Properties.Environment.Variables;
    const retentionHours = resources[id(stack.eventsStream.stream)].Properties.RetentionPeriodHours;
    expect(env[settings.eventsStreamRetentionSeconds.env]).toBe(String(retentionHours * 3600));
    expect(Number(env[settings.lakeSeenTtlSeconds.env])).toBeGreaterThanOrEqual(retentionHours * 3600);
  });

  it('fails synth when the lake-seen TTL is shorter than the events stream retention (a replay could write events twice)', () => {
    const build = (retention: Duration, env: Record<string, string> = {}) => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const scope = new Stack(app, 'Probe');
      const lakeBucket = new s3.Bucket(scope, 'Lake');
      const eventsStream = new DataStream(scope, 'Events', { retentionPeriod: retention }).stream;
      const aggregatesStream = new DataStream(scope, 'Aggregates').stream;
      new LakeWriter(scope, 'Writer', { lakeBucket, eventsStream, aggregatesStream, functionProps: { environment: env } });
      return () => app.synth();
    };
    expect(build(Duration.days(8))).not.toThrow();
    // A longer retention lengthens the TTL it sets (a day past the retention); an override cannot shorten it.
    expect(build(Duration.days(9))).not.toThrow();
    expect(build(Duration.days(9), { [settings.lakeSeenTtlSeconds.env]: String(8 * 86400) })).toThrow(/LAKE_SEEN_TTL_SECONDS \(691200 s\) is shorter than the events stream's retention \(777600 s\)/);
    expect(build(Duration.hours(24), { [settings.lakeSeenTtlSeconds.env]: '3600' })).toThrow(/shorter than the events stream's retention \(86400 s\)/);
  });

  it('may only put objects, under raw/, parquet/ and errors/ (undecodable records): no read, no list, no delete', () => {
    const lake = id(stack.dataLake.bucket);
    expect(s3Grants(fn().role)).toEqual([...formats, ERRORS_PREFIX].map((p) => `s3:PutObject \${${lake}.Arn}/${p}/*`).sort());
    expect(roleStatements(fn().role).flatMap(actions).filter((a) => /delete/i.test(a) && !a.startsWith('dynamodb:'))).toEqual([]);
  });

  it('may read and write the lake-seen table and no other table', () => {
    const statements = roleStatements(fn().role).filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(statements.flatMap(resourcesOf)).toEqual([arnOf(stack.lakeWriter.lakeSeen)]);
    for (const action of ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem']) {
      expect(statements.flatMap(actions)).toContain(action);
    }
  });
});

describe('compaction', () => {
  const fn = () => stack.compaction.compactionFunction;

  it('runs every hour, invoked by its schedule rule', () => {
    const rule = resources[id(stack.compaction.rule)].Properties;
    expect(rule).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: arnOf(fn().lambdaFunction) })]);
    const permissions = ofType('AWS::Lambda::Permission').map(([, p]) => p.Properties);
    expect(permissions).toContainEqual(
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf(fn().lambdaFunction),
        Principal: 'events.amazonaws.com',
        SourceArn: arnOf(stack.compaction.rule),
      }),
    );
  });

  it('has 15 minutes and 2 GB, no async retries, and learns the lake bucket and the allowed lateness', () => {
    const props = resources[id(fn().lambdaFunction)].Properties;
    expect(props).toMatchObject({ Timeout: 900, MemorySize: 2048, Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    // No reserved concurrency (an account with fewer than 100 unreserved executions cannot grant
    // it): one run at a time by the compaction lease instead.
    expect(props.ReservedConcurrentExecutions).toBeUndefined();
    expect(props.Environment.Variables).toMatchObject({
      [tables.jobLeases.env]: { Ref: id(stack.compaction.leases) },
      POWERTOOLS_SERVICE_NAME: 'compaction',
      [lakeBucket.env]: { Ref: id(stack.dataLake.bucket) },
      [settings.allowedLatenessSeconds.env]: String(settings.allowedLatenessSeconds.default),
    });
    const invokeConfigs = ofType('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    expect(invokeConfigs).toContainEqual(
      expect.objectContaining({ FunctionName: { Ref: id(fn().lambdaFunction) }, MaximumRetryAttempts: 0 }),
    );
  });

  it('takes and lets go of its lease in the job-leases table, and touches no other table', () => {
    const leases = resources[id(stack.compaction.leases)].Properties;
    expect(leases).toMatchObject({ KeySchema: [{ AttributeName: 'job', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST', TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true } });
    const dynamoStatements = roleStatements(fn().role).filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamoStatements.map((s) => [[s.Action].flat().sort(), s.Resource])).toEqual([[['dynamodb:DeleteItem', 'dynamodb:PutItem'], arnOf(stack.compaction.leases)]]);
  });

  it('may list, read, write and delete under raw/, parquet/ and compaction/ (its manifests) only', () => {
    const lake = id(stack.dataLake.bucket);
    const prefixes = [...formats, COMPACTION_PREFIX.replace(/\/$/, '')];
    expect(s3Grants(fn().role)).toEqual(
      [
        ...prefixes.flatMap((f) =>
          ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].map((a) => `${a} \${${lake}.Arn}/${f}/*`),
        ),
        `s3:ListBucket \${${lake}.Arn}`,
      ].sort(),
    );
    const list = roleStatements(fn().role).find((s) => actions(s).includes('s3:ListBucket'))!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': prefixes.map((p) => `${p}/*`) } });
    expect(roleStatements(fn().role).flatMap(actions).filter((a) => a.startsWith('kinesis:'))).toEqual([]);
  });
});

describe('Glue catalog', () => {
  const db = () => stack.analytics.database;
  const glueTables = () => ofType('AWS::Glue::Table').map(([, t]) => t.Properties);
  const tableNamed = (name: string) => glueTables().find((t) => t.TableInput.Name === name)!;

  it('has the sdp_lake database', () => {
    expect(resources[id(db())].Properties.DatabaseInput.Name).toBe('sdp_lake');
  });

  it('has exactly a raw_ and a parquet_ table per lake table, in the database', () => {
    expect(glueTables().map((t) => t.TableInput.Name).sort()).toEqual(
      formats.flatMap((f) => lakeTableNames().map((t) => `${f}_${t}`)).sort(),
    );
    for (const t of glueTables()) expect(t.DatabaseName).toEqual({ Ref: id(db()) });
  });

  const cases = formats.flatMap((format) => lakeTableNames().map((table) => [format, table] as const));

  it.each(cases)('%s_%s: external, columns from glueColumns, partitioned by dt and hour, at its prefix', (format, table) => {
    const input = tableNamed(sqlTableName(format, table)).TableInput;
    expect(input.TableType).toBe('EXTERNAL_TABLE');
    expect(input.StorageDescriptor.Columns).toEqual(
      glueColumns(table).map((c) => ({ Name: c.name, Type: c.type, ...(c.comment ? { Comment: c.comment } : {}) })),
    );
    expect(input.PartitionKeys).toEqual(PARTITION_KEYS.map((k) => ({ Name: k.name, Type: k.type, Comment: k.comment })));
    expect(render(input.StorageDescriptor.Location)).toBe(`s3://\${${id(stack.dataLake.bucket)}}/${tablePrefix(format, table)}`);
  });

  it.each(cases)('%s_%s: partition projection on dt (days) and hour (00-23) over the table prefix', (format, table) => {
    const params = tableNamed(sqlTableName(format, table)).TableInput.Parameters;
    expect(params).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
    });
    // From the lake's first date (the LakeStartDate parameter), not a fixed early date: a query
    // without a dt filter lists every projected hour of the range. NOW+1DAYS, not NOW: an event
    // stamped within the allowed clock skew of midnight UTC lands in tomorrow's partition.
    expect(render(params['projection.dt.range'])).toBe('${LakeStartDate},NOW+1DAYS');
    expect(render(params['storage.location.template'])).toBe(
      `s3://\${${id(stack.dataLake.bucket)}}/${tablePrefix(format, table)}dt=\${dt}/hour=\${hour}/`,
    );
  });

  it('LakeStartDate is a deploy parameter: a date, by default this version\'s release', () => {
    expect(template.toJSON().Parameters.LakeStartDate).toMatchObject({ Type: 'String', Default: LAKE_START_DATE_DEFAULT, AllowedPattern: '^\\d{4}-\\d{2}-\\d{2}$' });
  });

  it.each(lakeTableNames())('raw_%s: gzip JSON through the Hive JSON SerDe with millisecond timestamps', (table) => {
    const input = tableNamed(sqlTableName('raw', table)).TableInput;
    expect(input.Parameters).toMatchObject({ classification: 'json', compressionType: 'gzip' });
    expect(input.StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      Compressed: true,
      SerdeInfo: { SerializationLibrary: RAW_JSON_SERDE.serializationLibrary, Parameters: RAW_JSON_SERDE.parameters },
    });
  });

  it.each(lakeTableNames())('parquet_%s: Parquet', (table) => {
    const input = tableNamed(sqlTableName('parquet', table)).TableInput;
    expect(input.Parameters).toMatchObject({ classification: 'parquet' });
    expect(input.StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
  });

  it('has no crawler', () => {
    expect(ofType('AWS::Glue::Crawler')).toEqual([]);
  });
});

describe('Athena', () => {
  const workGroup = () => resources[id(stack.analytics.workGroup)].Properties;

  it('workgroup sdp enforces its configuration: SSE-S3 results in the results bucket, a 10 GiB scan limit, automatic engine version', () => {
    expect(workGroup()).toMatchObject({
      Name: 'sdp',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'AUTO' },
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } },
      },
    });
    expect(render(workGroup().WorkGroupConfiguration.ResultConfiguration.OutputLocation)).toBe(
      `s3://\${${id(stack.analytics.resultsBucket)}}/`,
    );
  });

  const queries = readNamedQueries();
  (queries.length > 0 ? it : it.skip)('has a named query for each queries/*.sql file, in the workgroup and the database', () => {
    const named = ofType('AWS::Athena::NamedQuery').map(([, q]) => q.Properties);
    expect(named.map((q) => q.Name).sort()).toEqual(queries.map((q) => q.name).sort());
    for (const q of queries) {
      expect(named.find((n) => n.Name === q.name)).toEqual({
        Name: q.name,
        Description: q.description,
        QueryString: q.sql,
        Database: { Ref: id(stack.analytics.database) },
        WorkGroup: { Ref: id(stack.analytics.workGroup) },
      });
    }
  });

  describe('readNamedQueries', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdp-queries-'));
      fs.writeFileSync(path.join(dir, 'b-second.sql'), '-- Clicks per impression\n--   by domain\nSELECT 1;\n');
      fs.writeFileSync(path.join(dir, 'a-first.sql'), 'SELECT 2\n');
      fs.writeFileSync(path.join(dir, 'empty.sql'), '\n');
      fs.writeFileSync(path.join(dir, 'notes.md'), 'not a query');
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads every non-empty .sql file, sorted, its leading comments the description (else its name)', () => {
      expect(readNamedQueries(dir)).toEqual([
        { name: 'a-first', description: 'a-first', sql: 'SELECT 2' },
        { name: 'b-second', description: 'Clicks per impression by domain', sql: '-- Clicks per impression\n--   by domain\nSELECT 1;' },
      ]);
    });

    it('finds none in a folder that does not exist', () => {
      expect(readNamedQueries(path.join(dir, 'missing'))).toEqual([]);
    });
  });
});

describe('outputs', () => {
  it('LakeBucketName, AthenaWorkGroup and GlueDatabase name the lake bucket, the workgroup and the database', () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.LakeBucketName.Value).toEqual({ Ref: id(stack.dataLake.bucket) });
    expect(outputs.AthenaWorkGroup.Value).toEqual({ Ref: id(stack.analytics.workGroup) });
    expect(outputs.GlueDatabase.Value).toEqual({ Ref: id(stack.analytics.database) });
  });
});

describe('least privilege', () => {
  const identityStatements = () => platformIdentityStatements(resources);

  it('no identity policy in the stack grants a wildcard action', () => {
    expect(identityStatements().flatMap(actions).filter((a) => a.includes('*'))).toEqual([]);
  });

  it('no role may touch the Athena results or the access-log bucket, nor the lake outside raw/, parquet/, errors/ (writer), compaction/ (compaction) and models/ (model registry)', () => {
    const lake = id(stack.dataLake.bucket);
    const trainingSets = id(stack.retraining!.trainingBucket);
    const s3Resources = identityStatements()
      .filter((s) => actions(s).some((a) => a.startsWith('s3:')))
      .flatMap(resourcesOf)
      .map(render);
    expect(s3Resources.length).toBeGreaterThan(0);
    const prefixes = [...formats, ERRORS_PREFIX, COMPACTION_PREFIX.replace(/\/$/, ''), 'models', 'parquet/bids', 'parquet/impressions'];
    const allowed = [`\${${lake}.Arn}`, ...prefixes.map((f) => `\${${lake}.Arn}/${f}/*`)];
    for (const r of s3Resources) {
      // The retraining's own training-set bucket is its to use; nothing else outside the lake's prefixes.
      if (r.startsWith(`\${${trainingSets}.Arn}`)) continue;
      expect(allowed).toContain(r);
    }
  });
});

describe('Glue catalog of another pipeline', () => {
  it("telemetry: a raw_ and a parquet_ table per stream and per aggregation, columns from its declaration", () => {
    usePipeline(telemetry);
    try {
      const own = new Stack(new App(), 'Telemetry');
      new Analytics(own, 'Analytics', { lakeBucket: new s3.Bucket(own, 'Lake') });
      const inputs = Object.values(Template.fromStack(own).toJSON().Resources as Record<string, { Type: string; Properties: Json }>)
        .filter((r) => r.Type === 'AWS::Glue::Table')
        .map((r) => r.Properties.TableInput);
      expect(inputs.map((t) => t.Name).sort()).toEqual(['parquet_devices', 'parquet_readings', 'raw_devices', 'raw_readings']);
      const columns = (name: string) => inputs.find((t) => t.Name === name).StorageDescriptor.Columns.map((c: Json) => `${c.Name} ${c.Type}`);
      expect(columns('parquet_readings')).toEqual(['event_id string', 'device_id string', 'metric string', 'value double', 'unit string', 'event_time timestamp', 'received_at timestamp']);
      expect(columns('raw_devices')).toEqual(expect.arrayContaining(['device_id string', 'metric string', 'period bigint', 'readings bigint', 'total double', 'minimum double', 'revision bigint']));
    } finally {
      usePipeline(adtech);
    }
  });
});
