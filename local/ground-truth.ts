/**
 * The ground truth of any declared pipeline: given the events a platform received (as clients
 * sent them, with the time each copy arrived, or as the stream records ingestion wrote), the
 * aggregate rows a correct platform holds (contract 1, in the aggregates feed's form without
 * revision and updated_at). Pure: what `sdp generate` prints, what tests and the audit compare with.
 *
 * The rules, as the aggregator keeps them:
 * - an event is its stream's first copy of an identity; later copies (resends) count for nothing;
 * - a root event is counted when its fields pass the aggregation's `where`; with a join, each
 *   joined stream's event (at most one per key: its identity is the key) is counted in the group
 *   of the root event of its key, whichever arrived first, and never without one;
 * - every event is counted in the tumbling window (epoch-aligned, of the aggregation's period) of
 *   its own event time; one that arrived more than the allowed lateness after its event time adds
 *   one to its row's `late_events` instead of its measures;
 * - counts and sums start at 0; a minimum or maximum is absent until an event has the field.
 */
import { streamOf, type AggregationSpec, type MeasureSpec, type Pipeline } from '../schemas/pipeline';
import { groupKey } from '../schemas/aggregates';
import { identityKey, keyOf, type StreamRecord } from '../schemas/stream-record';
import { resolveEventTime, type EventTimePolicy } from '../lambdas/ingest/event-time';
import { settings } from '../schemas/resources';
import { windowStart } from '../lambdas/aggregator/window';

/** An aggregate row as the feed carries it (contract 3), less revision and updated_at. */
export interface TruthRow {
  aggregation: string;
  /** Window start, epoch seconds. */
  period: number;
  late_events: number;
  /** Group fields under their names, measures under theirs. */
  [field: string]: string | number | boolean;
}

/** An event as a client sent it, and when this copy was received (epoch ms). */
export interface ReceivedEvent {
  /** The stream's name. */
  type: string;
  body: Record<string, unknown>;
  receivedAt: number;
}

export const DEFAULT_EVENT_TIME_POLICY: EventTimePolicy = {
  maxClockSkewMs: settings.maxClockSkewSeconds.default * 1000,
  maxEventAgeMs: settings.maxEventAgeSeconds.default * 1000,
};

/**
 * The stream records ingestion writes for these events (validated as the routes validate; an
 * event the route refuses writes nothing), in the order received.
 */
export function streamRecords(pipeline: Pipeline, events: readonly ReceivedEvent[], policy: EventTimePolicy = DEFAULT_EVENT_TIME_POLICY): StreamRecord[] {
  const out: StreamRecord[] = [];
  for (const e of events) {
    const stream = streamOf(pipeline, e.type);
    const parsed = stream.schema.safeParse(e.body);
    if (!parsed.success) continue;
    const fields = parsed.data as Record<string, unknown>;
    const clientTime = stream.eventTime === undefined ? undefined : (fields[stream.eventTime] as string | number | undefined);
    out.push({ ...fields, type: stream.name, received_at: e.receivedAt, event_time: resolveEventTime(clientTime, e.receivedAt, policy) });
  }
  return out;
}

/** The first copy of each event of `stream` (by identity), in arrival order. */
function firstCopies(pipeline: Pipeline, records: readonly StreamRecord[], stream: string): StreamRecord[] {
  const spec = streamOf(pipeline, stream);
  const seen = new Set<string>();
  const out: StreamRecord[] = [];
  for (const r of records) {
    if (r.type !== stream) continue;
    const id = identityKey(spec, r);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(r);
  }
  return out;
}

function passes(aggregation: AggregationSpec, root: StreamRecord): boolean {
  return Object.entries(aggregation.where).every(([field, values]) => values.includes(root[field] as never));
}

/** Adds one on-time event's values to a row's measures. */
function addMeasures(row: TruthRow, measures: readonly MeasureSpec[], stream: string, record: StreamRecord): void {
  for (const m of measures) {
    if (m.stream !== stream) continue;
    if (m.kind === 'count') {
      row[m.name] = (row[m.name] as number) + 1;
      continue;
    }
    const value = record[m.field!];
    if (typeof value !== 'number') continue;
    const current = row[m.name] as number | undefined;
    if (m.kind === 'sum') row[m.name] = (current ?? 0) + value;
    else if (current === undefined) row[m.name] = value;
    else row[m.name] = m.kind === 'min' ? Math.min(current, value) : Math.max(current, value);
  }
}

