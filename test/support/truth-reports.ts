/**
 * Reads a platform's reports (contract 4: `GET /reports/<route>/<group values...>`) for every
 * group of a ground truth (local/ground-truth.ts, as `sdp generate --json` prints it) and waits
 * until each report shows exactly the truth: the totals of every measure and late_events, and
 * every window's row.
 */
import { aggregationOf, type Pipeline } from '../../schemas/pipeline';
import { groupValues, totalsPerGroup, type TruthRow } from '../../local/ground-truth';
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
