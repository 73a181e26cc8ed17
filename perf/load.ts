/**
 * Bench `load`: the seed's user journey (a bid, then an impression when won, then sometimes a
 * click; support/journeys.ts) against the local platform in its own process.
 *  - ramp: closed-loop virtual users (5, 10, 20, … up to --max-users), each looping its journey
 *    over keep-alive HTTP; per step accepted req/s, journeys/s, latency p50/p95/p99, rejections and
 *    errors. Capacity: the best accepted req/s of the healthy steps before p99 exceeds
 *    --p99-bound-ms, errors or backpressure appear, or the rate stops growing (support/capacity.ts);
 *  - soak: an open model at --soak-fraction of that capacity (journeys started on a fixed schedule,
 *    not when the previous one ends, so slow answers do not lower the offered load) for
 *    --soak-seconds, sampled every --interval-seconds: req/s, latency, rejections, errors, the
 *    platform process's RSS and CPU, and how far the aggregator is behind;
 *  - then the pipeline drains, and the ground truth the generator kept (events accepted with 2xx,
 *    per campaign) is compared with GET /reports/campaigns/{id}, and `sdp audit` reconciles
 *    stream, aggregates and lake hour by hour.
 * Goals: no errors (5xx other than 503, no answer), no event given up on, none lost and none
 * counted twice in the reports, a clean audit, soak p99 within the bound, the offered rate
 * sustained with no journey dropped at the in-flight cap (--max-in-flight), and the platform's
 * RSS at the end of the soak ≤ 1.5 × its first soak interval.
 */
import { DEFAULT_SHARDS } from '../local/platform';
import { formatTable } from '../local/format';
import { auditTotals, auditUntilClean, type AuditOutcome } from './support/audit';
import { capacityOf, type CapacityVerdict, type RampStep } from './support/capacity';
import { Recorder, summarise, type IntervalSummary } from './support/intervals';
import { Journeys, journeyPlanner, requestsPerJourney, type JourneyMix } from './support/journeys';
import { CpuSplit, type CpuSplitFigures } from './support/cpu-split';
import { aggregatorLag, waitForAggregator } from './support/load';
import { rssMiB } from './support/memory';
import { PlatformProcess } from './support/platform-process';
import { JsonPoster } from './support/post';
import { diffTruth, readReport, type TruthDiff } from './support/reports';
import { progress, type BenchResult, type Figure } from './support/report';
import { percentile, round, sleep } from './support/stats';

export interface LoadOptions {
  rampStepSeconds: number;
  startUsers: number;
  maxUsers: number;
  p99BoundMs: number;
  soakFraction: number;
  soakSeconds: number;
  intervalSeconds: number;
  /** Most journeys in flight during the soak; journeys due beyond it are dropped and counted. */
  maxInFlight: number;
  campaigns: number;
  seed: number;
  shards: number;
  drainTimeoutSeconds: number;
}

export const loadDefaults: LoadOptions = {
  rampStepSeconds: 20,
  startUsers: 5,
  maxUsers: 640,
  p99BoundMs: 250,
  soakFraction: 0.7,
  soakSeconds: 600,
  intervalSeconds: 30,
  maxInFlight: 1000,
  campaigns: 20,
  seed: 42,
  shards: DEFAULT_SHARDS,
  drainTimeoutSeconds: 600,
};

/**
 * RSS at the end of the soak may be at most this many times the first soak interval's. The first
 * interval is taken after the ramp has already pushed the platform to capacity, so caches, buffers
 * and V8's heap are at their working size; what is left is GC sawtooth (tens of MiB) and the
 * emulators' LevelDB caches. A leak proportional to events (~400k in a default soak) grows
 * without bound and crosses 1.5× well within ten minutes.
 */
const MEMORY_GROWTH_LIMIT = 1.5;
/** A step must beat the best rate by 5 % to count as growth (users double each step); two flat steps in a row end the ramp. */
const MIN_GROWTH = 0.05;
const MIX: Omit<JourneyMix, 'campaigns' | 'seed'> = { firstCampaign: 1, winRate: 0.5, clickRate: 0.2 };

interface SoakSample extends IntervalSummary {
  /** Seconds since the soak began, at the end of the interval. */
  at: number;
  journeysPerSecond: number;
  journeyP99: number;
  rssMiB: number;
  cpu: CpuSplitFigures;
  aggregatorBehindS: number;
  inFlight: number;
  /** Journeys due in the interval but not started: maxInFlight were already in flight. */
  dropped: number;
}

