/**
 * Replays a dead-lettered batch of the events stream into the aggregates (`sdp dlq redrive`),
 * against the live tables, beside a running aggregator: the evidence of what the batch stored
 * (journal.ts), the plan of what it still owes (redrive.ts), then the states, each written
 * only if no event changed it meanwhile and marked with the counts its change owes, then those
 * counts and the ones owed by states the batch's attempts stored, each row changed once under its
 * marker, and the rows' new revisions on the aggregates stream. A state that changed is
 * planned again against its new state. Run again after an interruption, even once new events
 * changed its states, a replay adds what the states it wrote owe and plans only the others.
 * Each round holds the shard, and the shards that took over its hash keys if the stream was
 * resharded (shard-map.ts), while it reads and rewrites the states (redrive-lease.ts), so the live
 * aggregator does not write over them with states it read earlier. Each field a round sets is
 * stamped with the journaled position, when the round took it, of the shard taking the state's
 * events: a batch begun by then, retried later, counts again only what it counted without the
 * field (plan.ts seenBy), since the replay counted the rest.
 */
import { randomUUID } from 'node:crypto';
import type { KinesisStreamRecord } from 'aws-lambda';
import type { AggregationRow } from '../../schemas/aggregates';
import { activePipeline } from '../../schemas/active-pipeline';
import { readSetting, resourceName, streams, tables } from '../../schemas/resources';
import { publishRevisions } from './feed';
import { dynamo, kinesis } from '../commons/clients';
import { mapBounded } from '../commons/dynamo-batch';
import { fence } from '../commons/sequence';
import { StreamWriter } from '../commons/stream-writer';
import { decodeRecord } from './decode';
import { aggregationNamed, periodSetting } from './aggregations';
import { AggregatorJournal, IN_FLIGHT_MS } from './journal';
import { ShardHolds } from './redrive-lease';
import { shardsToHold } from './shard-map';
import { isIdempotent, keyRecords, zeroTotalsOf, measureKinds, rowKey, type FencedEvent, type PlanSettings } from './plan';
import { markedState, planRedrive, writtenEarlier, OwedByRun, type RedriveRow } from './redrive';
import { AggregatorStore, ROW_UPDATE_CONCURRENCY } from './store';

export interface ReplayReport {
  records: number;
  /** States (an aggregation's join key, or an event's identity) the batch's records touch. */
  states: number;
  /** States that already held the batch: nothing was owed. */
  alreadyStored: number;
  /** Records that changed a state (once per aggregation they feed). */
  replayed: number;
  /** States that an earlier, interrupted run of this replay had written: their counts are added now if they were not then. */
  resumed: number;
  /** Rows changed, and the net counts and sums added to them, per measure name (and late_events). */
  rowsChanged: number;
  added: Record<string, number>;
  /** Evidence found: journals of attempts that covered the batch's records (none: no attempt reached a row). */
  evidence: number;
}

export class ReplayError extends Error {}

const MAX_ROUNDS = 5;
/** How long to wait to take a shard: a batch writing on it may run for a whole invocation. */
const TAKE_TIMEOUT_MS = IN_FLIGHT_MS + 10_000;

export interface ReplayOptions {
  /** Told what the replay waits for when the live aggregator or another replay holds it up. */
  onWait?: (why: string) => void;
}

