/**
 * Serves the live console's static files (console/ at the repository root) at /console/, as the
 * static site would serve them: only the files in that folder, by exact name, never a path
 * outside it. /console redirects to /console/ so the page's relative URLs resolve under it.
 * config.json, which a static site's deployment writes with the API's URL, names no API here
 * (the API is this origin); both list the pipeline's aggregations.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { CONSOLE_CONTENT_SECURITY_POLICY, CONSOLE_DIR, consoleAggregations, type ConsoleConfig } from '../schemas/console';
import { activePipeline } from '../schemas/active-pipeline';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Route } from './api-server';

export const CONSOLE_PATH = '/console/';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': CONSOLE_CONTENT_SECURITY_POLICY,
};

const notFound = (name: string): APIGatewayProxyResult => ({
  statusCode: 404,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ error: `no console file ${name}` }),
});

export function consoleRoutes(dir = CONSOLE_DIR, pipeline = activePipeline()): Route[] {
  const config: ConsoleConfig = { aggregations: consoleAggregations(pipeline) };
  const files = new Set(readdirSync(dir).filter((f) => TYPES[extname(f)]));
  const serve = (name: string): APIGatewayProxyResult =>
    files.has(name)
      ? {
          statusCode: 200,
          headers: { 'content-type': TYPES[extname(name)], 'cache-control': 'no-cache', ...SECURITY_HEADERS },
          body: readFileSync(join(dir, name), 'utf8'),
        }
      : notFound(name);
  return [
    {
      method: 'GET',
      resource: '/console',
      handler: async (event) => (event.path.endsWith('/') ? serve('index.html') : { statusCode: 301, headers: { location: CONSOLE_PATH }, body: '' }),
    },
    {
      method: 'GET',
      resource: '/console/{file}',
      handler: async (event) => {
        const name = event.pathParameters?.file ?? '';
        return name === 'config.json' ? { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' }, body: JSON.stringify(config) } : serve(name);
      },
    },
  ];
}
