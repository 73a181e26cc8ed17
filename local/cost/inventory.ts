/**
 * What a CloudFormation template deploys that AWS bills, read from the template alone: streams
 * (mode, shards — parameter defaults resolved — and retention), functions (memory, architecture,
 * the streams they consume and how, whether they serve the API or a schedule), tables (billing
 * mode, backups, the auto scaling of their capacity), alarms and the metrics each reads,
 * dashboards, keys, buckets, APIs (REST or HTTP), log groups, schedules, state machines and the
 * SageMaker resources they create. Every resource type of the template is either read here, or
 * listed in FREE_TYPES with why it costs nothing; any other type is returned in `unpriced`, so a
 * new billable type cannot go unnoticed.
 */
import { prices } from '../../schemas/prices';
import { streams as streamDefs, tables as tableDefs } from '../../schemas/resources';
import type { CfnTemplate, Json } from './template';
import { defaultPath, parseDefinition, type WorkflowPath } from './workflow-path';

/** Types that cost nothing by themselves (configuration, permissions, wiring), and why. */
export const FREE_TYPES: Record<string, string> = {
  'AWS::IAM::Role': 'IAM is free',
  'AWS::IAM::Policy': 'IAM is free',
  'AWS::IAM::ManagedPolicy': 'IAM is free',
  'AWS::Lambda::Permission': 'configuration',
  'AWS::Lambda::EventInvokeConfig': 'configuration',
  'AWS::Lambda::LayerVersion': 'layers cost nothing beyond the functions using them',
  'AWS::Lambda::EventSourceMapping': "billed as the function's invocations (Kinesis polling by Lambda is free)",
  'AWS::ApiGateway::Account': 'configuration',
  'AWS::ApiGateway::Deployment': 'configuration',
  'AWS::ApiGateway::Stage': "configuration (its access logs are billed with the API's log group)",
  'AWS::ApiGateway::Resource': 'configuration',
  'AWS::ApiGateway::Method': 'billed per request with its API',
  'AWS::ApiGateway::GatewayResponse': 'configuration',
  'AWS::ApiGateway::UsagePlan': 'configuration',
  'AWS::ApiGateway::UsagePlanKey': 'configuration',
  'AWS::ApiGateway::ApiKey': 'configuration',
  'AWS::ApiGateway::Model': 'configuration',
  'AWS::ApiGateway::RequestValidator': 'configuration',
  'AWS::ApiGatewayV2::Stage': 'configuration',
  'AWS::ApiGatewayV2::Route': 'billed per request with its API',
  'AWS::ApiGatewayV2::Integration': 'billed per request with its API',
  'AWS::SQS::QueuePolicy': 'configuration',
  'AWS::SNS::TopicPolicy': 'configuration',
  'AWS::SNS::Subscription': 'billed per notification with its topic',
  'AWS::S3::BucketPolicy': 'configuration',
  'AWS::KMS::Alias': 'aliases are free',
  'AWS::Glue::Database': "billed as a Data Catalog object (counted with the catalog's tables)",
  'AWS::Athena::WorkGroup': 'billed per TB its queries scan',
  'AWS::Athena::NamedQuery': 'saved queries are free; billed when run',
  'AWS::CloudFront::ResponseHeadersPolicy': 'configuration',
  'AWS::CloudFront::OriginAccessControl': 'configuration',
  'AWS::CloudFront::CachePolicy': 'configuration',
  'AWS::Events::Rule': "schedules are free; billed as their target's runs",
  'AWS::CDK::Metadata': 'CDK bookkeeping',
  'Custom::CDKBucketDeployment': "runs only on deploy (CDK's own function copies the console's files)",
  'AWS::Logs::ResourcePolicy': 'configuration',
  // AWS: "There is no additional charge for AWS Auto Scaling. You pay only for the AWS resources needed to run your applications and Amazon CloudWatch monitoring fees."
  'AWS::ApplicationAutoScaling::ScalableTarget': 'auto scaling is free; the capacity it sets and the alarms it keeps are billed with the table',
  'AWS::ApplicationAutoScaling::ScalingPolicy': 'auto scaling is free; the capacity it sets and the alarms it keeps are billed with the table',
};

