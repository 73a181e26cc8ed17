/**
 * The monthly bill of an inventory (inventory.ts) at a given traffic: each billable part's dollars
 * from the price table (schemas/prices.ts) and the measurements (measurements.ts), with the
 * assumptions it had to make, each saying where its figure comes from. Pure: no I/O.
 *
 * The month is 730 hours (AWS's calculator's month). Traffic is steady: `eventsPerSecond` events
 * every second, posted `eventsPerRequest` to a request. Free tiers are not applied.
 */
import { prices, tieredCost } from '../../schemas/prices';
import { COMPACTION_LISTS_PER_RUN } from '../../lambdas/compaction/plan';
import { settings } from '../../schemas/resources';
import { TRAINING_HORIZON_DAYS } from '../../lambdas/ml/outcome';
import type { Inventory, StreamResource, FunctionResource } from './inventory';
import { tableAtBatch, type Measurements } from './measurements';
import { ALARMS_PER_TABLE_POLICY, tableCapacityAt, tableScalingPolicies } from './table-capacity';

/** Share of the events by stream name (adtech: bid, impression, click). */
export type EventMix = Record<string, number>;

export interface Traffic {
  eventsPerSecond: number;
  eventsPerRequest: number;
  /** Shares of each stream's events; undefined: the measured mix. */
  mix?: EventMix;
}

export interface BillLine {
  service: string;
  /** The resource or charge, e.g. "events stream: 1 shard-month". */
  item: string;
  usd: number;
}

export interface Assumption {
  what: string;
  value: string;
  source: string;
}

export interface Bill {
  traffic: Required<Traffic>;
  eventsPerMonth: number;
  requestsPerMonth: number;
  lines: BillLine[];
  total: number;
  assumptions: Assumption[];
  /** Things the reader should act on (a stream short of shards, a resource left unmeasured). */
  warnings: string[];
}

export const SECONDS_PER_MONTH = prices.hoursPerMonth * 3600;
const GB = 1024 ** 3;
/** Lambda writes START, END and REPORT lines for every invocation (about 100 bytes each). */
const LAMBDA_PLATFORM_LOG_BYTES = 300;
const KINESIS_RECORDS_PER_SHARD = 1000;
const KINESIS_BYTES_PER_SHARD = 1024 * 1024;
const PAYLOAD_UNIT_BYTES = 25 * 1024;
/**
 * An EMF record of n metrics, as Powertools Metrics 2.35 serializes it: 209 B for one metric, 692 B
 * for eight (serializeMetrics(), measured with the library: metrics are off on the local platform).
 */
export const emfBytes = (metrics: number) => 140 + 69 * Math.max(1, metrics);
/** Tables with TTL hold about this long of events: the oldest event ingestion accepts (MAX_EVENT_AGE_SECONDS, 7 days). */
const TTL_WINDOW_SECONDS = settings.maxEventAgeSeconds.default;
/** Not measured by the bench: each scheduled or workflow function's run (assumed, stated in the report). */
const ASSUMED_JOB_RUN_MS = 2000;
/** Athena bills every query at least 10 MB scanned ("rounded up to the nearest megabyte, with a 10 MB minimum per query"). */
const ATHENA_MINIMUM_MB = 10;
/** One SageMaker training job per retraining run, billed per second from instance start (assumed). */
const ASSUMED_TRAINING_MINUTES = 6;
/**
 * Whether a retraining run trains: its training set (the bids of the last TRAINING_HORIZON_DAYS,
 * one auction each) must hold RETRAIN_MIN_NEW_AUCTIONS auctions, else the state machine ends the
 * run without a job (lib/retraining.ts, EnoughAuctions). Idle: never.
 */
const retrainingTrains = (eventsPerSecond: number, bidShare: number) =>
  eventsPerSecond * bidShare * TRAINING_HORIZON_DAYS * 86400 >= settings.retrainMinNewAuctions.default;

/**
 * Batches per second a Kinesis event source mapping makes of one shard's records: Lambda reads a
 * shard about once a second ("Lambda reads records from each shard at a base rate of once per
 * second"), or gathers for the batching window when one is set, or more often when a batch fills.
 */
export function batchesPerSecond(recordsPerSecond: number, batchSize: number, windowSeconds: number): number {
  if (recordsPerSecond <= 0) return 0;
  const polls = Math.max(1 / Math.max(1, windowSeconds), recordsPerSecond / batchSize);
  return Math.min(recordsPerSecond, polls);
}

