/**
 * The aggregator's pure core: given a shard's records in order and the stored states they touch,
 * decide what each record changes, for every declared aggregation (schemas/pipeline.ts) whose root
 * or joined streams include its stream.
 *
 * A state is kept per (aggregation, join key) for a join aggregation, per (aggregation, event
 * identity) otherwise (stateKeyOf), with a slot per stream: the event's time, sequence number,
 * late flag and the values its measures read; the root's slot also carries the group values. A
 * second event for a slot already filled is a duplicate. A joined event is counted in the group of
 * its root by whichever of the two came later (the root counts itself): contributions are a pure
 * function of the stored state (completedBy). A record whose state a previous attempt already
 * stored (its sequence number is not above the state's fence) changes no state, but contributes
 * again what it contributed then: states are stored before rows, and the rows' fences drop what a
 * previous attempt already added.
 * An event that arrived more than the allowed lateness after its event time is counted in its
 * window's `late_events` instead of its measures; whether it is late depends only on its own
 * received_at and event_time, so every retry decides the same.
 */
import { streamsOf, type AggregationSpec, type FieldValue, type MeasureKind, type Pipeline, type StreamSpec } from '../../schemas/pipeline';
import { identityKey, keyOf, type StreamRecord } from '../../schemas/stream-record';
import { groupKey, LATE_EVENTS, measureKinds } from '../../schemas/aggregates';
export { LATE_EVENTS, measureKinds } from '../../schemas/aggregates';
import { windowStart } from './window';
import type { RedriveMark } from './redrive';

/** One event's place in a state. */
export interface Slot {
  /** Event time, epoch ms. */
  time: number;
  /** The padded sequence number of the record that filled the slot: the effect marker a redrive reads. */
  seq: string;
  /** Set when the event arrived later than the allowed lateness. */
  late?: true;
  /** Set by a redrive: the shard's journal position then; batches up to it did not see the slot. */
  redrive_at?: string;
  /** The fields the aggregation's measures of this stream read, when the event has them. */
  values?: Record<string, number>;
  /** Root slot only: the group values, in groupBy order; absent when the root is filtered out (`where`). */
  group?: FieldValue[];
}

export interface AggState {
  /** `${aggregation}#${join key or identity}` (stateKeyOf). */
  state_key: string;
  /** Fence: the padded sequence number of the last record applied to this state. */
  seq: string;
  /** Per stream name. */
  slots: Record<string, Slot>;
  /** Per dead letter a replay wrote this state for: what the change owes the rows, and the run that made it. */
  redrives?: Record<string, RedriveMark>;
  expires_at?: number;
}

export interface FencedEvent {
  /** Padded sequence number (see sequence.ts). */
  seq: string;
  /** A stream record (schemas/stream-record.ts); its declared fields are read by name. */
  event: Pick<StreamRecord, 'type' | 'received_at' | 'event_time'>;
}

/** A record's field by name. */
const fieldOf = (event: FencedEvent['event'], field: string): unknown => (event as Record<string, unknown>)[field];

/** A record as one aggregation sees it: its stream and the key of its state. */
export interface KeyedRecord extends FencedEvent {
  stream: StreamSpec;
  aggregation: AggregationSpec;
  key: string;
}

/** What one record adds to one row: a measure's value (1 for a count), or 1 to `late_events`. */
export interface Contribution {
  seq: string;
  measure: string;
  value: number;
}

/** A row of the aggregates table: an aggregation's group and window. */
export interface RowRef {
  aggregation: string;
  /** groupKey(aggregation, groupValues): the row's partition key. */
  group: string;
  groupValues: FieldValue[];
  /** Window start, epoch seconds. */
  period: number;
}

export interface RowDelta extends RowRef {
  /** In sequence order; a row applies those above its own fence. */
  contributions: Contribution[];
}

export interface BatchPlan {
  rows: RowDelta[];
  /** States that changed, to store after the rows (duplicates change nothing). */
  states: AggState[];
  stats: { applied: number; duplicates: number; replayed: number; pending: number; late: number };
}