const roundCpu = (c: CpuSplitFigures) => ({ platform: round(c.platform), bench: round(c.bench), other: round(c.other) });
const ms = (x: number) => (Number.isFinite(x) ? Math.round(x) : '-');

type RampRow = RampStep & { journeysPerSecond: number; rssMiB: number; cpu: CpuSplitFigures };

/** Ramp: closed-loop users, doubling each step until the capacity verdict is final. */
async function ramp(platform: PlatformProcess, journeys: Journeys, recorder: Recorder, options: LoadOptions): Promise<{ steps: RampRow[]; verdict: CapacityVerdict }> {
  const steps: RampRow[] = [];
  const cpu = await CpuSplit.start(platform, 'ramp');
  let running = true;
  const loops: Promise<void>[] = [];
  let verdict = capacityOf([], { p99BoundMs: options.p99BoundMs, minGrowth: MIN_GROWTH });
  for (let users = options.startUsers; users <= options.maxUsers && !verdict.final; users *= 2) {
    while (loops.length < users) {
      loops.push(
        (async () => {
          while (running) await journeys.run();
        })(),
      );
    }
    await sleep(2000);
    recorder.take();
    journeys.takeDurations();
    await cpu.take();
    await sleep(options.rampStepSeconds * 1000);
    const interval = recorder.take();
    const step: RampRow = { users, ...interval, journeysPerSecond: journeys.takeDurations().length / interval.seconds, rssMiB: rssMiB(platform.pid), cpu: await cpu.take() };
    steps.push(step);
    verdict = capacityOf(steps, { p99BoundMs: options.p99BoundMs, minGrowth: MIN_GROWTH });
    progress(`ramp ${users} users: ${Math.round(step.acceptedPerSecond)} req/s, ${Math.round(step.journeysPerSecond)} journeys/s, p50 ${ms(step.p50)} ms, p99 ${ms(step.p99)} ms, rejected ${step.rejected}, errors ${step.errors}${step.errors ? ` ${JSON.stringify(step.errorKinds)}` : ''}, RSS ${Math.round(step.rssMiB)} MiB, platform ${step.cpu.platform.toFixed(2)} cores, rest of the machine ${step.cpu.other.toFixed(2)}`);
  }
  running = false;
  await Promise.all(loops);
  return { steps, verdict };
}

/** Soak: journeys started at a fixed rate for the whole soak, sampled every interval. */
async function soak(platform: PlatformProcess, journeys: Journeys, recorder: Recorder, journeysPerSecond: number, options: LoadOptions): Promise<{ samples: SoakSample[]; dropped: number }> {
  const api = platform.outputs.UrlForAPI;
  const samples: SoakSample[] = [];
  const t0 = performance.now();
  const end = t0 + options.soakSeconds * 1000;
  recorder.take();
  journeys.takeDurations();
  const cpu = await CpuSplit.start(platform, 'soak');
  let dropped = 0;
  let droppedBefore = 0;
  const sample = async () => {
    const interval = recorder.take();
    const durations = journeys.takeDurations();
    const [lag, split] = await Promise.all([aggregatorLag(api).catch(() => ({ millisBehind: Number.NaN, pending: Number.NaN })), cpu.take()]);
    const row: SoakSample = {
      ...interval,
      at: (performance.now() - t0) / 1000,
      journeysPerSecond: durations.length / interval.seconds,
      journeyP99: percentile(durations, 99),
      rssMiB: rssMiB(platform.pid),
      cpu: split,
      aggregatorBehindS: lag.millisBehind / 1000,
      inFlight: journeys.inFlight,
      dropped: dropped - droppedBefore,
    };
    droppedBefore = dropped;
    samples.push(row);
    progress(`soak ${Math.round(row.at)} s: ${Math.round(row.acceptedPerSecond)} req/s, p50 ${ms(row.p50)} ms, p99 ${ms(row.p99)} ms, rejected ${row.rejected}, errors ${row.errors}${row.errors ? ` ${JSON.stringify(row.errorKinds)}` : ''}, RSS ${Math.round(row.rssMiB)} MiB, platform ${row.cpu.platform.toFixed(2)} cores, rest of the machine ${row.cpu.other.toFixed(2)}, aggregator ${row.aggregatorBehindS.toFixed(1)} s behind, ${row.inFlight} journeys in flight, ${row.dropped} dropped`);
  };
  const sampler = (async () => {
    for (let next = t0 + options.intervalSeconds * 1000; next <= end + 1; next += options.intervalSeconds * 1000) {
      await sleep(Math.max(0, next - performance.now()));
      await sample();
    }
  })();
  const pending = new Set<Promise<void>>();
  let scheduled = 0;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - t0) / 1000) * journeysPerSecond);
    for (; scheduled < due; scheduled++) {
      // An open model without bound would pile journeys up without end once the platform falls
      // behind; past the cap they are dropped (and counted), as load generators' arrival-rate modes do.
      if (pending.size >= options.maxInFlight) {
        dropped++;
        continue;
      }
      const p: Promise<void> = journeys.run().finally(() => pending.delete(p));
      pending.add(p);
    }
    await sleep(5);
  }
  await sampler;
  progress(`soak: ${scheduled - dropped} journeys started, ${dropped} dropped; waiting for the ${pending.size} in flight`);
  await Promise.all(pending);
  return { samples, dropped };
}