export async function replayAggregatorBatch(shardId: string, records: readonly KinesisStreamRecord[], options: ReplayOptions = {}): Promise<ReplayReport> {
  const now = Date.now();
  if (records.length === 0) throw new ReplayError('the dead letter holds no records');
  const pipeline = activePipeline();
  const decoded: FencedEvent[] = [];
  const invalid: string[] = [];
  for (const record of records) {
    try {
      decoded.push(decodeRecord(pipeline, record));
    } catch {
      invalid.push(record.kinesis.sequenceNumber);
    }
  }
  if (invalid.length > 0) {
    throw new ReplayError(`${invalid.length} of its ${records.length} records are not valid events (first at sequence number ${invalid[0]}), so the batch cannot be replayed as is`);
  }
  const range = { first: fence(records[0].kinesis.sequenceNumber), last: fence(records[records.length - 1].kinesis.sequenceNumber) };
  const settings: PlanSettings = {
    periodSeconds: periodSetting(),
    allowedLatenessMs: readSetting('allowedLatenessSeconds') * 1000,
    expiresAt: Math.floor(now / 1000) + readSetting('txStateTtlSeconds'),
  };
  const db = dynamo();
  const store = new AggregatorStore(db, resourceName(tables.txState), resourceName(tables.aggregates));
  const journal = new AggregatorJournal(db, resourceName(tables.aggregatorJournal), resourceName(tables.aggregates));
  const aggregates = () => new StreamWriter(kinesis(), resourceName(streams.aggregates));
  const evidence = await journal.evidenceFor(shardId, range);
  const holds = new ShardHolds(db, resourceName(tables.aggregatorJournal), await shardsToHold(kinesis(), resourceName(streams.events), shardId), shardId);

  const report: ReplayReport = { records: records.length, states: 0, alreadyStored: 0, replayed: 0, resumed: 0, rowsChanged: 0, added: Object.assign({}, ...pipeline.aggregations.map(zeroTotalsOf)), evidence: evidence.length };
  const letter = `${shardId}_${records[0].kinesis.sequenceNumber}`;
  const run = randomUUID();
  const owed = new OwedByRun();
  let storedOwed: RedriveRow[] = [];
  let pending = keyRecords(pipeline, decoded);
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) throw new ReplayError(`${new Set(pending.map((p) => p.key)).size} states kept changing while the batch was replayed; run the redrive again`);
    // The shards are held while the states are read and rewritten: the live aggregator's blind
    // writes of states read earlier would undo the rewrites (redrive-lease.ts).
    try {
      const positionOf = await holds.take(Date.now() + TAKE_TIMEOUT_MS, options.onWait);
      const current = await store.getStates([...new Set(pending.map((p) => p.key))]);
      const redriveAt = (partitionKey: string) => {
        const position = positionOf(partitionKey);
        return position !== undefined && position > range.last ? position : range.last;
      };
      const earlier = writtenEarlier(pending, current, letter);
      for (const mark of earlier.marks) owed.add(mark.run, mark.owed);
      report.resumed += earlier.marks.length;
      const plan = planRedrive(earlier.rest, range, current, evidence, settings, redriveAt);
      if (round === 0) {
        Object.assign(report, { states: plan.stats.states + earlier.marks.length, alreadyStored: plan.stats.alreadyStored });
        storedOwed = plan.rows;
      }
      report.replayed += plan.stats.replayed;
      const written = await mapBounded(plan.states, ROW_UPDATE_CONCURRENCY, (s) => store.putStateIfUnchanged(markedState(s, letter, run), s.expectedSeq));
      if (!holds.held()) throw new ReplayError(`lost the hold on shard ${shardId} while writing its join states; run the redrive again: it resumes where this run stopped`);
      plan.states.forEach((s, i) => written[i] && owed.add(run, s.owed));
      const changed = new Set(plan.states.filter((_, i) => !written[i]).map((s) => s.state.state_key));
      pending = earlier.rest.filter((p) => changed.has(p.key));
    } finally {
      await holds.release();
    }
  }

  // Each set of counts goes to its rows once, under its own marker.
  const marker = `redrive_${letter}`;
  const owedSets = [{ marker, rows: storedOwed }, ...owed.sets(marker)];
  const changedRows = new Set<string>();
  const touched: AggregationRow[] = [];
  for (const set of owedSets) {
    const outcomes = await mapBounded(set.rows, ROW_UPDATE_CONCURRENCY, (row) => store.addRedriveDelta(row, set.marker, now));
    set.rows.forEach((row, i) => {
      touched.push(...outcomes[i].rows);
      if (!outcomes[i].added) return;
      changedRows.add(rowKey(row.group, row.period));
      const kinds = measureKinds(aggregationNamed(row.aggregation));
      for (const [m, n] of Object.entries(row.delta)) if (!isIdempotent(kinds.get(m))) report.added[m] = (report.added[m] ?? 0) + n;
    });
  }
  await publishRevisions(aggregates, touched, settings.periodSeconds);
  report.rowsChanged = changedRows.size;
  return report;
}