export interface PlanSettings {
  /** Overrides every aggregation's declared period when set (AGGREGATION_PERIOD_SECONDS). */
  periodSeconds?: number;
  allowedLatenessMs: number;
  /** Expiry (epoch seconds) to stamp on the states this batch writes. */
  expiresAt: number;
}


export function periodOf(aggregation: AggregationSpec, settings: Pick<PlanSettings, 'periodSeconds'>): number {
  return settings.periodSeconds ?? aggregation.periodSeconds;
}

/** A row's key in journals and evidence: its group key and period (the period follows the last '#'). */
export function rowKey(group: string, period: number): string {
  return `${group}#${period}`;
}

/** The (group, period) a rowKey names. */
export function parseRowKey(key: string): { group: string; period: number } {
  const at = key.lastIndexOf('#');
  return { group: key.slice(0, at), period: Number(key.slice(at + 1)) };
}

/** The aggregation a state key belongs to. */
export function aggregationOfKey(key: string): string {
  return key.slice(0, key.indexOf('#'));
}

const fieldsCache = new WeakMap<AggregationSpec, Map<string, readonly string[]>>();

/** The fields an aggregation's measures of `stream` read. */
export function measuredFields(aggregation: AggregationSpec, stream: string): readonly string[] {
  let byStream = fieldsCache.get(aggregation);
  if (!byStream) fieldsCache.set(aggregation, (byStream = new Map()));
  let fields = byStream.get(stream);
  if (!fields) byStream.set(stream, (fields = [...new Set(aggregation.measures.filter((m) => m.stream === stream && m.field !== undefined).map((m) => m.field!))]));
  return fields;
}

const feedsCache = new WeakMap<Pipeline, Map<string, AggregationSpec[]>>();

/** The aggregations an event of `stream` feeds, its root or a joined stream of each (none: the aggregator ignores it). */
export function feedsOf(pipeline: Pipeline, stream: string): readonly AggregationSpec[] {
  let byStream = feedsCache.get(pipeline);
  if (!byStream) {
    byStream = new Map();
    for (const aggregation of pipeline.aggregations) {
      for (const name of streamsRead(aggregation)) byStream.set(name, [...(byStream.get(name) ?? []), aggregation]);
    }
    feedsCache.set(pipeline, byStream);
  }
  return byStream.get(stream) ?? [];
}

/** The key of the state an aggregation keeps for a record (contract 2 of issue 19). */
export function stateKeyOf(aggregation: AggregationSpec, stream: StreamSpec, record: Readonly<Record<string, unknown>>): string {
  return `${aggregation.name}#${aggregation.join ? keyOf(record, [aggregation.join.key]) : identityKey(stream, record)}`;
}

const streamsCacheOf = new WeakMap<Pipeline, Map<string, StreamSpec>>();

/** Each record once per aggregation it feeds, in order. */
export function keyRecords(pipeline: Pipeline, records: readonly FencedEvent[]): KeyedRecord[] {
  const out: KeyedRecord[] = [];
  let streams = streamsCacheOf.get(pipeline);
  if (!streams) streamsCacheOf.set(pipeline, (streams = new Map(pipeline.streams.map((x) => [x.name, x]))));
  for (const { seq, event } of records) {
    const stream = streams.get(event.type);
    if (!stream) continue;
    for (const aggregation of feedsOf(pipeline, stream.name)) out.push({ seq, event, stream, aggregation, key: stateKeyOf(aggregation, stream, event as Record<string, unknown>) });
  }
  return out;
}

const filtersCache = new WeakMap<AggregationSpec, [string, readonly FieldValue[]][]>();
const streamsCache = new WeakMap<AggregationSpec, readonly string[]>();

/** An aggregation's streams, its root first (schemas/pipeline.ts streamsOf), computed once. */
function streamsRead(aggregation: AggregationSpec): readonly string[] {
  let streams = streamsCache.get(aggregation);
  if (!streams) streamsCache.set(aggregation, (streams = streamsOf(aggregation)));
  return streams;
}

/** Whether a root event passes its aggregation's filter. */
export function passes(aggregation: AggregationSpec, record: FencedEvent['event']): boolean {
  let filters = filtersCache.get(aggregation);
  if (!filters) filtersCache.set(aggregation, (filters = Object.entries(aggregation.where)));
  for (const [field, values] of filters) if (!values.includes(fieldOf(record, field) as FieldValue)) return false;
  return true;
}

