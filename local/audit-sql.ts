/**
 * The SQL that recomputes a declared aggregation from the lake's stream tables, generated from
 * the declaration (pure): what the audit compares the aggregates with, row by row. It keeps the
 * aggregator's rules (local/ground-truth.ts says them in TypeScript): each event once per identity
 * (the first received), the root's `where`, joined events in their root's group and never without
 * one, the tumbling window of each event's own event time, and an event received more than the
 * allowed lateness after its event time counted in `late_events` instead of the measures. Written
 * for DuckDB (the local lake's SQL); `epoch_ms` and `FILTER` are the only non-ANSI parts.
 */
import { streamOf, type AggregationSpec, type FieldValue, type Pipeline } from '../schemas/pipeline';

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

function literal(value: FieldValue): string {
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return String(value);
}

/** A stream's lake table with each event's first copy only (by identity, earliest received). */
function firstCopies(pipeline: Pipeline, stream: string, format: 'parquet' | 'raw'): string {
  const spec = streamOf(pipeline, stream);
  return `(SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY ${spec.identity.map(ident).join(', ')} ORDER BY received_at) AS sdp_copy FROM ${format}_${spec.lakeTable}) WHERE sdp_copy = 1)`;
}

export interface AggregationSqlOptions {
  allowedLatenessSeconds: number;
  /** The lake format read (default parquet). */
  format?: 'parquet' | 'raw';
}

/**
 * One row per (group, window) with any event: the group fields, `period` (window start, epoch s),
 * each measure under its name (counts and sums 0 when no on-time event, minima and maxima NULL),
 * and `late_events`; ordered by group and period.
 */
export function aggregationSql(pipeline: Pipeline, aggregation: AggregationSpec, options: AggregationSqlOptions): string {
  const format = options.format ?? 'parquet';
  const groups = aggregation.groupBy.map((g) => ident(g.name));
  const valueColumn = (i: number) => `sdp_value_${i}`;
  const filter = Object.entries(aggregation.where).map(([field, values]) => `r.${ident(field)} IN (${values.map(literal).join(', ')})`);
  // `r` is the root event (its group and filter fields), `e` the event counted (the root itself, or a joined event).
  const branch = (stream: string, from: string, e: string) => {
    const values = aggregation.measures.map((m, i) => `${m.kind !== 'count' && m.stream === stream ? `CAST(${e}.${ident(m.field!)} AS DOUBLE)` : 'CAST(NULL AS DOUBLE)'} AS ${valueColumn(i)}`);
    return `  SELECT ${groups.map((g) => `r.${g}`).join(', ')}, ${literal(stream)} AS sdp_stream, epoch_ms(${e}.event_time) AS sdp_event_ms, epoch_ms(${e}.received_at) AS sdp_received_ms, ${values.join(', ')}\n  FROM ${from}${filter.length > 0 ? `\n  WHERE ${filter.join(' AND ')}` : ''}`;
  };
  const branches = [branch(aggregation.stream, 'sdp_root r', 'r')];
  for (const stream of aggregation.join?.streams ?? []) {
    const key = ident(aggregation.join!.key);
    branches.push(branch(stream, `${firstCopies(pipeline, stream, format)} e JOIN sdp_root r ON e.${key} = r.${key}`, 'e'));
  }
  const measures = aggregation.measures.map((m, i) => {
    if (m.kind === 'count') return `count(*) FILTER (WHERE sdp_stream = ${literal(m.stream)} AND NOT sdp_late) AS ${ident(m.name)}`;
    const agg = `${m.kind}(${valueColumn(i)}) FILTER (WHERE NOT sdp_late)`;
    return `${m.kind === 'sum' ? `coalesce(${agg}, 0)` : agg} AS ${ident(m.name)}`;
  });
  const period = aggregation.periodSeconds;
  return [
    `-- ${aggregation.name}: ${aggregation.description}, recomputed from the lake's ${format} tables`,
    `WITH sdp_root AS ${firstCopies(pipeline, aggregation.stream, format)},`,
    'counted AS (',
    branches.join('\n  UNION ALL\n'),
    '),',
    'marked AS (',
    `  SELECT *, sdp_received_ms - sdp_event_ms > ${Math.round(options.allowedLatenessSeconds * 1000)} AS sdp_late, CAST(floor(sdp_event_ms / ${period * 1000}) AS BIGINT) * ${period} AS period`,
    '  FROM counted',
    ')',
    `SELECT ${[...groups, 'period', ...measures, 'count(*) FILTER (WHERE sdp_late) AS late_events'].join(',\n       ')}`,
    'FROM marked',
    `GROUP BY ${[...groups, 'period'].join(', ')}`,
    `ORDER BY ${[...groups, 'period'].join(', ')}`,
  ].join('\n');
}
