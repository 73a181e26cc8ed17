/**
 * exactness: what the aggregator's exactly-once mechanism costs, with and without injected faults.
 *
 * Modelled on test/e2e/aggregator-faults.test.ts, in this process: kinesalite and dynalite in
 * worker threads, the aggregator handler behind the local event source mapping (StreamPoller with
 * the production `aggregatorMapping`), and a FaultInjector on the handler's DynamoDB and Kinesis
 * clients plus whole-invocation faults. Four scenarios, each with its own campaigns and its own
 * consumer (own checkpoints): seed-like traffic (few campaigns) and wide traffic (many campaigns),
 * each without and with faults. A scenario's events (resends included) are put on the events
 * stream before its poller starts; it is timed from the poller's start until the poller is idle
 * and the aggregate rows equal the ground truth exactly. DynamoDB requests per record are the
 * dynalite request-count deltas of the aggregator's operations (the bench's own Scans excluded)
 * over the records on the stream. The bench fails (MISS) when any scenario is not exact.
 */
import { DEFAULT_SHARDS } from '../local/platform';
import { StreamPoller } from '../local/stream-poller';
import { CheckpointStore } from '../local/checkpoints';
import { DeadLetterStore } from '../local/dead-letters';
import { countedByCampaign, startAggregatorRig, type AggregatorRig } from '../local/aggregator-rig';
import { generateWorkload, type Counts } from '../pipelines/adtech/workload';
import { aggregatorMapping, streams } from '../schemas/resources';
import type { AggregateRow } from '../schemas/aggregates';
import { progress, type BenchResult, type Figure } from './support/report';
import { sleep, sum } from './support/stats';

export const exactnessDefaults = {
  /** Auctions per scenario (~1.7 records each with resends); 12k keeps the four scenarios under ~3 min here. */
  auctions: 12_000,
  /** Campaigns of the seed-like scenarios. */
  seedCampaigns: 5,
  /** Campaigns of the wide scenarios. */
  wideCampaigns: 10_000,
  /** Probability of a fault on each DynamoDB/Kinesis call and on each invocation (before and after). */
  faultProbability: 0.05,
  /** Shards of the events stream. */
  shards: DEFAULT_SHARDS,
  /** Give up on a scenario after this many seconds. */
  timeoutSeconds: 150,
};
export type ExactnessOptions = typeof exactnessDefaults;

/** The aggregator's DynamoDB operations (as pipeline counts them); the bench's Scans are not among them. */
const AGGREGATOR_OPS = ['BatchGetItem', 'BatchWriteItem', 'UpdateItem', 'GetItem', 'PutItem', 'DeleteItem'];
const SPINE_GOAL = 0.25;
const POLLER = { idlePollMs: 20, retryBaseDelayMs: 5 };

interface Scenario {
  key: string;
  label: string;
  campaigns: number;
  firstCampaign: number;
  faults: boolean;
  seed: number;
}

interface Outcome {
  scenario: Scenario;
  records: number;
  distinct: number;
  seconds: number;
  eventsPerSecond: number;
  requests: Record<string, number>;
  requestsPerRecord: number;
  injected: { before: number; after: number; invocation: number };
  invocations: number;
  deadLettered: number;
  exact: boolean;
  mismatches: number;
  rows: number;
  timedOut: boolean;
  /** Full checks (table scans) made while the poller reported idle. */
  checks: number;
}