/**
 * The state as records from `first` on saw it when they were stored: without the slots a redrive
 * added later (stamped with a position at or after `first`).
 */
export function seenBy(state: AggState, first: string): AggState {
  let slots: Record<string, Slot> | undefined;
  for (const [stream, slot] of Object.entries(state.slots)) {
    if (slot.redrive_at === undefined || slot.redrive_at < first) continue;
    slots ??= { ...state.slots };
    delete slots[stream];
  }
  return slots ? { ...state, slots } : state;
}

export function isLate(event: Pick<StreamRecord, 'received_at' | 'event_time'>, allowedLatenessMs: number): boolean {
  return event.received_at - event.event_time > allowedLatenessMs;
}

/** A slot an aggregation counts, by the record that owes it. */
export interface Completed {
  stream: string;
  slot: Slot;
  /** The record that counts it: the later of the slot's and its root's. */
  seq: string;
  groupValues: FieldValue[];
  period: number;
}

/**
 * The slots of a state counted by the record with sequence number `seq` (every one when `seq` is
 * undefined): each joined event is counted by whichever of it and its root came later; the root
 * counts itself. A pure function of the state, so an attempt that stored the state and a later
 * attempt or a redrive derive the same contributions.
 */
export function completedBy(aggregation: AggregationSpec, state: AggState, seq: string | undefined, periodSeconds: number): Completed[] {
  const root = state.slots[aggregation.stream];
  if (!root?.group) return [];
  const out: Completed[] = [];
  for (const stream of streamsRead(aggregation)) {
    const slot = state.slots[stream];
    if (!slot) continue;
    const by = slot.seq > root.seq ? slot.seq : root.seq;
    if (seq !== undefined && by !== seq) continue;
    out.push({ stream, slot, seq: by, groupValues: root.group, period: windowStart(slot.time, periodSeconds) });
  }
  return out;
}

/** What a counted slot adds to its row: each measure of its stream, or one late event. */
export function contributionsOf(aggregation: AggregationSpec, c: Completed): Contribution[] {
  if (c.slot.late) return [{ seq: c.seq, measure: LATE_EVENTS, value: 1 }];
  const out: Contribution[] = [];
  for (const m of aggregation.measures) {
    if (m.stream !== c.stream) continue;
    if (m.kind === 'count') out.push({ seq: c.seq, measure: m.name, value: 1 });
    else {
      const value = c.slot.values?.[m.field!];
      if (value !== undefined) out.push({ seq: c.seq, measure: m.name, value });
    }
  }
  return out;
}

/** Gathers contributions per row. */
export class RowDeltas {
  private readonly rows = new Map<string, RowDelta>();

  add(aggregation: AggregationSpec, groupValues: FieldValue[], period: number, contributions: readonly Contribution[]): void {
    if (contributions.length === 0) return;
    const group = groupKey(aggregation.name, groupValues);
    const key = rowKey(group, period);
    let row = this.rows.get(key);
    if (!row) this.rows.set(key, (row = { aggregation: aggregation.name, group, groupValues, period, contributions: [] }));
    row.contributions.push(...contributions);
  }

  list(): RowDelta[] {
    return [...this.rows.values()];
  }
}

/** The slot an event fills in its aggregation's state. */
function slotOf(record: KeyedRecord, late: boolean): Slot {
  const { event, seq, aggregation, stream } = record;
  const slot: Slot = { time: event.event_time, seq };
  if (late) slot.late = true;
  const fields = measuredFields(aggregation, stream.name);
  if (fields.length > 0) {
    const values: Record<string, number> = {};
    for (const f of fields) {
      const value = fieldOf(event, f);
      if (typeof value === 'number') values[f] = value;
    }
    slot.values = values;
  }
  if (stream.name === aggregation.stream && passes(aggregation, event)) slot.group = aggregation.groupBy.map((g) => fieldOf(event, g.name) as FieldValue);
  return slot;
}