/** Types read by this module and billed by bill.ts. */
export const PRICED_TYPES = [
  'AWS::Kinesis::Stream',
  'AWS::Lambda::Function',
  'AWS::DynamoDB::Table',
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::Dashboard',
  'AWS::KMS::Key',
  'AWS::S3::Bucket',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGatewayV2::Api',
  'AWS::Logs::LogGroup',
  'AWS::StepFunctions::StateMachine',
  'AWS::SQS::Queue',
  'AWS::SNS::Topic',
  'AWS::Glue::Table',
  'AWS::CloudFront::Distribution',
] as const;

export interface StreamResource {
  id: string;
  /** The schema's stream name (schemas/resources.ts) when a function names it, else the logical id. */
  name: string;
  mode: 'PROVISIONED' | 'ON_DEMAND';
  shards: number;
  /** How the shard count was found: a literal or a parameter's default. */
  shardsFrom: string;
  retentionHours: number;
}

export interface StreamMapping {
  streamId: string;
  batchSize: number;
  windowSeconds: number;
  parallelization: number;
}

export interface FunctionResource {
  id: string;
  /** POWERTOOLS_SERVICE_NAME when set (the key of the measurements), else the logical id. */
  name: string;
  memoryMb: number;
  arch: 'arm64' | 'x86_64';
  mappings: StreamMapping[];
  /** Serves routes of an API (its id), and whether it writes the events stream (the ingestion function). */
  apiIds: string[];
  writesEvents: boolean;
  logGroupId?: string;
  /** Tables and buckets its environment names (what it reads and writes). */
  storageIds: string[];
  /** Publishes metrics as EMF log lines (Powertools: POWERTOOLS_METRICS_NAMESPACE set). */
  publishesMetrics: boolean;
}

/** Application Auto Scaling of one table dimension (reads or writes): its range and, with a target tracking policy, the utilization it keeps. */
export interface TableScaling {
  min: number;
  max: number;
  /** TargetValue of the target tracking policy, percent; undefined without one (nothing moves the capacity). */
  targetPercent?: number;
}

export interface TableResource {
  id: string;
  name: string;
  onDemand: boolean;
  /** ProvisionedThroughput: the capacity the table is created with (auto scaling moves it from there). */
  provisioned?: { rcu: number; wcu: number };
  scaling?: { read?: TableScaling; write?: TableScaling };
  pitr: boolean;
  ttl: boolean;
}

export interface AlarmResource {
  id: string;
  /** Metrics the alarm reads: what CloudWatch bills it by. */
  metrics: number;
  highResolution: boolean;
}

export interface ApiResource {
  id: string;
  kind: 'REST' | 'HTTP';
  /** Routes whose integration writes the events stream directly (no function in between). */
  directToStream: boolean;
  accessLogGroupId?: string;
  /** Size of one access log line, estimated from the format (each $context value taken as 16 bytes). */
  accessLogBytes: number;
}

export interface LogGroupResource {
  id: string;
  retentionDays: number;
}

export interface ScheduleResource {
  id: string;
  runsPerMonth: number;
  targetId: string;
}

export interface StateMachineResource {
  id: string;
  /** States in the definition: the transitions billed for a run that goes through them all (one that trains and deploys). */
  states: number;
  /**
   * The run that takes every Choice's Default (workflow-path.ts): for retraining, an idle stack's
   * run, which ends at TooFewAuctions. Undefined when the definition cannot be read.
   */
  defaultRun?: WorkflowPath;
  trainingInstanceTypes: string[];
  serverlessMemoryMb: number[];
  /** Athena queries a run that goes through every state starts. */
  athenaQueries: number;
}

