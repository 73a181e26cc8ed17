/**
 * What `GET /` on the API answers, in both homes: a short index of the routes, where the console
 * and health are, and where the docs are. One definition: the local platform serves it as a route
 * (local/platform.ts) and the CDK stack as a static MockIntegration on the REST API's root
 * (lib/api-index.ts), whose test checks that it lists exactly the API's methods.
 */
import { activePipeline } from './active-pipeline';
import { hasModel, type AggregationSpec, type Pipeline, type StreamSpec } from './pipeline';

export interface IndexRoute {
  method: 'GET' | 'POST';
  /** Relative to the API's base URL (UrlForAPI). */
  path: string;
  /** The route needs an API key in x-api-key (when the platform has one; always in AWS). */
  apiKey: boolean;
  description: string;
}

export interface ApiIndex {
  name: 'sdp';
  description: string;
  routes: IndexRoute[];
  /** The live console: a path on this API locally, the static site's URL in AWS. */
  console: string;
  /** The health view: GET /health locally; in AWS, where to look instead. */
  health: string;
  docs: string;
}

export type IndexHome = { home: 'local' } | { home: 'aws'; consoleUrl: string };

/** A declared stream's ingestion route (POST <stream.route>). */
export function ingestRoute(stream: StreamSpec): IndexRoute {
  return { method: 'POST', path: stream.route, apiKey: true, description: `ingest one ${stream.name}, or an array of up to 500 (JSON)` };
}

/** A declared aggregation's report resource: `/reports/<route>` and one `{field}` segment per group field, in groupBy order. */
export function reportResource(aggregation: AggregationSpec): string {
  return `/reports/${aggregation.route}/${aggregation.groupBy.map((g) => `{${g.name}}`).join('/')}`;
}

/** A declared aggregation's report routes: the group's windows (or sliding windows), and its calendar roll-ups (contract 4 of issue 19). */
export function reportRoutes(aggregation: AggregationSpec): IndexRoute[] {
  const path = reportResource(aggregation);
  const measures = aggregation.measures.map((m) => m.name).join(', ');
  const group = aggregation.groupBy.map((g) => g.name).join(' and ');
  return [
    { method: 'GET', path, apiKey: false, description: `${measures} of one ${group}, in total and per ${aggregation.periodSeconds} s window; ?window=&step= (seconds, multiples of the window) for sliding windows` },
    { method: 'GET', path: `${path}/period`, apiKey: false, description: `${measures} of one ${group} rolled up by HOURS, DAYS, WEEKS, MONTHS or YEARS (?period=&timezone=&from=&to=&desc=)` },
  ];
}

/** The declared model's routes (PipelineDeclaration.model). */
const modelRoutes: readonly IndexRoute[] = [
  { method: 'POST', path: '/predictions', apiKey: true, description: 'predictions of the deployed model, for one request or an array' },
  { method: 'GET', path: '/models/current', apiKey: false, description: 'the deployed model: version, held-out metrics, gate decision, serving figures of the last 5 minutes (404 before the first)' },
];

export function apiIndex(where: IndexHome, pipeline: Pipeline = activePipeline()): ApiIndex {
  const local = where.home === 'local';
  const routes: IndexRoute[] = [
    { method: 'GET', path: '/', apiKey: false, description: 'this index' },
    ...pipeline.streams.map(ingestRoute),
    ...pipeline.aggregations.flatMap(reportRoutes),
    ...(hasModel(pipeline) ? modelRoutes : []),
    ...(local ? [{ method: 'GET', path: '/health', apiKey: false, description: 'health of the emulators, stream consumers and jobs (200 ok, 503 unhealthy)' } satisfies IndexRoute] : []),
  ];
  return {
    name: 'sdp',
    description: `sdp, a streaming data platform running ${pipeline.name} (${pipeline.description}): ingestion, exact real-time reports${hasModel(pipeline) ? ', a data lake with SQL, and a model served at /predictions' : ' and a data lake with SQL'}`,
    routes,
    console: local ? '/console/' : where.consoleUrl,
    health: local ? '/health' : 'the CloudWatch dashboard and alarms of the stack (README: Operations); `sdp status` locally',
    docs: 'README.md at the root of the sdp repository (Quick start, Using it, Deploying to AWS, Operations)',
  };
}
