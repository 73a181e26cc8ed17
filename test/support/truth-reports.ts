/**
 * Reads a platform's reports (contract 4: `GET /reports/<route>/<group values...>`) for every
 * group of a ground truth (local/ground-truth.ts, as `sdp generate --json` prints it) and waits
 * until each report shows exactly the truth: the totals of every measure and late_events, and
 * every window's row.
 */
import { aggregationOf, type Pipeline } from '../../schemas/pipeline';
import { groundTruth, groupValues, rowKey, streamRecords, totalsPerGroup, type TruthRow } from '../../local/ground-truth';
import type { OutgoingEvent } from '../../local/send-plan';
import { pollUntil } from './platform';

type Report = Record<string, unknown> & { periods?: Record<string, unknown>[] };

/** What a report (or one of its periods) says of the measures, late_events and period: the fields a ground truth row has. */
function comparable(fields: readonly string[], row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => row[f] !== undefined && row[f] !== null).map((f) => [f, row[f]]));
}

/** The report URL of a group: the API's root, `reports/<route>/`, then each group value. */
export function reportUrl(apiUrl: string, route: string, values: readonly (string | number | boolean)[]): string {
  return `${apiUrl}reports/${route}/${values.map((v) => encodeURIComponent(String(v))).join('/')}`;
}

/**
 * The ground truth of traffic sent as it is (resends included), every copy received at
 * `receivedAt` (the generated events are on time, so the moment only matters for lateness), by
 * aggregation name: what expectReportsToEqualTruth takes.
 */
export function truthOf(pipeline: Pipeline, events: readonly OutgoingEvent[], receivedAt = Date.now()): Record<string, TruthRow[]> {
  return Object.fromEntries(groundTruth(pipeline, streamRecords(pipeline, events.map((e) => ({ ...e, receivedAt })))));
}

/** Two pipelines' traffic sent side by side: `b`'s events spread evenly among `a`'s, each in its own order. */
export function interleave<E>(a: readonly E[], b: readonly E[]): E[] {
  const out: E[] = [];
  let j = 0;
  a.forEach((e, i) => {
    out.push(e);
    for (; j < Math.floor(((i + 1) * b.length) / a.length); j++) out.push(b[j]);
  });
  return [...out, ...b.slice(j)];
}

/**
 * Stored rows of an aggregation (as the feed publishes them: contract 3) compared with its ground
 * truth row by row: every measure and late_events of every window, no row more or fewer.
 */
export function expectRowsToEqualTruth(pipeline: Pipeline, name: string, rows: readonly Readonly<Record<string, unknown>>[], truth: readonly TruthRow[]): void {
  const aggregation = aggregationOf(pipeline, name);
  const fields = ['period', ...aggregation.measures.map((m) => m.name), 'late_events'];
  const byRow = (list: readonly Readonly<Record<string, unknown>>[]) => Object.fromEntries(list.map((r) => [rowKey(aggregation, r), comparable(fields, r)]));
  expect(byRow(rows)).toEqual(byRow(truth));
}

export async function expectReportsToEqualTruth(apiUrl: string, pipeline: Pipeline, truth: Readonly<Record<string, readonly TruthRow[]>>): Promise<void> {
  for (const [name, rows] of Object.entries(truth)) {
    const aggregation = aggregationOf(pipeline, name);
    const fields = [...aggregation.measures.map((m) => m.name), 'late_events'];
    for (const total of totalsPerGroup(aggregation, rows).values()) {
      const values = groupValues(aggregation, total);
      const expected = comparable(fields, total);
      const report = await pollUntil(
        `${name} ${JSON.stringify(values)} to reach its ground truth`,
        async () => (await (await fetch(reportUrl(apiUrl, aggregation.route, values))).json()) as Report,
        (r) => JSON.stringify(comparable(fields, r)) === JSON.stringify(expected),
      );
      expect(comparable(fields, report)).toEqual(expected);
      const windows = rows.filter((r) => JSON.stringify(groupValues(aggregation, r)) === JSON.stringify(values));
      const byPeriod = (a: Record<string, unknown>, b: Record<string, unknown>) => (a.period as number) - (b.period as number);
      expect({ group: values, periods: (report.periods ?? []).map((p) => comparable(['period', ...fields], p)).sort(byPeriod) }).toEqual({ group: values, periods: windows.map((w) => comparable(['period', ...fields], w)).sort(byPeriod) });
    }
  }
}