const usdFormat = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;

export function computeBill(inventory: Inventory, m: Measurements, trafficIn: Traffic): Bill {
  const traffic: Required<Traffic> = { ...trafficIn, mix: trafficIn.mix ?? m.workload.mix };
  const eps = traffic.eventsPerSecond;
  const eventsPerMonth = eps * SECONDS_PER_MONTH;
  const requestsPerSecond = eps > 0 ? eps / traffic.eventsPerRequest : 0;
  const lines: BillLine[] = [];
  const assumptions: Assumption[] = [];
  const warnings: string[] = [];
  const add = (service: string, item: string, usd: number) => lines.push({ service, item, usd });
  const assume = (what: string, value: string, source: string) => assumptions.push({ what, value, source });
  const measured = `measured on the local platform (${m.command}, ${m.measuredAt.slice(0, 10)}, commit ${m.commit.slice(0, 7)})`;
  let logBytesPerMonth = new Map<string, number>();
  const logTo = (groupId: string | undefined, bytes: number) => {
    if (groupId) logBytesPerMonth.set(groupId, (logBytesPerMonth.get(groupId) ?? 0) + bytes);
  };

  // Streams: records per second on each, from the measured records per event.
  const mixTotal = Object.values(traffic.mix).reduce((a, b) => a + b, 0) || 1;
  const streamRecords = new Map<string, { perSecond: number; bytes: number }>();
  for (const s of inventory.streams) {
    const sm = m.streams[s.name];
    if (!sm) {
      if (eps > 0) warnings.push(`no measurement for stream ${s.name}: its traffic is not billed`);
      streamRecords.set(s.id, { perSecond: 0, bytes: 0 });
      continue;
    }
    const byType = sm.bytesPerRecordByType;
    const bytes = byType && Object.keys(byType).length ? Object.entries(traffic.mix).reduce((sum, [t, share]) => sum + (share / mixTotal) * (byType[t] ?? sm.bytesPerRecord), 0) : sm.bytesPerRecord;
    streamRecords.set(s.id, { perSecond: eps * sm.recordsPerEvent, bytes });
  }
  assume('records per event and bytes per record of each stream', Object.entries(m.streams).map(([n, s]) => `${n}: ${s.recordsPerEvent.toFixed(3)} records/event, ${Math.round(s.bytesPerRecord)} B/record`).join('; '), measured);

  const billStream = (s: StreamResource) => {
    const { perSecond, bytes } = streamRecords.get(s.id)!;
    const consumers = inventory.functions.reduce((n, f) => n + f.mappings.filter((mp) => mp.streamId === s.id).length, 0);
    if (s.mode === 'ON_DEMAND') {
      add('Kinesis', `${s.name} stream: on-demand stream-hours`, prices.kinesis.onDemandStreamHour.usd * prices.hoursPerMonth);
      const gbIn = (perSecond * Math.ceil(bytes / 1024) * 1024 * SECONDS_PER_MONTH) / GB;
      add('Kinesis', `${s.name} stream: ${gbIn.toFixed(1)} GB written (records rounded up to 1 KB)`, gbIn * prices.kinesis.onDemandDataInGb.usd);
      add('Kinesis', `${s.name} stream: ${gbIn.toFixed(1)} GB read by ${consumers} consumer(s)`, gbIn * consumers * prices.kinesis.onDemandDataOutGb.usd);
      if (s.retentionHours > 24) {
        const retainedGb = (perSecond * bytes * Math.min(s.retentionHours - 24, 144) * 3600) / GB;
        add('Kinesis', `${s.name} stream: ${retainedGb.toFixed(1)} GB kept beyond 24 h (${s.retentionHours} h retention)`, retainedGb * prices.kinesis.onDemandExtendedRetentionGbMonth.usd);
      }
      return;
    }
    const needed = Math.max(Math.ceil(perSecond / KINESIS_RECORDS_PER_SHARD), Math.ceil((perSecond * bytes) / KINESIS_BYTES_PER_SHARD));
    const shards = Math.max(s.shards, needed);
    if (shards > s.shards) warnings.push(`${s.name} stream: ${perSecond.toFixed(0)} records/s need ${shards} shards, the template has ${s.shards} (${s.shardsFrom}); billed at ${shards}`);
    add('Kinesis', `${s.name} stream: ${shards} shard(s) × ${prices.hoursPerMonth} h`, shards * prices.kinesis.shardHour.usd * prices.hoursPerMonth);
    if (s.retentionHours > 24) add('Kinesis', `${s.name} stream: retention ${s.retentionHours} h (beyond 24 h)`, shards * prices.kinesis.extendedRetentionShardHour.usd * prices.hoursPerMonth);
    const units = perSecond * Math.max(1, Math.ceil(bytes / PAYLOAD_UNIT_BYTES)) * SECONDS_PER_MONTH;
    if (units > 0) add('Kinesis', `${s.name} stream: ${(units / 1e6).toFixed(1)} M PUT payload units`, units * prices.kinesis.putPayloadUnits.usd);
  };
  inventory.streams.forEach(billStream);

  // Functions: invocations and GB-seconds.
  const gbSecondPrice = (f: FunctionResource) => (f.arch === 'arm64' ? prices.lambda.gbSecondArm64.usd : prices.lambda.gbSecondX86.usd);
  const billInvocations = (f: FunctionResource, what: string, invocationsPerMonth: number, recordsPerInvocation: number, ms: number, logBytesPerInvocation: number) => {
    if (invocationsPerMonth <= 0) return;
    const gbSeconds = (f.memoryMb / 1024) * (ms / 1000) * invocationsPerMonth;
    add('Lambda', `${f.name}: ${formatCount(invocationsPerMonth)} invocations (${what})`, invocationsPerMonth * prices.lambda.requests.usd);
    const per = recordsPerInvocation > 0 ? ` per invocation of ${recordsPerInvocation.toFixed(0)} record(s)` : ' per run';
    add('Lambda', `${f.name}: ${formatCount(gbSeconds)} GB-s (${f.memoryMb} MB ${f.arch}, ${ms.toFixed(0)} ms${per})`, gbSeconds * gbSecondPrice(f));
    logTo(f.logGroupId, invocationsPerMonth * (LAMBDA_PLATFORM_LOG_BYTES + logBytesPerInvocation));
  };
  const scheduledRuns = new Map<string, number>();
  const listRequests = new Map<string, number>();
  for (const s of inventory.schedules) scheduledRuns.set(s.targetId, (scheduledRuns.get(s.targetId) ?? 0) + s.runsPerMonth);
  const workflowRuns = inventory.stateMachines.reduce((n, sm) => n + (scheduledRuns.get(sm.id) ?? 0), 0);
  // A run that trains goes through every state (each workflow function once); a run that does not
  // (idle) ends at the first terminal state of the skip branch, EnoughAuctions' Default: only the
  // transitions and the function calls on that path (workflow-path.ts).
  // Retraining is adtech's (lib/retraining.ts): its training set is the bids; no bid stream, no training.
  const trains = retrainingTrains(eps, (traffic.mix.bid ?? 0) / mixTotal);
  const shortRun = (sm: Inventory['stateMachines'][number]) => (trains ? undefined : sm.defaultRun);
  const workflowCalls = new Map<string, number>();
  for (const sm of inventory.stateMachines) {
    const run = shortRun(sm);
    const runs = scheduledRuns.get(sm.id) ?? 0;
    if (run) for (const fnId of run.functionIds) workflowCalls.set(fnId, (workflowCalls.get(fnId) ?? 0) + runs);
  }
  const workflowInvocations = (f: FunctionResource) =>
    inventory.stateMachines.every((sm) => shortRun(sm)) ? workflowCalls.get(f.id) ?? 0 : workflowRuns;
  let unmeasuredFunctions: string[] = [];
  /** Records per invocation of each stream consumer at this traffic (its busiest stream), and its invocations a month. */
  const batchRecords = new Map<string, number>();
  const invocationsPerMonth = new Map<string, number>();
  for (const f of inventory.functions) {
    const fm = m.functions[f.name];
    const duration = (records: number) => (fm ? fm.fixedMs + fm.perRecordMs * records : ASSUMED_JOB_RUN_MS);
    const metricsOfService = inventory.customMetrics.filter((k) => k.split('/')[0] === f.name).length;
    const emf = f.publishesMetrics ? emfBytes(metricsOfService) : 0;
    const logBytes = (records: number) => emf + (fm ? fm.logBytesPerInvocation + fm.logBytesPerRecord * records : 0);
    for (const mp of f.mappings) {
      const stream = inventory.streams.find((s) => s.id === mp.streamId)!;
      const { perSecond } = streamRecords.get(stream.id)!;
      const shards = stream.mode === 'ON_DEMAND' ? Math.max(1, Math.ceil(perSecond / KINESIS_RECORDS_PER_SHARD)) : Math.max(stream.shards, Math.ceil(perSecond / KINESIS_RECORDS_PER_SHARD));
      const perShard = perSecond / shards;
      const batches = batchesPerSecond(perShard, mp.batchSize, mp.windowSeconds) * shards;
      if (batches <= 0) continue;
      if (!fm) unmeasuredFunctions.push(f.name);
      const records = perSecond / batches;
      batchRecords.set(f.name, Math.max(batchRecords.get(f.name) ?? 0, records));
      invocationsPerMonth.set(f.name, (invocationsPerMonth.get(f.name) ?? 0) + batches * SECONDS_PER_MONTH);
      billInvocations(f, `batches of the ${stream.name} stream`, batches * SECONDS_PER_MONTH, records, duration(records), logBytes(records));
    }
    if (f.writesEvents && f.apiIds.length > 0 && requestsPerSecond > 0) {
      if (!fm) unmeasuredFunctions.push(f.name);
      billInvocations(f, 'one per ingestion request', requestsPerSecond * SECONDS_PER_MONTH, traffic.eventsPerRequest, duration(traffic.eventsPerRequest), logBytes(traffic.eventsPerRequest));
    }
    const runs = scheduledRuns.get(f.id);
    if (runs) billInvocations(f, 'scheduled runs', runs, 0, ASSUMED_JOB_RUN_MS, 0);
    if (runs && f.name === 'compaction') listRequests.set(f.name, runs * COMPACTION_LISTS_PER_RUN);
    if (!runs && f.mappings.length === 0 && f.apiIds.length === 0 && workflowRuns > 0 && !f.id.startsWith('CustomCDK')) billInvocations(f, 'workflow runs', workflowInvocations(f), 0, ASSUMED_JOB_RUN_MS, 0);
  }
  unmeasuredFunctions = [...new Set(unmeasuredFunctions)];
  if (unmeasuredFunctions.length) warnings.push(`no measurement for function(s) ${unmeasuredFunctions.join(', ')}: billed at ${ASSUMED_JOB_RUN_MS} ms per invocation`);
  assume('Lambda handler time per invocation', Object.entries(m.functions).map(([n, f]) => `${n}: ${f.fixedMs.toFixed(1)} ms + ${f.perRecordMs.toFixed(3)} ms/record`).join('; '), `${measured}; local CPU time of the handlers, not Lambda's`);
  assume('batches of a stream consumer', 'about one per shard per second (or per batching window), more when a batch fills', 'AWS Lambda docs: "Lambda reads records from each shard at a base rate of once per second"');
  assume('scheduled and workflow functions (compaction, retraining steps)', `${ASSUMED_JOB_RUN_MS} ms per run`, 'assumed, not measured');
  assume('reports, predictions and console traffic', 'none', 'not modelled: the bill is for ingestion, aggregation and the lake');

  // API: one request per `eventsPerRequest` events.
  const requestsPerMonth = requestsPerSecond * SECONDS_PER_MONTH;
  for (const api of inventory.apis) {
    if (requestsPerMonth > 0) {
      const price = api.kind === 'REST' ? prices.apiGateway.restRequests : prices.apiGateway.httpRequests;
      add('API Gateway', `${api.kind} API: ${formatCount(requestsPerMonth)} requests`, tieredCost(price, requestsPerMonth));
      logTo(api.accessLogGroupId, requestsPerMonth * api.accessLogBytes);
    }
  }
  assume('API access log line', inventory.apis.map((a) => `${a.accessLogBytes} B`).join(', ') || 'none', "estimated from the stage's access log format (16 B per $context value)");

  // Tables: request units per event (on demand) or the capacity they need (provisioned), storage of what TTL keeps (or a month's growth).
  for (const t of inventory.tables) {
    const tm = m.tables[t.name];
    if (!tm && eps > 0) warnings.push(`no measurement for table ${t.name}: its requests are not billed`);
    let wruPerEvent = 0;
    let rruPerEvent = 0;
    let batchNote = '';
    if (tm && eventsPerMonth > 0) {
      const writer = inventory.functions.find((f) => f.mappings.length > 0 && f.storageIds.includes(t.id));
      const batch = writer ? batchRecords.get(writer.name) ?? 0 : 0;
      const at = tableAtBatch(tm.samples, writer?.name, batch);
      wruPerEvent = at.writeUnitsPerEvent;
      rruPerEvent = at.readUnitsPerEvent + at.queriesPerEvent * 0.5;
      batchNote = writer && batch ? ` at ${writer.name} batches of ${batch.toFixed(0)}` : '';
      const range = writer ? tm.samples.map((s) => s.batchRecords[writer.name] ?? 0).filter((n) => n > 0) : [];
      if (range.length && batch > 0 && (batch < Math.min(...range) * 0.8 || batch > Math.max(...range) * 1.25)) {
        warnings.push(`${t.name}: ${writer!.name} batches of ${batch.toFixed(0)} records are outside the measured ${Math.min(...range).toFixed(0)}–${Math.max(...range).toFixed(0)}: the nearest measurement is used`);
      }
    }
    const capacity = tableCapacityAt(t, wruPerEvent * eps, rruPerEvent * eps);
    if (capacity) {
      add('DynamoDB', `${t.name}: ${capacity.write.units} WCU provisioned (${capacity.write.how})`, capacity.write.units * prices.dynamodb.provisionedWcuHour.usd * prices.hoursPerMonth);
      add('DynamoDB', `${t.name}: ${capacity.read.units} RCU provisioned (${capacity.read.how})`, capacity.read.units * prices.dynamodb.provisionedRcuHour.usd * prices.hoursPerMonth);
      for (const c of [capacity.write, capacity.read]) if (c.shortfall) warnings.push(`${t.name}: ${c.shortfall}`);
    } else if (tm && eventsPerMonth > 0) {
      const wru = wruPerEvent * eventsPerMonth;
      const rru = rruPerEvent * eventsPerMonth;
      add('DynamoDB', `${t.name}: ${formatCount(wru)} write units (${wruPerEvent.toFixed(2)}/event${batchNote})`, wru * prices.dynamodb.writeRequestUnits.usd);
      if (rru > 0) add('DynamoDB', `${t.name}: ${formatCount(rru)} read units (${rruPerEvent.toFixed(2)}/event)`, rru * prices.dynamodb.readRequestUnits.usd);
    }
    if (!tm) continue;
    const storedGb = (tm.storedBytesPerEvent * eps * (t.ttl ? TTL_WINDOW_SECONDS : SECONDS_PER_MONTH)) / GB;
    if (storedGb > 0) {
      add('DynamoDB', `${t.name}: ${storedGb.toFixed(2)} GB stored${t.ttl ? ' (7 days of events, TTL)' : ' (one month of growth)'}`, storedGb * prices.dynamodb.storageGbMonth.usd);
      if (t.pitr) add('DynamoDB', `${t.name}: ${storedGb.toFixed(2)} GB point-in-time recovery`, storedGb * prices.dynamodb.pitrGbMonth.usd);
    }
  }
  const scalingPolicies = tableScalingPolicies(inventory.tables);
  if (scalingPolicies > 0) {
    add('CloudWatch', `${scalingPolicies * ALARMS_PER_TABLE_POLICY} alarms auto scaling keeps for ${scalingPolicies} table scaling policies`, scalingPolicies * ALARMS_PER_TABLE_POLICY * prices.cloudwatch.alarmMetric.usd);
    const targets = [...new Set(inventory.tables.flatMap((t) => [t.scaling?.read?.targetPercent, t.scaling?.write?.targetPercent]).filter((p): p is number => p !== undefined))];
    const minimums = [...new Set(inventory.tables.flatMap((t) => [t.scaling?.read?.min, t.scaling?.write?.min]).filter((p): p is number => p !== undefined))];
    assume(
      'DynamoDB provisioned capacity',
      `the measured units per second ÷ the ${targets.join('/')} % target utilization of the template's scaling policies, in whole units, never below the scaling minimum (${minimums.join('/')}); idle: the minimum of each table; ${ALARMS_PER_TABLE_POLICY} alarms per policy`,
      'Application Auto Scaling target tracking keeps "the ratio of consumed to provisioned capacity" at the target; it "creates and manages the CloudWatch alarms" (AlarmHigh, AlarmLow, ProvisionedCapacityHigh, ProvisionedCapacityLow per table dimension)',
    );
    assume(
      'steady traffic',
      'auto scaling follows traffic a few minutes late, so the bill is that of steady traffic. A rise beyond the capacity draws on burst capacity, then is throttled (ProvisionedThroughputExceededException) until auto scaling catches up: the SDK retries, then the stream consumer retries its whole batch, and the consumers fall behind; no event is lost or counted twice. A batch still throttled after its 10 retries goes to its dead-letter queue (an alarm fires) and sdp dlq redrive --aws replays it exactly once. A lake-writer batch (30 s of a shard) written at once draws on burst capacity',
      'DynamoDB: "Auto scaling triggers when your consumed capacity breaches the configured target utilization for two consecutive minutes"; "DynamoDB currently retains up to 5 minutes (300 seconds) of unused read and write capacity" (best effort); exactness under throttled writes: test/e2e/aggregator-faults.test.ts',
    );
  }
  assume(
    'DynamoDB request units per event',
    Object.entries(m.tables)
      .filter(([, t]) => t.samples.some((s) => s.writeUnitsPerEvent > 0))
      .map(([n, t]) => `${n}: ${t.samples.map((s) => `${s.writeUnitsPerEvent.toFixed(2)} WRU + ${s.readUnitsPerEvent.toFixed(2)} RRU at batches of ${Object.entries(s.batchRecords).map(([f, r]) => `${r.toFixed(0)} (${f})`).join(', ')}`).join(' / ')}`)
      .join('; '),
    `${measured} (dynalite's ReturnConsumedCapacity arithmetic), interpolated at this traffic's batch size; queries counted as half a read unit each`,
  );
  assume('DynamoDB storage', 'tables with TTL hold 7 days of events; the others bill one month of growth', 'MAX_EVENT_AGE_SECONDS (7 days) of the ingestion function; stored bytes per event measured');

  // Buckets: requests and a month's growth.
  for (const b of inventory.buckets) {
    const bm = m.buckets[b.name];
    if (!bm || eventsPerMonth === 0) continue;
    const byInvocation = bm.perInvocation && invocationsPerMonth.get(bm.perInvocation.function);
    const puts = byInvocation ? bm.perInvocation!.puts * byInvocation : bm.putsPerEvent * eventsPerMonth;
    const gets = byInvocation ? (bm.perInvocation!.gets + bm.perInvocation!.other) * byInvocation : (bm.getsPerEvent + bm.otherRequestsPerEvent) * eventsPerMonth;
    const gb = (bm.bytesPerEvent * eventsPerMonth) / GB;
    add('S3', `${b.name} bucket: ${formatCount(puts)} PUT/LIST requests`, puts * prices.s3.putRequests.usd);
    if (gets > 0) add('S3', `${b.name} bucket: ${formatCount(gets)} GET and other requests`, gets * prices.s3.getRequests.usd);
    add('S3', `${b.name} bucket: ${gb.toFixed(1)} GB added this month`, gb * prices.s3.storageGbMonth.usd);
  }
  for (const [fn, lists] of listRequests) add('S3', `${fn}: ${formatCount(lists)} LIST requests (${COMPACTION_LISTS_PER_RUN} per run)`, lists * prices.s3.putRequests.usd);
  if (listRequests.size > 0) assume('compaction listings', `${COMPACTION_LISTS_PER_RUN} LIST requests per run (its manifests, raw/, parquet/), one more per 1,000 lake objects past the first of each (not counted: the lake's size is not modelled)`, 'lambdas/compaction/compact.ts listAll');
  assume(
    'S3 requests',
    Object.entries(m.buckets).map(([n, b]) => (b.perInvocation ? `${n}: ${b.perInvocation.puts.toFixed(1)} PUTs per ${b.perInvocation.function} invocation` : `${n}: ${b.putsPerEvent.toFixed(4)} PUTs per event`)).join('; ') || 'none',
    measured,
  );
  assume('S3 storage', 'billed for one month of data (the lake keeps everything: each month adds the same again)', 'lake bucket has no expiry in the template');

  // CloudWatch.
  const alarmMetrics = inventory.alarms.filter((a) => !a.highResolution).reduce((n, a) => n + a.metrics, 0);
  const hiResMetrics = inventory.alarms.filter((a) => a.highResolution).reduce((n, a) => n + a.metrics, 0);
  if (alarmMetrics) add('CloudWatch', `${inventory.alarms.length} alarms reading ${alarmMetrics} metrics`, alarmMetrics * prices.cloudwatch.alarmMetric.usd);
  if (hiResMetrics) add('CloudWatch', `high-resolution alarms reading ${hiResMetrics} metrics`, hiResMetrics * prices.cloudwatch.highResolutionAlarmMetric.usd);
  if (inventory.dashboards.length) add('CloudWatch', `${inventory.dashboards.length} dashboard(s)`, inventory.dashboards.length * prices.cloudwatch.dashboard.usd);
  // Idle, nothing publishes: the stream consumers are not invoked, and scheduled compaction sends
  // its metrics only when a run did work (lambdas/compaction/compact.ts didWork).
  const published = eps > 0 ? inventory.customMetrics : [];
  if (published.length) add('CloudWatch', `${published.length} custom metrics published`, published.length * prices.cloudwatch.customMetric.usd);
  assume(
    'custom metrics',
    `${inventory.customMetrics.length} (service, name) pairs: those the alarms and dashboard read; idle, none (compaction publishes only after a run that did work)`,
    'the template (alarms and dashboard, namespace sdp); CloudWatch pricing: "All custom metrics charges are prorated by the hour and metered only when you send metrics to CloudWatch"',
  );
  let logGb = 0;
  let storedLogGb = 0;
  for (const g of inventory.logGroups) {
    const gb = (logBytesPerMonth.get(g.id) ?? 0) / GB;
    logGb += gb;
    storedLogGb += gb * Math.min(1, g.retentionDays / 30.4);
  }
  logBytesPerMonth = new Map();
  if (logGb > 0) {
    add('CloudWatch', `logs: ${logGb.toFixed(2)} GB ingested`, logGb * prices.cloudwatch.logsIngestedGb.usd);
    add('CloudWatch', `logs: ${storedLogGb.toFixed(2)} GB kept (retention)`, storedLogGb * prices.cloudwatch.logsStoredGbMonth.usd);
  }
  assume('log bytes', `${LAMBDA_PLATFORM_LOG_BYTES} B per invocation of Lambda's own lines, an EMF record of the function's metrics (${emfBytes(1)} B for one metric, ${emfBytes(8)} B for eight), plus the handlers' own lines`, "Lambda's START/END/REPORT lines (about 100 B each); EMF size from Powertools Metrics' serializeMetrics(); handlers' lines measured locally");

  // Keys, catalog, workflows, training.
  if (inventory.kmsKeys.length) add('KMS', `${inventory.kmsKeys.length} customer managed key(s)`, inventory.kmsKeys.length * prices.kms.keyMonth.usd);
  if (inventory.catalogObjects) add('Glue', `${inventory.catalogObjects} Data Catalog objects`, inventory.catalogObjects * prices.glue.catalogObjectMonth.usd);
  for (const sm of inventory.stateMachines) {
    const runs = scheduledRuns.get(sm.id) ?? 0;
    if (!runs) continue;
    const run = shortRun(sm);
    const transitions = run ? run.states.length : sm.states;
    add('Step Functions', `${sm.id}: ${runs.toFixed(0)} runs × ${transitions} transitions`, runs * transitions * prices.stepFunctions.standardTransitions.usd);
    const queries = run ? run.athenaQueries : sm.athenaQueries;
    // The training set's queries scan little on a small lake; each is billed at least 10 MB.
    if (queries > 0) add('Athena', `${sm.id}: ${runs.toFixed(0)} runs × ${queries} queries (10 MB minimum each)`, (runs * queries * ATHENA_MINIMUM_MB * prices.athena.scannedTb.usd) / 1024 ** 2);
    if (!trains) continue;
    for (const type of sm.trainingInstanceTypes) {
      const hourly = prices.sagemaker.trainingInstanceHour[type];
      if (!hourly) {
        warnings.push(`no price for SageMaker training instance ${type}`);
        continue;
      }
      add('SageMaker', `training: ${runs.toFixed(0)} jobs × ${ASSUMED_TRAINING_MINUTES} min on ${type}`, (runs * ASSUMED_TRAINING_MINUTES * hourly.usd) / 60);
    }
  }
  if (inventory.stateMachines.some((sm) => sm.trainingInstanceTypes.length)) {
    assume('SageMaker training job', `${ASSUMED_TRAINING_MINUTES} min per run, one instance`, 'assumed (lib/retraining.ts: "a training job of a few minutes")');
    assume(
      'retraining state transitions per run',
      inventory.stateMachines
        .map((sm) => `a run that trains: all ${sm.states} states of the definition, once each; a run that does not: the ${sm.defaultRun ? `${sm.defaultRun.states.length} states from ${sm.defaultRun.states[0]} to ${sm.defaultRun.states[sm.defaultRun.states.length - 1]}, taking every Choice's Default (a Parallel's branch states counted), and only the function calls on them` : `${sm.states} states (its definition could not be walked)`}`)
        .join('; '),
      'the state machine definition in the template; Step Functions bills Standard workflows per state transition',
    );
    assume(
      'retraining runs that train',
      `only when the last ${TRAINING_HORIZON_DAYS} days hold at least ${settings.retrainMinNewAuctions.default} auctions (one per bid): ${trains ? 'every run at this traffic' : 'none at this traffic (idle)'}`,
      'lib/retraining.ts: the state machine ends a run without a training job below RETRAIN_MIN_NEW_AUCTIONS',
    );
  }
  if (inventory.stateMachines.some((sm) => sm.serverlessMemoryMb.length)) assume('SageMaker Serverless Inference', 'no predictions: nothing while idle', 'the endpoint bills per request; prediction traffic is not modelled');
  assume('free tiers', 'not applied', 'schemas/prices.ts');
  assume('SQS dead-letter queues, SNS alarm topic, ad-hoc Athena queries, CloudFront console', '$0: billed only per message, notification, TB scanned or request', 'nothing flows through them in steady operation');

  const total = lines.reduce((s, l) => s + l.usd, 0);
  return { traffic, eventsPerMonth, requestsPerMonth, lines, total, assumptions, warnings };
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

