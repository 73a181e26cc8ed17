/**
 * Reports API: one handler for every declared aggregation (schemas/pipeline.ts), found by the
 * resource path `/reports/<route>/{<group field>}/...` (contract 4 of issue 19).
 * - GET /reports/<route>/{g1}/...: the group's totals and its per-window rows; with
 *   `?window=<s>&step=<s>` (multiples of the period, optional from/to) sliding windows instead,
 *   computed on read from the tumbling rows (sliding.ts).
 * - GET /reports/<route>/{g1}/.../period?period=&timezone=&from=&to=&desc=: the rows rolled up per
 *   hour, day, week, month or year of a time zone.
 * Every row carries the aggregation's derived values, computed here, never stored. A group with no
 * events yet answers 200 with zero counts (null minima and maxima): groups are not registered
 * anywhere, so "nothing counted yet" is the truthful answer, not "not found".
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { readSetting, resourceName, settings, tables } from '../../schemas/resources';
import { activePipeline } from '../../schemas/active-pipeline';
import { reportResource } from '../../schemas/api-index';
import type { AggregationSpec, FieldValue } from '../../schemas/pipeline';
import { dynamo } from '../commons/clients';
import { error, json, readableFromAnyOrigin } from '../commons/http';
import { groupRows, type WindowRow } from './query';
import { combineRows, combinersOf, valueNames, withDerived } from './measures';
import { rollUp } from './rollup';
import { parseRollupParams, inRange } from './rollup-params';
import { parseGroupParams } from './group-params';
import { parseSlidingParams, readRange, slidingWindows, windowStarts, MAX_WINDOWS } from './sliding';

/** The aggregation a resource path serves, and whether it is the roll-up route. */
export function aggregationOfResource(resource: string): { aggregation: AggregationSpec; rollup: boolean } | undefined {
  const path = resource.replace(/(.)\/+$/, '$1');
  for (const aggregation of activePipeline().aggregations) {
    const base = reportResource(aggregation);
    if (path === base) return { aggregation, rollup: false };
    if (path === `${base}/period`) return { aggregation, rollup: true };
  }
  return undefined;
}

/**
 * The tumbling period of an aggregation's rows: its declared period, unless the deployment sets
 * AGGREGATION_PERIOD_SECONDS (the local platform's --aggregation-period), which the aggregator uses.
 */
export function periodSecondsOf(aggregation: AggregationSpec, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[settings.aggregationPeriodSeconds.env];
  return raw === undefined || raw === '' ? aggregation.periodSeconds : readSetting('aggregationPeriodSeconds', env);
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return readableFromAnyOrigin(await report(event));
}

/** The group fields of a response, by name, in groupBy order. */
const groupObject = (aggregation: AggregationSpec, values: readonly FieldValue[]) =>
  Object.fromEntries(aggregation.groupBy.map((g, i) => [g.name, values[i]]));

async function report(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const found = aggregationOfResource(event.resource ?? event.path);
  if (!found) return error(404, `no report route for ${event.path}`);
  const { aggregation, rollup } = found;
  const group = parseGroupParams(aggregation, event.pathParameters);
  if (!group.ok) return error(400, group.message, { field: group.field });
  const table = resourceName(tables.aggregates);
  const head = groupObject(aggregation, group.values);
  const totals = (rows: readonly WindowRow[]) => withDerived(aggregation, combineRows(aggregation, rows));
  const names = valueNames(aggregation);
  const stored = (row: WindowRow) => withDerived(aggregation, { period: row.period, ...combineRows(aggregation, [row]) });

  if (!rollup) {
    const sliding = parseSlidingParams(event.queryStringParameters, periodSecondsOf(aggregation));
    if (!sliding.ok) return error(400, sliding.message, { field: sliding.field });
    if (sliding.params === undefined) {
      const periods = await groupRows(dynamo(), table, aggregation, group.values);
      return json(200, { ...head, ...totals(periods), periods: periods.map(stored) });
    }
    return slidingReport(event, aggregation, group.values, head, sliding.params);
  }

  const parsed = parseRollupParams(event.queryStringParameters);
  if (!parsed.ok) return error(400, parsed.message, { field: parsed.field });
  const { unit, timezone, from, to, desc } = parsed.params;
  const periods = await groupRows(dynamo(), table, aggregation, group.values, { from, to });
  const kinds = Object.fromEntries(combinersOf(aggregation));
  // Absent values (a minimum with none yet) are skipped by the roll-up, as by combineRows.
  const rows = rollUp(periods as ({ period: number } & Record<string, number>)[], unit, timezone, { desc, counters: names, kinds });
  return json(200, {
    ...head,
    period: unit,
    timezone,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...totals(periods),
    rows: rows.map((r) => withDerived(aggregation, r as unknown as Record<string, number | null>)),
  });
}

/** GET /reports/<route>/{...}?window=&step=[&from=&to=]: sliding windows over the group's rows. */
async function slidingReport(
  event: APIGatewayProxyEvent,
  aggregation: AggregationSpec,
  values: readonly FieldValue[],
  head: Record<string, FieldValue | undefined>,
  params: { window: number; step: number },
): Promise<APIGatewayProxyResult> {
  // from/to as the roll-ups take them (epoch seconds, half-open): here, bounds on window starts.
  const range = parseRollupParams({ from: event.queryStringParameters?.from, to: event.queryStringParameters?.to });
  if (!range.ok) return error(400, range.message, { field: range.field });
  const { from, to } = range.params;
  const rows = await groupRows(dynamo(), resourceName(tables.aggregates), aggregation, values, readRange(params, { from, to }));
  const extent = rows.length > 0 ? { first: rows[0]!.period, last: rows[rows.length - 1]!.period } : undefined;
  const planned = windowStarts(params, { from, to }, extent);
  if ('tooMany' in planned) {
    return error(400, `window and step give ${planned.tooMany} windows, more than ${MAX_WINDOWS}: narrow from/to or widen the step`, { field: 'step' });
  }
  const windows = slidingWindows(aggregation, rows, planned.starts, params.window);
  // The totals of the windows' span (what the windows cover, each row once).
  const first = planned.starts[0];
  const covered = first === undefined ? [] : rows.filter((r) => inRange(r.period, { from: first, to: planned.starts[planned.starts.length - 1]! + params.window }));
  return json(200, {
    ...head,
    window: params.window,
    step: params.step,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...withDerived(aggregation, combineRows(aggregation, covered)),
    windows: windows.map((w) => withDerived(aggregation, w)),
  });
}
