/** The live console's static site, as the local platform serves it and as the stack deploys it. */
import { join } from 'node:path';
import type { Pipeline } from './pipeline';

/** The console's files: plain HTML and ES modules, no build step. */
export const CONSOLE_DIR = join(__dirname, '..', 'console');

/** The page may read any API (its base URL is configurable), but runs only its own script. */
export const CONSOLE_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** What the console shows of an aggregation: read from config.json, which both homes write from the pipeline. */
export interface ConsoleAggregation {
  name: string;
  description: string;
  /** `GET /reports/<route>/<group values in order>` (contract 4). */
  route: string;
  periodSeconds: number;
  groupBy: { name: string; kind: string }[];
  measures: { name: string; kind: string; stream: string; field?: string }[];
  derived: { name: string; numerator: string; denominator: string }[];
}

/** The console's config.json: the API it reads (a deployed site; locally this origin) and the pipeline's aggregations. */
export interface ConsoleConfig {
  apiBaseUrl?: string;
  aggregations: ConsoleAggregation[];
}

export function consoleAggregations(pipeline: Pipeline): ConsoleAggregation[] {
  return pipeline.aggregations.map((a) => ({
    name: a.name,
    description: a.description,
    route: a.route,
    periodSeconds: a.periodSeconds,
    groupBy: a.groupBy.map((g) => ({ name: g.name, kind: g.kind })),
    measures: a.measures.map((m) => ({ name: m.name, kind: m.kind, stream: m.stream, ...(m.field !== undefined && { field: m.field }) })),
    derived: a.derived.map((d) => ({ name: d.name, numerator: d.numerator, denominator: d.denominator })),
  }));
}