/** Reads every campaign's report until it equals the truth or the deadline passes. */
async function compareReports(reportsUrl: string, journeys: Journeys, timeoutMs: number): Promise<TruthDiff> {
  const campaigns = [...journeys.truth.keys()];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const diff = diffTruth(journeys.truth, await Promise.all(campaigns.map((c) => readReport(reportsUrl, c))));
    if ((diff.lost === 0 && diff.extra === 0) || Date.now() > deadline) return diff;
    await sleep(1000);
  }
}

/** The columns ramp steps and soak intervals share: rates, latency, outcomes, memory and CPU. */
function intervalColumns(s: RampRow | SoakSample, journeyP99?: number): Record<string, number | string> {
  return {
    'req/s': Math.round(s.acceptedPerSecond),
    'journeys/s': Math.round(s.journeysPerSecond),
    'p50 ms': ms(s.p50),
    'p95 ms': ms(s.p95),
    'p99 ms': ms(s.p99),
    'max ms': ms(s.max),
    ...(journeyP99 !== undefined && { 'journey p99 ms': ms(journeyP99) }),
    '429/503': s.rejected,
    errors: s.errors,
    'RSS MiB': Math.round(s.rssMiB),
    'platform cores': round(s.cpu.platform, 2),
    'other cores': round(s.cpu.other, 2),
  };
}

function rampTable(steps: RampRow[], verdict: CapacityVerdict): string[] {
  const rows = steps.map((s, i) => ({ users: s.users, ...intervalColumns(s), capacity: i === verdict.best ? '←' : '' }));
  return formatTable({ columns: Object.keys(rows[0] ?? {}), rows }).split('\n');
}

function soakTable(samples: SoakSample[]): string[] {
  const rows = samples.map((s) => ({
    s: Math.round(s.at),
    ...intervalColumns(s, s.journeyP99),
    'agg. behind s': round(s.aggregatorBehindS, 2),
    'in flight': s.inFlight,
    dropped: s.dropped,
  }));
  return formatTable({ columns: Object.keys(rows[0] ?? {}), rows }).split('\n');
}

