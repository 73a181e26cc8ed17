/**
 * What `GET /` on the API answers, in both homes: a short index of the routes, where the console
 * and health are, and where the docs are. One definition: the local platform serves it as a route
 * (local/platform.ts) and the CDK stack as a static MockIntegration on the REST API's root
 * (lib/api-index.ts), whose test checks that it lists exactly the API's methods.
 */
import { EVENT_TYPES } from './events';

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

const EVENT_DESCRIPTIONS: Record<(typeof EVENT_TYPES)[number], string> = {
  bid: 'ingest one bid, or an array of up to 500 (JSON)',
  impression: 'ingest one impression, or an array of up to 500 (JSON)',
  click: 'ingest one click, or an array of up to 500 (JSON)',
};

export function apiIndex(where: IndexHome): ApiIndex {
  const local = where.home === 'local';
  const routes: IndexRoute[] = [
    { method: 'GET', path: '/', apiKey: false, description: 'this index' },
    ...EVENT_TYPES.map((type): IndexRoute => ({ method: 'POST', path: `/${type}`, apiKey: true, description: EVENT_DESCRIPTIONS[type] })),
    { method: 'GET', path: '/reports/campaigns/{campaign_item_id}', apiKey: false, description: "a campaign's bids, impressions and clicks, in total and per aggregation window" },
    { method: 'GET', path: '/reports/campaigns/{campaign_item_id}/period', apiKey: false, description: "a campaign's counts rolled up by HOURS, DAYS, WEEKS, MONTHS or YEARS (?period=&timezone=&from=&to=&desc=)" },
    { method: 'POST', path: '/predictions', apiKey: true, description: 'bid-win probability of one auction or an array, from the deployed model' },
    { method: 'GET', path: '/models/current', apiKey: false, description: 'the deployed model: version, held-out metrics, gate decision, serving figures of the last 5 minutes (404 before the first)' },
    ...(local ? [{ method: 'GET', path: '/health', apiKey: false, description: 'health of the emulators, stream consumers and jobs (200 ok, 503 unhealthy)' } satisfies IndexRoute] : []),
  ];
  return {
    name: 'sdp',
    description: 'sdp, a streaming data platform for ad-tech events: ingestion, exact real-time campaign reports, a data lake with SQL, and a bid-win model',
    routes,
    console: local ? '/console/' : where.consoleUrl,
    health: local ? '/health' : 'the CloudWatch dashboard and alarms of the stack (README: Operations); `sdp status` locally',
    docs: 'README.md at the root of the sdp repository (Quick start, Using it, Deploying to AWS, Operations)',
  };
}