export interface CostReport {
  region: string;
  template: string;
  measurements: { file: string; measuredAt: string; commit: string };
  traffic: Required<Traffic>;
  eventsPerMonth: number;
  requestsPerMonth: number;
  idleTotal: number;
  total: number;
  /** Dollars per million events at this traffic, everything included (idle too); null at 0 events/s. */
  perMillionEvents: number | null;
  components: (BillLine & { idleUsd: number })[];
  byService: Record<string, number>;
  assumptions: Assumption[];
  warnings: string[];
}

/** The bill at the traffic beside the idle bill: what `sdp cost` prints. */
export function costReport(inventory: Inventory, m: Measurements, traffic: Traffic, context: { region: string; template: string; measurementsFile: string }): CostReport {
  const bill = computeBill(inventory, m, traffic);
  const idle = computeBill(inventory, m, { ...traffic, eventsPerSecond: 0 });
  // A line's counts change with the traffic (shards, metrics published): lines are matched without their numbers.
  const key = (l: BillLine) => `${l.service}|${l.item.replace(/\d[\d.,]*(\s?[kMB]\b)?/g, '#')}`;
  const idleByItem = new Map<string, number>();
  for (const l of idle.lines) idleByItem.set(key(l), (idleByItem.get(key(l)) ?? 0) + l.usd);
  const byService: Record<string, number> = {};
  for (const l of bill.lines) byService[l.service] = (byService[l.service] ?? 0) + l.usd;
  return {
    region: context.region,
    template: context.template,
    measurements: { file: context.measurementsFile, measuredAt: m.measuredAt, commit: m.commit },
    traffic: bill.traffic,
    eventsPerMonth: bill.eventsPerMonth,
    requestsPerMonth: bill.requestsPerMonth,
    idleTotal: idle.total,
    total: bill.total,
    perMillionEvents: bill.eventsPerMonth > 0 ? (bill.total / bill.eventsPerMonth) * 1e6 : null,
    components: bill.lines.map((l) => ({ ...l, idleUsd: idleByItem.get(key(l)) ?? 0 })),
    byService,
    assumptions: bill.assumptions,
    warnings: bill.warnings,
  };
}

export { usdFormat };