export interface Inventory {
  streams: StreamResource[];
  functions: FunctionResource[];
  tables: TableResource[];
  alarms: AlarmResource[];
  dashboards: string[];
  kmsKeys: string[];
  buckets: { id: string; name: string }[];
  apis: ApiResource[];
  logGroups: LogGroupResource[];
  schedules: ScheduleResource[];
  stateMachines: StateMachineResource[];
  queues: string[];
  topics: string[];
  catalogObjects: number;
  distributions: string[];
  /** Custom metrics (namespace sdp) the alarms and dashboards read, as "service/name": each is billed while its service publishes it. */
  customMetrics: string[];
  /** Resource types neither priced nor known to be free. */
  unpriced: string[];
  /** Resources of each type, for the report. */
  counts: Record<string, number>;
}

/** A literal, or a parameter's default through Ref; undefined for anything else. */
function resolveNumber(value: Json, template: CfnTemplate): { value: number; from: string } | undefined {
  if (typeof value === 'number') return { value, from: 'the template' };
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return { value: Number(value), from: 'the template' };
  if (value && typeof value === 'object' && typeof value.Ref === 'string') {
    const def = template.Parameters?.[value.Ref]?.Default;
    if (def !== undefined && Number.isFinite(Number(def))) return { value: Number(def), from: `parameter ${value.Ref} (default)` };
  }
  return undefined;
}

const refOf = (value: Json): string | undefined => (value && typeof value === 'object' ? (typeof value.Ref === 'string' ? value.Ref : Array.isArray(value['Fn::GetAtt']) ? value['Fn::GetAtt'][0] : undefined) : undefined);

/** Logical ids named anywhere in a value (Ref and Fn::GetAtt). */
function referencedIds(value: Json, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => referencedIds(v, out));
  else if (value && typeof value === 'object') {
    const ref = refOf(value);
    if (ref) out.add(ref);
    Object.values(value).forEach((v) => referencedIds(v, out));
  }
  return out;
}

/** A schedule expression's runs in a month of prices.hoursPerMonth hours; undefined when it cannot be read. */
export function runsPerMonth(expression: string): number | undefined {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const hours = rate[2].startsWith('minute') ? n / 60 : rate[2].startsWith('hour') ? n : n * 24;
    return prices.hoursPerMonth / hours;
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (cron) {
    // cron(min hour day month weekday year): count the hours and minutes it fires per day, every day.
    const [min, hour] = cron[1].split(/\s+/);
    const count = (field: string, span: number) => (field === '*' ? span : field.startsWith('*/') ? Math.ceil(span / Number(field.slice(2))) : field.split(',').length);
    return count(min, 60) * count(hour, 24) * (prices.hoursPerMonth / 24);
  }
  return undefined;
}

/** Estimated bytes of one access log line: the format with each $context variable taken as 16 bytes. */
function accessLogLineBytes(format: unknown): number {
  if (typeof format !== 'string') return 0;
  return format.replace(/\$context\.[A-Za-z.]+/g, 'x'.repeat(16)).length + 1;
}

/** Custom metrics (namespace sdp) a value mentions, as "service/name": alarm metrics, dashboard bodies. */
function customMetricNames(value: Json, out: Set<string>): void {
  const text = JSON.stringify(value);
  for (const m of text.matchAll(/\\*"sdp\\*",\\*"([A-Za-z0-9_]+)\\*"(?:,\\*"service\\*",\\*"([A-Za-z0-9_-]+)\\*")?/g)) out.add(`${m[2] ?? ''}/${m[1]}`);
}

/** The service dimension of an alarm's own metric. */
const serviceOf = (dimensions: Json): string => ((dimensions ?? []) as Json[]).find((d) => d.Name === 'service')?.Value ?? '';