/** An empty row of an aggregation: counts and sums 0, minima and maxima absent. */
export function emptyRow(aggregation: AggregationSpec, group: Readonly<Record<string, unknown>>, period: number): TruthRow {
  // In the feed's order: aggregation, group fields, period, measures, late_events.
  const row = { aggregation: aggregation.name } as TruthRow;
  for (const g of aggregation.groupBy) row[g.name] = group[g.name] as string | number | boolean;
  row.period = period;
  for (const m of aggregation.measures) if (m.kind === 'count' || m.kind === 'sum') row[m.name] = 0;
  row.late_events = 0;
  return row;
}

/** The group values of a row (or a root record), in groupBy order. */
export function groupValues(aggregation: AggregationSpec, row: Readonly<Record<string, unknown>>): (string | number | boolean)[] {
  return aggregation.groupBy.map((g) => row[g.name] as string | number | boolean);
}

/** A row's key: its group key (schemas/aggregates.ts groupKey) and its period. */
export function rowKey(aggregation: AggregationSpec, row: Readonly<Record<string, unknown>>): string {
  return `${groupKey(aggregation.name, groupValues(aggregation, row))}@${row.period as number}`;
}

/** The rows of one aggregation, from stream records in arrival order. */
export function aggregationTruth(pipeline: Pipeline, aggregation: AggregationSpec, records: readonly StreamRecord[], allowedLatenessMs: number): TruthRow[] {
  const rows = new Map<string, TruthRow>();
  const count = (root: StreamRecord, stream: string, event: StreamRecord) => {
    const period = windowStart(event.event_time, aggregation.periodSeconds);
    const key = rowKey(aggregation, { ...root, period });
    const row = rows.get(key) ?? rows.set(key, emptyRow(aggregation, root, period)).get(key)!;
    if (event.received_at - event.event_time > allowedLatenessMs) row.late_events++;
    else addMeasures(row, aggregation.measures, stream, event);
  };
  const roots = firstCopies(pipeline, records, aggregation.stream).filter((r) => passes(aggregation, r));
  for (const root of roots) count(root, aggregation.stream, root);
  if (aggregation.join) {
    const byKey = new Map(roots.map((r) => [keyOf(r, [aggregation.join!.key]), r]));
    for (const stream of aggregation.join.streams) {
      for (const event of firstCopies(pipeline, records, stream)) {
        const root = byKey.get(keyOf(event, [aggregation.join.key]));
        if (root) count(root, stream, event);
      }
    }
  }
  return [...rows.values()].sort((a, b) => (rowKey(aggregation, a) < rowKey(aggregation, b) ? -1 : 1));
}

/**
 * The pipeline as a platform runs it with `AGGREGATION_PERIOD_SECONDS` (which overrides every
 * aggregation's period locally): the same, when the setting is at its default.
 */
export function asRunWithPeriod(pipeline: Pipeline, aggregationPeriodSeconds: number | undefined): Pipeline {
  if (aggregationPeriodSeconds === undefined || aggregationPeriodSeconds === settings.aggregationPeriodSeconds.default) return pipeline;
  return { ...pipeline, aggregations: pipeline.aggregations.map((a) => ({ ...a, periodSeconds: aggregationPeriodSeconds })) };
}

/** Every aggregation's rows, by aggregation name. */
export function groundTruth(pipeline: Pipeline, records: readonly StreamRecord[], allowedLatenessMs = settings.allowedLatenessSeconds.default * 1000): Map<string, TruthRow[]> {
  return new Map(pipeline.aggregations.map((a) => [a.name, aggregationTruth(pipeline, a, records, allowedLatenessMs)]));
}

/** Two values of a measure combined: counts and sums added, minima and maxima kept. */
export function combineMeasure(kind: MeasureSpec['kind'] | 'late', a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (kind === 'min') return Math.min(a, b);
  if (kind === 'max') return Math.max(a, b);
  return a + b;
}

/** Rows rolled up over all periods, one per group (what a report of the group totals), by group key. */
export function totalsPerGroup(aggregation: AggregationSpec, rows: readonly TruthRow[]): Map<string, Omit<TruthRow, 'period'>> {
  const out = new Map<string, Omit<TruthRow, 'period'>>();
  for (const row of rows) {
    const key = groupKey(aggregation.name, groupValues(aggregation, row));
    const total = out.get(key);
    if (!total) {
      const { period: _period, ...rest } = row;
      out.set(key, { ...rest });
      continue;
    }
    total.late_events = (total.late_events as number) + row.late_events;
    for (const m of aggregation.measures) {
      const v = combineMeasure(m.kind, total[m.name] as number | undefined, row[m.name] as number | undefined);
      if (v !== undefined) total[m.name] = v;
    }
  }
  return out;
}

/** The distinct events received per stream (first copies that ingestion accepted). */
export function distinctPerStream(pipeline: Pipeline, records: readonly StreamRecord[]): Record<string, number> {
  return Object.fromEntries(pipeline.streams.map((s) => [s.name, firstCopies(pipeline, records, s.name).length]));
}