export async function runExactness(options: ExactnessOptions): Promise<BenchResult> {
  let rig: AggregatorRig | undefined;
  try {
    rig = await startAggregatorRig({ shards: options.shards, dataDirPrefix: 'sdp-bench-exactness-' });
    const { faults, dynamoEmulator } = rig;

    const scenarios: Scenario[] = [
      { key: 'seed', label: `seed-like (${options.seedCampaigns} campaigns)`, campaigns: options.seedCampaigns, firstCampaign: 100_000, faults: false, seed: 11 },
      { key: 'seed_faults', label: `seed-like, faults`, campaigns: options.seedCampaigns, firstCampaign: 200_000, faults: true, seed: 12 },
      { key: 'wide', label: `wide (${options.wideCampaigns} campaigns)`, campaigns: options.wideCampaigns, firstCampaign: 1_000_000, faults: false, seed: 13 },
      { key: 'wide_faults', label: `wide, faults`, campaigns: options.wideCampaigns, firstCampaign: 2_000_000, faults: true, seed: 14 },
    ];

    /** Campaigns whose counted bids/impressions/clicks differ from the truth (missing or extra included). */
    function mismatches(rows: AggregateRow[], truth: Map<number, Counts>): number {
      const counted = countedByCampaign(rows);
      let bad = 0;
      for (const id of new Set([...counted.keys(), ...truth.keys()])) {
        const a = counted.get(id) ?? { bids: 0, impressions: 0, clicks: 0 };
        const b = truth.get(id) ?? { bids: 0, impressions: 0, clicks: 0 };
        if (a.bids !== b.bids || a.impressions !== b.impressions || a.clicks !== b.clicks) bad++;
      }
      return bad;
    }

    async function runScenario(s: Scenario): Promise<Outcome> {
      const workload = generateWorkload({ auctions: options.auctions, campaigns: s.campaigns, firstCampaign: s.firstCampaign, seed: s.seed });
      const distinct = sum([...workload.truth.values()].map((c) => c.bids + c.impressions + c.clicks));
      progress(`${s.label}: putting ${workload.events.length} events (${distinct} distinct) on the stream`);
      await rig!.putWorkload(workload);

      const consumer = `exactness-${s.key}`;
      const poller = new StreamPoller({
        kinesis: rig!.kinesis,
        streamName: streams.events.name,
        functionName: consumer,
        handler: s.faults ? rig!.faultyHandler : rig!.handler,
        mapping: aggregatorMapping,
        checkpoints: new CheckpointStore(rig!.dataDir, consumer),
        deadLetters: new DeadLetterStore(rig!.dataDir, consumer),
        region: 'us-east-1',
        ...POLLER,
      });
      faults.reset(s.seed, options.faultProbability);
      faults.enabled = s.faults;
      const before = await dynamoEmulator.stats();
      const t0 = performance.now();
      let doneAt: number | undefined;
      let bad = -1;
      let rows: AggregateRow[] = [];
      let lastScan = 0;
      let scans = 0;
      try {
        await poller.start();
        const deadline = t0 + options.timeoutSeconds * 1000;
        while (performance.now() < deadline) {
          // Scan only when the poller says it is idle (and at most once a second, as idle() can be
          // true between reads), so the check barely competes with the measured work.
          if (poller.idle() && performance.now() - lastScan >= 1000) {
            const idleAt = performance.now();
            scans++;
            rows = await rig!.campaignRows(s.firstCampaign, s.campaigns);
            bad = mismatches(rows, workload.truth);
            lastScan = performance.now();
            if (bad === 0) {
              doneAt = idleAt;
              break;
            }
            if (poller.idle() && poller.deadLettered > 0) break;
          }
          await sleep(20);
        }
      } finally {
        await poller.stop();
        faults.enabled = false;
      }
      const after = await dynamoEmulator.stats();
      const requests: Record<string, number> = {};
      for (const [op, n] of Object.entries(after)) if (n - (before[op] ?? 0) > 0) requests[op] = n - (before[op] ?? 0);
      if (doneAt === undefined) {
        rows = await rig!.campaignRows(s.firstCampaign, s.campaigns);
        bad = mismatches(rows, workload.truth);
      }
      const aggregatorRequests = sum(AGGREGATOR_OPS.map((op) => requests[op] ?? 0));
      const seconds = ((doneAt ?? performance.now()) - t0) / 1000;
      const outcome: Outcome = {
        scenario: s,
        records: workload.events.length,
        distinct,
        seconds,
        eventsPerSecond: doneAt === undefined ? 0 : workload.events.length / seconds,
        requests,
        requestsPerRecord: aggregatorRequests / workload.events.length,
        injected: { ...faults.injected },
        invocations: poller.invocations,
        deadLettered: poller.deadLettered,
        exact: doneAt !== undefined && bad === 0,
        mismatches: bad,
        rows: rows.length,
        timedOut: doneAt === undefined && poller.deadLettered === 0,
        checks: scans,
      };
      if (!s.faults) outcome.injected = { before: 0, after: 0, invocation: 0 };
      progress(
        `${s.label}: ${outcome.exact ? 'exact' : `NOT exact (${bad} campaigns differ, ${poller.deadLettered} dead-lettered)`} after ${seconds.toFixed(1)} s, ` +
          `${Math.round(outcome.eventsPerSecond)} events/s, ${outcome.requestsPerRecord.toFixed(3)} DynamoDB req/record, faults ${JSON.stringify(outcome.injected)}`,
      );
      return outcome;
    }

    const outcomes: Outcome[] = [];
    for (const s of scenarios) outcomes.push(await runScenario(s));

    const figures: Figure[] = [];
    for (const o of outcomes) {
      const s = o.scenario;
      const faultCount = o.injected.before + o.injected.after + o.injected.invocation;
      figures.push(
        { key: `${s.key}_exact`, label: `${s.label}: exact`, value: o.exact ? 1 : 0, unit: '', goal: { op: '>=', target: 1, text: 'exact (1)' }, note: o.exact ? `${o.rows} rows == truth` : `${o.timedOut ? `timed out after ${options.timeoutSeconds} s: ` : ''}${o.mismatches} campaigns differ, ${o.deadLettered} records dead-lettered` },
        { key: `${s.key}_events_per_s`, label: '  events/s', value: o.eventsPerSecond, unit: 'events/s', note: `${o.records} records in ${o.seconds.toFixed(1)} s, ${o.invocations} invocations, ${o.checks} checks` },
        { key: `${s.key}_dynamodb_requests_per_event`, label: '  DynamoDB requests per record', value: o.requestsPerRecord, unit: 'req/record', note: `spine goal ≤ ${SPINE_GOAL} (reference only)` },
        { key: `${s.key}_faults_injected`, label: '  faults injected', value: faultCount, unit: 'faults', note: s.faults ? `before ${o.injected.before}, after ${o.injected.after}, invocation ${o.injected.invocation} (p = ${options.faultProbability})` : 'none' },
      );
    }
    const cost = (faulty: Outcome, clean: Outcome) =>
      `${faulty.scenario.label} vs ${clean.scenario.label}: throughput × ${(faulty.eventsPerSecond / clean.eventsPerSecond).toFixed(2)}, requests per record × ${(faulty.requestsPerRecord / clean.requestsPerRecord).toFixed(2)}`;
    const notes = [
      `settings: ${options.auctions} auctions per scenario (resends included in records), mapping ${JSON.stringify(aggregatorMapping)}, poller ${JSON.stringify(POLLER)}, ${options.shards} event shards`,
      ...outcomes.map((o) => `${o.scenario.label}: DynamoDB ${Object.entries(o.requests).map(([op, n]) => `${op} ${n}`).join(', ')} (Scan: the bench's own checks, excluded)`),
      cost(outcomes[1], outcomes[0]),
      cost(outcomes[3], outcomes[2]),
    ];
    return {
      bench: 'exactness',
      figures,
      notes,
      details: {
        options,
        mapping: aggregatorMapping,
        poller: POLLER,
        scenarios: outcomes.map((o) => ({ ...o, scenario: o.scenario.key })),
      },
    };
  } finally {
    await rig?.stop();
  }
}