export function readInventory(template: CfnTemplate): Inventory {
  const entries = Object.entries(template.Resources);
  const ofType = (type: string) => entries.filter(([, r]) => r.Type === type);
  const counts: Record<string, number> = {};
  for (const [, r] of entries) counts[r.Type] = (counts[r.Type] ?? 0) + 1;

  // Names from schemas/resources.ts, through the environment variables that hand them to functions.
  const envToStream = new Map<string, string>(Object.values(streamDefs).map((s) => [s.env, s.name]));
  const envToTable = new Map<string, string>(Object.values(tableDefs).map((t) => [t.env, t.name]));
  const names = new Map<string, string>();
  const eventsStreamIds = new Set<string>();
  for (const [, fn] of ofType('AWS::Lambda::Function')) {
    for (const [env, value] of Object.entries((fn.Properties?.Environment?.Variables ?? {}) as Record<string, Json>)) {
      const id = refOf(value);
      if (!id) continue;
      const name = envToStream.get(env) ?? envToTable.get(env) ?? (env.endsWith('_BUCKET_NAME') ? env.slice(0, -'_BUCKET_NAME'.length).toLowerCase().replace(/_/g, '-') : undefined);
      if (name) names.set(id, name);
      if (env === streamDefs.events.env) eventsStreamIds.add(id);
    }
  }

  const streams: StreamResource[] = ofType('AWS::Kinesis::Stream').map(([id, r]) => {
    const p = r.Properties ?? {};
    const mode = p.StreamModeDetails?.StreamMode === 'ON_DEMAND' ? 'ON_DEMAND' : 'PROVISIONED';
    const shards = resolveNumber(p.ShardCount, template) ?? { value: 1, from: 'none given (1 assumed)' };
    return { id, name: names.get(id) ?? id, mode, shards: mode === 'ON_DEMAND' ? 0 : shards.value, shardsFrom: mode === 'ON_DEMAND' ? 'on-demand' : shards.from, retentionHours: resolveNumber(p.RetentionPeriodHours, template)?.value ?? 24 };
  });

  const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties ?? {});
  const methods = [...ofType('AWS::ApiGateway::Method'), ...ofType('AWS::ApiGatewayV2::Integration')];
  const apiOfMethod = (m: Json): string | undefined => refOf(m.RestApiId) ?? refOf(m.ApiId);

  const functions: FunctionResource[] = ofType('AWS::Lambda::Function').map(([id, r]) => {
    const p = r.Properties ?? {};
    const env = (p.Environment?.Variables ?? {}) as Record<string, Json>;
    const apiIds = new Set<string>();
    for (const [, m] of methods) {
      if (referencedIds(m.Properties?.Integration ?? m.Properties?.IntegrationUri ?? {}).has(id)) {
        const api = apiOfMethod(m.Properties ?? {});
        if (api) apiIds.add(api);
      }
    }
    return {
      id,
      name: typeof env.POWERTOOLS_SERVICE_NAME === 'string' ? env.POWERTOOLS_SERVICE_NAME : id,
      memoryMb: resolveNumber(p.MemorySize, template)?.value ?? 128,
      arch: Array.isArray(p.Architectures) && p.Architectures[0] === 'arm64' ? 'arm64' : 'x86_64',
      mappings: mappings
        .filter((m) => refOf(m.FunctionName) === id && refOf(m.EventSourceArn) && streams.some((s) => s.id === refOf(m.EventSourceArn)))
        .map((m) => ({
          streamId: refOf(m.EventSourceArn)!,
          batchSize: resolveNumber(m.BatchSize, template)?.value ?? 100,
          windowSeconds: resolveNumber(m.MaximumBatchingWindowInSeconds, template)?.value ?? 0,
          parallelization: resolveNumber(m.ParallelizationFactor, template)?.value ?? 1,
        })),
      apiIds: [...apiIds],
      writesEvents: Object.entries(env).some(([k, v]) => k === streamDefs.events.env && eventsStreamIds.has(refOf(v) ?? '')),
      logGroupId: refOf(p.LoggingConfig?.LogGroup),
      publishesMetrics: typeof env.POWERTOOLS_METRICS_NAMESPACE === 'string',
      storageIds: Object.values(env).map(refOf).filter((r): r is string => !!r && ['AWS::DynamoDB::Table', 'AWS::S3::Bucket'].includes(template.Resources[r]?.Type ?? '')),
    };
  });

  // Application Auto Scaling of DynamoDB tables: scalable targets (table, dimension, range) and their target tracking policies.
  const scalingOf = new Map<string, { read?: TableScaling; write?: TableScaling }>();
  const policies = ofType('AWS::ApplicationAutoScaling::ScalingPolicy').map(([, r]) => r.Properties ?? {});
  for (const [targetId, r] of ofType('AWS::ApplicationAutoScaling::ScalableTarget')) {
    const p = r.Properties ?? {};
    const dimension = /^dynamodb:table:(Read|Write)CapacityUnits$/.exec(String(p.ScalableDimension ?? ''));
    const tableId = [...referencedIds(p.ResourceId ?? {})].find((t) => template.Resources[t]?.Type === 'AWS::DynamoDB::Table');
    if (p.ServiceNamespace !== 'dynamodb' || !dimension || !tableId) continue;
    const policy = policies.find((q) => refOf(q.ScalingTargetId) === targetId && q.PolicyType === 'TargetTrackingScaling');
    const target = resolveNumber(policy?.TargetTrackingScalingPolicyConfiguration?.TargetValue, template)?.value;
    const scaling: TableScaling = { min: resolveNumber(p.MinCapacity, template)?.value ?? 1, max: resolveNumber(p.MaxCapacity, template)?.value ?? Infinity, targetPercent: target };
    scalingOf.set(tableId, { ...scalingOf.get(tableId), [dimension[1] === 'Read' ? 'read' : 'write']: scaling });
  }

  const tables: TableResource[] = ofType('AWS::DynamoDB::Table').map(([id, r]) => {
    const p = r.Properties ?? {};
    const provisioned = p.ProvisionedThroughput ? { rcu: resolveNumber(p.ProvisionedThroughput.ReadCapacityUnits, template)?.value ?? 0, wcu: resolveNumber(p.ProvisionedThroughput.WriteCapacityUnits, template)?.value ?? 0 } : undefined;
    return { id, name: names.get(id) ?? id, onDemand: p.BillingMode === 'PAY_PER_REQUEST', provisioned, scaling: scalingOf.get(id), pitr: p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true, ttl: p.TimeToLiveSpecification?.Enabled === true };
  });

  const customMetrics = new Set<string>();
  const alarms: AlarmResource[] = ofType('AWS::CloudWatch::Alarm').map(([id, r]) => {
    const p = r.Properties ?? {};
    if (p.Namespace === 'sdp' && typeof p.MetricName === 'string') customMetrics.add(`${serviceOf(p.Dimensions)}/${p.MetricName}`);
    for (const m of (p.Metrics ?? []) as Json[]) {
      const metric = m.MetricStat?.Metric;
      if (metric?.Namespace === 'sdp') customMetrics.add(`${serviceOf(metric.Dimensions)}/${metric.MetricName}`);
    }
    const metrics = Array.isArray(p.Metrics) ? Math.max(1, p.Metrics.filter((m: Json) => m.MetricStat).length) : 1;
    const period = resolveNumber(p.Period, template)?.value ?? 60;
    return { id, metrics, highResolution: period < 60 };
  });
  const dashboards = ofType('AWS::CloudWatch::Dashboard').map(([id, r]) => {
    customMetricNames(r.Properties?.DashboardBody, customMetrics);
    return id;
  });

  const apis: ApiResource[] = [
    ...ofType('AWS::ApiGateway::RestApi').map(([id]) => {
      const stage = ofType('AWS::ApiGateway::Stage').find(([, s]) => refOf(s.Properties?.RestApiId) === id)?.[1].Properties ?? {};
      const direct = ofType('AWS::ApiGateway::Method').some(([, m]) => refOf(m.Properties?.RestApiId) === id && /:kinesis:action\/PutRecords?/.test(JSON.stringify(m.Properties?.Integration?.Uri ?? '')));
      const logGroup = [...referencedIds(stage.AccessLogSetting?.DestinationArn ?? {})].find((g) => template.Resources[g]?.Type === 'AWS::Logs::LogGroup');
      return { id, kind: 'REST' as const, directToStream: direct, accessLogGroupId: logGroup, accessLogBytes: accessLogLineBytes(stage.AccessLogSetting?.Format) };
    }),
    ...ofType('AWS::ApiGatewayV2::Api')
      .filter(([, r]) => r.Properties?.ProtocolType !== 'WEBSOCKET')
      .map(([id]) => {
        const stage = ofType('AWS::ApiGatewayV2::Stage').find(([, s]) => refOf(s.Properties?.ApiId) === id)?.[1].Properties ?? {};
        const direct = ofType('AWS::ApiGatewayV2::Integration').some(([, i]) => refOf(i.Properties?.ApiId) === id && /^Kinesis-PutRecords?$/.test(String(i.Properties?.IntegrationSubtype ?? '')));
        const logGroup = [...referencedIds(stage.AccessLogSettings?.DestinationArn ?? {})].find((g) => template.Resources[g]?.Type === 'AWS::Logs::LogGroup');
        return { id, kind: 'HTTP' as const, directToStream: direct, accessLogGroupId: logGroup, accessLogBytes: accessLogLineBytes(stage.AccessLogSettings?.Format) };
      }),
  ];

  const logGroups = ofType('AWS::Logs::LogGroup').map(([id, r]) => ({ id, retentionDays: resolveNumber(r.Properties?.RetentionInDays, template)?.value ?? 3653 }));

  const schedules: ScheduleResource[] = [];
  for (const [id, r] of ofType('AWS::Events::Rule')) {
    const expr = r.Properties?.ScheduleExpression;
    if (typeof expr !== 'string' || r.Properties?.State === 'DISABLED') continue;
    const runs = runsPerMonth(expr);
    for (const target of (r.Properties?.Targets ?? []) as Json[]) {
      const targetId = refOf(target.Arn);
      if (targetId && runs !== undefined) schedules.push({ id, runsPerMonth: runs, targetId });
    }
  }

  const stateMachines = ofType('AWS::StepFunctions::StateMachine').map(([id, r]): StateMachineResource => {
    const text = JSON.stringify(r.Properties?.DefinitionString ?? r.Properties?.Definition ?? '');
    let defaultRun: WorkflowPath | undefined;
    try {
      defaultRun = defaultPath(parseDefinition(r.Properties?.DefinitionString ?? r.Properties?.Definition));
    } catch {
      defaultRun = undefined;
    }
    return {
      id,
      defaultRun,
      states: (text.match(/\\*"Type\\*":\\*"(Pass|Task|Choice|Wait|Succeed|Fail|Parallel|Map)\\*"/g) ?? []).length,
      trainingInstanceTypes: [...new Set(text.match(/ml\.[a-z0-9]+\.[a-z0-9]+/g) ?? [])],
      serverlessMemoryMb: [...text.matchAll(/MemorySizeInMB\\*"\s*:\s*(\d+)/g)].map((m) => Number(m[1])),
      athenaQueries: (text.match(/:::athena:startQueryExecution/g) ?? []).length,
    };
  });

  const known = new Set<string>([...PRICED_TYPES, ...Object.keys(FREE_TYPES)]);
  return {
    streams,
    functions,
    tables,
    alarms,
    dashboards,
    kmsKeys: ofType('AWS::KMS::Key').map(([id]) => id),
    buckets: ofType('AWS::S3::Bucket').map(([id]) => ({ id, name: names.get(id) ?? id })),
    apis,
    logGroups,
    schedules,
    stateMachines,
    queues: ofType('AWS::SQS::Queue').map(([id]) => id),
    topics: ofType('AWS::SNS::Topic').map(([id]) => id),
    catalogObjects: ofType('AWS::Glue::Table').length + ofType('AWS::Glue::Database').length,
    distributions: ofType('AWS::CloudFront::Distribution').map(([id]) => id),
    customMetrics: [...customMetrics].sort(),
    unpriced: Object.keys(counts).filter((t) => !known.has(t)).sort(),
    counts,
  };
}