/** planKeyed over every aggregation of the pipeline the records feed. */
export function planBatch(pipeline: Pipeline, records: readonly FencedEvent[], stored: ReadonlyMap<string, AggState>, settings: PlanSettings): BatchPlan {
  return planKeyed(keyRecords(pipeline, records), stored, settings);
}

export function planKeyed(records: readonly KeyedRecord[], stored: ReadonlyMap<string, AggState>, settings: PlanSettings): BatchPlan {
  const { allowedLatenessMs, expiresAt } = settings;
  const states = new Map<string, AggState>();
  const rows = new RowDeltas();
  const stats = { applied: 0, duplicates: 0, replayed: 0, pending: 0, late: 0 };

  const count = (aggregation: AggregationSpec, state: AggState, seq: string): void => {
    for (const c of completedBy(aggregation, state, seq, periodOf(aggregation, settings))) {
      if (c.slot.late) stats.late++;
      rows.add(aggregation, c.groupValues, c.period, contributionsOf(aggregation, c));
    }
  };

  for (const record of records) {
    const { seq, event, key, aggregation, stream } = record;
    const previous = states.get(key) ?? stored.get(key);
    if (previous && previous.seq >= seq) {
      // Stored by an earlier attempt, before its rows: contribute again what the record did then,
      // without what a redrive added to the state since (the redrive counted that).
      stats.replayed++;
      count(aggregation, seenBy(previous, seq), seq);
      continue;
    }
    if (previous?.slots[stream.name]) { stats.duplicates++; continue; }
    const slot = slotOf(record, isLate(event, allowedLatenessMs));
    const state: AggState = previous
      ? { ...previous, seq, slots: { ...previous.slots, [stream.name]: slot }, expires_at: expiresAt }
      : { state_key: key, seq, slots: { [stream.name]: slot }, expires_at: expiresAt };
    if (stream.name !== aggregation.stream && !state.slots[aggregation.stream]) stats.pending++;
    count(aggregation, state, seq);
    states.set(key, state);
    stats.applied++;
  }
  return { rows: rows.list(), states: [...states.values()], stats };
}


/** Measure values of a row: counts and sums added, minima and maxima kept (absent until a value). */
export type Totals = Record<string, number>;

/** Zero for every count and sum measure and late_events; minima and maxima absent. */
export function zeroTotalsOf(aggregation: AggregationSpec): Totals {
  const totals: Totals = {};
  for (const [name, kind] of measureKinds(aggregation)) if (kind === 'count' || kind === 'sum') totals[name] = 0;
  return totals;
}

/** Adds `value` of `measure` into `totals` as its kind says. */
export function accumulate(kinds: ReadonlyMap<string, MeasureKind>, totals: Totals, measure: string, value: number): void {
  const kind = kinds.get(measure);
  const had = totals[measure];
  if (kind === 'min') totals[measure] = had === undefined || value < had ? value : had;
  else if (kind === 'max') totals[measure] = had === undefined || value > had ? value : had;
  else totals[measure] = (had ?? 0) + value;
}

export function isIdempotent(kind: MeasureKind | undefined): boolean {
  return kind === 'min' || kind === 'max';
}

/** Sums a row's contributions above a fence; `last` is the fence to store with them. */
export function totalsAbove(aggregation: AggregationSpec, row: RowDelta, fence: string | undefined): { totals: Totals; last: string | undefined } {
  const kinds = measureKinds(aggregation);
  const totals = zeroTotalsOf(aggregation);
  let last: string | undefined;
  for (const c of row.contributions) {
    if (fence !== undefined && c.seq <= fence) continue;
    accumulate(kinds, totals, c.measure, c.value);
    last = c.seq;
  }
  return { totals, last };
}

/**
 * The minima and maxima of every contribution of a row, above its fence or not: they are
 * idempotent, so a row may take them again whatever an earlier attempt reached (an attempt may
 * have moved the fence and stopped before it lowered a minimum).
 */
export function extremesOf(aggregation: AggregationSpec, row: RowDelta): Totals {
  const kinds = measureKinds(aggregation);
  const extremes: Totals = {};
  for (const c of row.contributions) if (isIdempotent(kinds.get(c.measure))) accumulate(kinds, extremes, c.measure, c.value);
  return extremes;
}