export async function runLoad(options: LoadOptions): Promise<BenchResult> {
  progress(`starting the local platform (${options.shards} shards)`);
  const platform = await PlatformProcess.start({ shards: options.shards });
  const api = platform.outputs.UrlForAPI;
  const poster = new JsonPoster(api, { maxSockets: Math.max(256, options.maxUsers) });
  const recorder = new Recorder();
  const mix: JourneyMix = { ...MIX, campaigns: options.campaigns, seed: options.seed };
  const journeys = new Journeys(poster, recorder, journeyPlanner(mix, `load${options.seed}-${Date.now().toString(36)}`));
  try {
    const idleRss = rssMiB(platform.pid);
    const cpu = await CpuSplit.start(platform, 'run');

    progress(`ramp: ${options.startUsers} → ${options.maxUsers} closed-loop users, doubling every ${options.rampStepSeconds} s (+2 s settling), p99 bound ${options.p99BoundMs} ms`);
    const { steps, verdict } = await ramp(platform, journeys, recorder, options);
    if (verdict.best < 0) throw new Error(`no ramp step was healthy: ${verdict.reason}`);
    const capacity = verdict.requestsPerSecond;
    progress(`capacity ${Math.round(capacity)} req/s at ${steps[verdict.best].users} users (${verdict.reason}); waiting for the aggregator to catch up`);
    const rampDrainMs = await waitForAggregator(api, options.drainTimeoutSeconds * 1000);

    const soakRequests = capacity * options.soakFraction;
    const soakJourneys = soakRequests / requestsPerJourney(mix);
    progress(`soak: ${Math.round(soakJourneys)} journeys/s (≈ ${Math.round(soakRequests)} req/s, ${Math.round(options.soakFraction * 100)} % of capacity) for ${options.soakSeconds} s, a sample every ${options.intervalSeconds} s`);
    const soakStartRecords = recorder.all.length;
    const { samples, dropped } = await soak(platform, journeys, recorder, soakJourneys, options);
    const soakAll = summarise(recorder.all.slice(soakStartRecords), options.soakSeconds);
    const cpuRun = await cpu.take();

    progress('waiting for the pipeline to drain');
    const drainStarted = Date.now();
    const drainMs = await waitForAggregator(api, options.drainTimeoutSeconds * 1000);
    if (drainMs === undefined) progress(`the aggregator did not catch up within ${options.drainTimeoutSeconds} s; comparing anyway`);
    const diff = await compareReports(platform.outputs.UrlForReports, journeys, 60_000);
    const reportsMs = Date.now() - drainStarted;
    progress(`reports vs truth: ${diff.lost} lost, ${diff.extra} counted beyond the truth, ${diff.campaigns.length} campaigns differ; running sdp audit`);
    const audit: AuditOutcome = await auditUntilClean(platform.dataDir, 120_000);
    const totals = auditTotals(audit.rows);
    const accepted = journeys.acceptedEvents();
    progress(`audit: ${audit.rows.length} hours, ${audit.mismatches} mismatched, after ${audit.attempts} run(s)`);

    const all = summarise(recorder.all, 1);
    const firstRss = samples[0]?.rssMiB ?? Number.NaN;
    const lastRss = samples.at(-1)?.rssMiB ?? Number.NaN;
    const maxRss = Math.max(...samples.map((s) => s.rssMiB));
    const capStep = steps[verdict.best];
    const figures: Figure[] = [
      { key: 'capacity_req_per_s', label: 'capacity (ramp)', value: capacity, unit: 'req/s', note: `${capStep.users} users, ${Math.round(capStep.journeysPerSecond)} journeys/s, p99 ${ms(capStep.p99)} ms; ramp ended: ${verdict.reason}` },
      { key: 'soak_offered_req_per_s', label: `soak offered (${Math.round(options.soakFraction * 100)} % of capacity)`, value: soakRequests, unit: 'req/s', note: `${round(soakJourneys)} journeys/s started on schedule, ${requestsPerJourney(mix)} requests per journey on average` },
      { key: 'soak_req_per_s', label: 'soak accepted', value: soakAll.acceptedPerSecond, unit: 'req/s', goal: { op: '>=', target: soakRequests * 0.95, text: '≥ 0.95 × offered' }, note: `${soakAll.accepted} accepted requests in ${options.soakSeconds} s` },
      { key: 'soak_dropped_journeys', label: '  journeys dropped (in-flight cap)', value: dropped, unit: 'journeys', goal: { op: '<=', target: 0 }, note: `journeys due while ${options.maxInFlight} were already in flight` },
      { key: 'soak_p50_ms', label: '  latency p50', value: soakAll.p50, unit: 'ms' },
      { key: 'soak_p95_ms', label: '  latency p95', value: soakAll.p95, unit: 'ms' },
      { key: 'soak_p99_ms', label: '  latency p99', value: soakAll.p99, unit: 'ms', goal: { op: '<=', target: options.p99BoundMs }, note: `accepted requests over the whole soak; max ${ms(soakAll.max)} ms` },
      { key: 'errors', label: 'errors (5xx but 503, no answer)', value: all.errors, unit: 'requests', goal: { op: '<=', target: 0 }, note: `ramp and soak${all.errors ? ` ${JSON.stringify(all.errorKinds)}` : ''}; ${all.clientErrors} other 4xx` },
      { key: 'rejected', label: 'rejected by backpressure (429/503)', value: all.rejected, unit: 'requests', note: `each resent after its Retry-After; ${journeys.retries} resends in all` },
      { key: 'failed_events', label: 'events given up on', value: journeys.failedEvents, unit: 'events', goal: { op: '<=', target: 0 }, note: 'after 30 attempts' },
      { key: 'lost_events', label: 'lost events (truth − reports)', value: diff.lost, unit: 'events', goal: { op: '<=', target: 0 }, note: `${accepted} events accepted (2xx) over ${journeys.truth.size} campaigns vs GET /reports/campaigns/{id}` },
      { key: 'extra_events', label: 'counted twice (reports − truth)', value: diff.extra, unit: 'events', goal: { op: '<=', target: 0 } },
      { key: 'audit_mismatched_hours', label: 'sdp audit: hours that do not reconcile', value: audit.mismatches, unit: 'hours', goal: { op: '<=', target: 0 }, note: `${audit.rows.length} hours; stream ${totals.streamRecords} records, aggregated ${totals.aggregated}/${totals.expectedAggregated}, lake ${totals.lakeParquet}/${totals.expectedLake}` },
      { key: 'audit_vs_truth', label: '|audit aggregated − truth|', value: Math.abs(totals.aggregated - accepted), unit: 'events', goal: { op: '<=', target: 0 }, note: 'the aggregates count exactly the accepted events' },
      { key: 'rss_growth', label: 'platform RSS, last / first soak interval', value: lastRss / firstRss, unit: '×', goal: { op: '<=', target: MEMORY_GROWTH_LIMIT }, note: `${Math.round(firstRss)} → ${Math.round(lastRss)} MiB (max ${Math.round(maxRss)}; idle ${Math.round(idleRss)} MiB)` },
      { key: 'drain_s', label: 'pipeline drained after the soak', value: (drainMs ?? Number.NaN) / 1000, unit: 's', note: `reports exact ${round(reportsMs / 1000)} s after the soak's last answer` },
    ];
    const notes = [
      'ramp (closed loop: each user starts its next journey when the previous ends):',
      ...rampTable(steps, verdict),
      `aggregator caught up ${rampDrainMs === undefined ? `not within ${options.drainTimeoutSeconds} s` : `${round(rampDrainMs / 1000)} s`} after the ramp`,
      '',
      `soak (open model: ${round(soakJourneys)} journeys/s started on schedule; one row per ${options.intervalSeconds} s; latency of accepted requests; journey = bid to last answer, resends included):`,
      ...soakTable(samples),
      '',
      `CPU over ramp and soak: platform process ${cpuRun.platform.toFixed(2)} cores, bench process ${cpuRun.bench.toFixed(2)} cores, rest of the machine (other work on this shared box) ${cpuRun.other.toFixed(2)} cores`,
      ...(diff.campaigns.length ? [`campaigns that differ from the truth: ${JSON.stringify(diff.campaigns.slice(0, 5))}`] : []),
      ...audit.rows.map((r) => `audit ${r.hour}: stream ${r.streamRecords}, aggregated ${r.aggregated}/${r.expectedAggregated}, lake parquet ${r.lakeParquet} raw ${r.lakeRaw}/${r.expectedLake} ${r.ok ? 'ok' : 'MISMATCH'}`),
    ];
    return {
      bench: 'load',
      figures,
      notes,
      details: {
        options,
        mix,
        ramp: steps.map((s) => ({ users: s.users, reqPerS: round(s.acceptedPerSecond), journeysPerS: round(s.journeysPerSecond), p50: round(s.p50), p95: round(s.p95), p99: round(s.p99), rejected: s.rejected, errors: s.errors, rssMiB: round(s.rssMiB), cpu: roundCpu(s.cpu) })),
        capacity: { reqPerS: round(capacity), users: capStep.users, reason: verdict.reason },
        soak: samples.map((s) => ({ at: Math.round(s.at), reqPerS: round(s.acceptedPerSecond), p50: round(s.p50), p99: round(s.p99), rejected: s.rejected, errors: s.errors, rssMiB: round(s.rssMiB), cpu: roundCpu(s.cpu), aggregatorBehindS: round(s.aggregatorBehindS), inFlight: s.inFlight, dropped: s.dropped })),
        cpu: roundCpu(cpuRun),
        truth: { accepted, campaigns: journeys.truth.size, journeysStarted: journeys.started, journeysCompleted: journeys.completed },
        audit: { hours: audit.rows.length, mismatches: audit.mismatches, attempts: audit.attempts, totals },
      },
    };
  } finally {
    poster.close();
    await platform.stop();
  }
}
