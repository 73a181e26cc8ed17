/**
 * Replays a dead-lettered batch of the events stream into the aggregates (`sdp dlq redrive`),
 * against the live tables, beside a running aggregator: the evidence of what the batch stored
 * (journal.ts), the plan of what it still owes (redrive.ts), then the rows, each changed once
 * under the redrive's marker, their new revisions on the aggregates stream, and the join states,
 * each written only if no event changed it meanwhile. An auction that changed is planned again
 * against its new state, and only the difference from what was already added goes to the rows.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { zeroTotals, COUNTERS } from '../../schemas/aggregates';
import { readSetting, resourceName, streams, tables } from '../../schemas/resources';
import { dynamo, kinesis } from '../commons/clients';
import { mapBounded } from '../commons/dynamo-batch';
import { fence } from '../commons/sequence';
import { StreamWriter } from '../commons/stream-writer';
import { decodeRecord } from './decode';
import { AggregatorJournal } from './journal';
import { rowKey, type FencedEvent, type PlanSettings, type TxState } from './plan';
import { planRedrive, type RedrivePlan, type RedriveRow } from './redrive';
import { AggregatorStore, ROW_UPDATE_CONCURRENCY } from './store';

export interface ReplayReport {
  records: number;
  auctions: number;
  /** Auctions whose join state already held the batch: nothing was owed. */
  alreadyStored: number;
  /** Records that changed a join state. */
  replayed: number;
  /** Rows changed, and the net counts added to them. */
  rowsChanged: number;
  added: Record<string, number>;
  /** Evidence found: journals of attempts that covered the batch's records (none: no attempt reached a row). */
  evidence: number;
}

export class ReplayError extends Error {}

const MAX_ROUNDS = 5;

export async function replayAggregatorBatch(shardId: string, records: readonly KinesisStreamRecord[], now = Date.now()): Promise<ReplayReport> {
  if (records.length === 0) throw new ReplayError('the dead letter holds no records');
  const decoded: FencedEvent[] = [];
  const invalid: string[] = [];
  for (const record of records) {
    try {
      decoded.push(decodeRecord(record));
    } catch {
      invalid.push(record.kinesis.sequenceNumber);
    }
  }
  if (invalid.length > 0) {
    throw new ReplayError(`${invalid.length} of its ${records.length} records are not valid events (first at sequence number ${invalid[0]}), so the batch cannot be replayed as is`);
  }
  const range = { first: fence(records[0].kinesis.sequenceNumber), last: fence(records[records.length - 1].kinesis.sequenceNumber) };
  const settings: PlanSettings = {
    periodSeconds: readSetting('aggregationPeriodSeconds'),
    allowedLatenessMs: readSetting('allowedLatenessSeconds') * 1000,
    expiresAt: Math.floor(now / 1000) + readSetting('txStateTtlSeconds'),
  };
  const db = dynamo();
  const store = new AggregatorStore(db, resourceName(tables.txState), resourceName(tables.aggregates));
  const journal = new AggregatorJournal(db, resourceName(tables.aggregatorJournal), resourceName(tables.aggregates));
  const aggregates = new StreamWriter(kinesis(), resourceName(streams.aggregates));
  const evidence = await journal.evidenceFor(shardId, range);
  const position = (await journal.journal(shardId))?.last;
  const redriveAt = position !== undefined && position > range.last ? position : range.last;

  const report: ReplayReport = { records: records.length, auctions: 0, alreadyStored: 0, replayed: 0, rowsChanged: 0, added: { ...zeroTotals() }, evidence: evidence.length };
  const changedRows = new Set<string>();
  let pending = decoded;
  let applied = new Map<string, TxState>(); // per auction, the state the rows were last planned against
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) throw new ReplayError(`${new Set(pending.map((p) => p.event.tx_id)).size} auctions kept changing while the batch was replayed; run the redrive again`);
    const current = await store.getTxStates([...new Set(pending.map((p) => p.event.tx_id))]);
    const plan = planRedrive(pending, range, current, evidence, settings, redriveAt);
    // Rows already carry what this redrive planned against the states of the previous round.
    const owed = round === 0 ? plan.rows : difference(plan, planRedrive(pending, range, applied, evidence, settings, redriveAt));
    if (round === 0) Object.assign(report, { auctions: plan.stats.auctions, alreadyStored: plan.stats.alreadyStored });
    report.replayed += plan.stats.replayed;

    const marker = `redrive_${shardId}_${records[0].kinesis.sequenceNumber}${round > 0 ? `_${round}` : ''}`;
    const updated = await mapBounded(owed, ROW_UPDATE_CONCURRENCY, (row) => store.addRedriveDelta(row, marker, now));
    await aggregates.put(
      updated
        .filter((row) => row !== undefined)
        .map((row) => ({ partitionKey: String(row.campaign_item_id), data: Buffer.from(JSON.stringify({ ...row, period_seconds: settings.periodSeconds })) })),
    );
    for (const row of owed) {
      changedRows.add(rowKey(row.campaign_item_id, row.period));
      for (const c of COUNTERS) report.added[c] += row.delta[c];
    }

    const written = await mapBounded(plan.states, ROW_UPDATE_CONCURRENCY, (s) => store.putTxStateIfUnchanged(s.state, s.expectedSeq));
    const changed = new Set(plan.states.filter((_, i) => !written[i]).map((s) => s.state.tx_id));
    applied = new Map([...current].filter(([txId]) => changed.has(txId)));
    pending = pending.filter((p) => changed.has(p.event.tx_id));
  }
  report.rowsChanged = changedRows.size;
  return report;
}

/** Row deltas of `plan` minus those of `before`, per row. */
function difference(plan: RedrivePlan, before: RedrivePlan): RedriveRow[] {
  const rows = new Map<string, RedriveRow>();
  const add = (row: RedriveRow, sign: 1 | -1) => {
    const key = rowKey(row.campaign_item_id, row.period);
    let out = rows.get(key);
    if (!out) rows.set(key, (out = { campaign_item_id: row.campaign_item_id, period: row.period, delta: zeroTotals() }));
    for (const c of COUNTERS) out.delta[c] += sign * row.delta[c];
  };
  for (const row of plan.rows) add(row, 1);
  for (const row of before.rows) add(row, -1);
  return [...rows.values()].filter((r) => COUNTERS.some((c) => r.delta[c] !== 0));
}
