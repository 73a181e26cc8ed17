/**
 * The local stand-in for API Gateway: an HTTP server on 127.0.0.1 with the deployed API's routes,
 * turning each request into the API Gateway proxy event the Lambda handlers receive in AWS and
 * their result back into the HTTP response. It enforces the request limits API Gateway would, and,
 * when given a key, API Gateway's API-key check on the routes that require one (apiKeyRequired).
 *
 * Request bodies reach the handler as API Gateway hands them over in the deployed API
 * (lib/ingestion-api.ts): their content coding undone (gzip, deflate; else 415; see
 * ./content-coding), then base64-encoded with isBase64Encoded true, because the API declares every
 * media type binary. So the handlers see the exact bytes sent and decode the text themselves
 * (lambdas/commons/body.ts): nothing here turns bytes into a string.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { MAX_BODY_BYTES } from '../lambdas/commons/body';
import { decodeContentCoding } from './content-coding';

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface Route {
  method: 'GET' | 'POST';
  /** API Gateway resource path, e.g. /reports/devices/{device_id}/{metric}. */
  resource: string;
  handler: ProxyHandler;
  /**
   * As API Gateway's method setting: requests must carry the server's API key in the x-api-key
   * header, or are answered 403 before their body is read. Enforced only when the server has a key.
   */
  apiKeyRequired?: boolean;
}

/**
 * A route that writes its response itself, for long-lived answers a proxy handler cannot give
 * (a server-sent event stream). Matched on its exact path; it has no API Gateway counterpart.
 */
export interface StreamRoute {
  path: string;
  serve: (req: IncomingMessage, res: ServerResponse) => void;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  params: string[];
}

export interface ApiServerOptions {
  routes: Route[];
  onError?: (message: string, err: unknown) => void;
  /**
   * The API key that routes with apiKeyRequired accept. Without one the check is off (the local
   * quick start); in AWS the usage plan's key is always required on those routes.
   */
  apiKey?: string;
  /** GET-only routes answered by writing the response directly. */
  streamRoutes?: StreamRoute[];
}

/** API Gateway's answer to a missing or wrong API key (its INVALID_API_KEY gateway response). */
export const FORBIDDEN: APIGatewayProxyResult = {
  statusCode: 403,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ForbiddenException' },
  body: '{"message":"Forbidden"}',
};

/**
 * A check of presented keys against the expected one, in constant time: both sides are hashed to
 * SHA-256 digests of equal length and compared with timingSafeEqual, so neither the key's content
 * nor its length shows in the time a check takes.
 */
export function apiKeyChecker(expected: string): (presented: string | string[] | undefined) => boolean {
  if (expected.length === 0) throw new Error('the API key must not be empty');
  const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();
  const wanted = digest(expected);
  return (presented) => {
    if (presented === undefined) return false;
    return timingSafeEqual(digest(Array.isArray(presented) ? presented.join(',') : presented), wanted);
  };
}

function compile(route: Route): CompiledRoute {
  const params: string[] = [];
  const source = route.resource.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}/g, (_m, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return { ...route, pattern: new RegExp(`^${source}/?$`), params };
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(result.headers ?? {})) headers[key] = String(value);
  res.writeHead(result.statusCode, headers);
  res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
}

function jsonError(status: number, message: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ error: message }) };
}

/** Reads the body's bytes up to the limit; undefined when it is larger (the caller answers 413). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function queryParameters(url: URL): Record<string, string> | null {
  const out: Record<string, string> = {};
  let any = false;
  for (const [key, value] of url.searchParams) {
    out[key] = value;
    any = true;
  }
  return any ? out : null;
}

/** How long close() lets requests in flight finish before it ends their connections. */
const CLOSE_GRACE_MS = 3000;

export class ApiServer {
  private readonly server: Server;
  private closing = false;
  private readonly routes: CompiledRoute[];
  private readonly keyMatches?: (presented: string | string[] | undefined) => boolean;

  constructor(private readonly options: ApiServerOptions) {
    this.routes = options.routes.map(compile);
    if (options.apiKey !== undefined) this.keyMatches = apiKeyChecker(options.apiKey);
    this.server = createServer(
      { maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
      (req, res) => void this.handle(req, res),
    );
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /**
   * Stops taking connections and resolves once every one has ended. Requests in flight get their
   * answers, each with `connection: close`; a client that keeps a connection busy past the grace
   * period (a browser page polling or reconnecting over keep-alive) is cut off: at worst it sees
   * a network error, never an answer for work that was not done.
   */
  close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => this.server.closeAllConnections(), graceMs).unref();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.closing) res.setHeader('connection', 'close');
    try {
      const path = (req.url ?? '/').split('?')[0].replace(/(.)\/+$/, '$1');
      const stream = this.options.streamRoutes?.find((r) => r.path === path);
      if (stream && req.method === 'GET') return stream.serve(req, res);
      if (stream) {
        req.resume();
        return send(res, jsonError(405, `${req.method} is not allowed on ${path}; use GET`, { allow: 'GET' }));
      }
      send(res, await this.dispatch(req));
    } catch (err) {
      this.options.onError?.(`${req.method} ${req.url} failed`, err);
      if (!res.headersSent) send(res, jsonError(500, 'internal error'));
      else res.destroy();
    }
  }

  private async dispatch(req: IncomingMessage): Promise<APIGatewayProxyResult> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return jsonError(400, 'malformed request URL');
    }
    const candidates = this.routes.filter((r) => r.pattern.test(url.pathname));
    if (candidates.length === 0) {
      req.resume();
      return jsonError(404, `no route for ${url.pathname}`);
    }
    const route = candidates.find((r) => r.method === req.method);
    if (!route) {
      req.resume();
      const allow = [...new Set(candidates.map((r) => r.method))].join(', ');
      return jsonError(405, `${req.method} is not allowed on ${url.pathname}; use ${allow}`, { allow });
    }
    if (route.apiKeyRequired && this.keyMatches && !this.keyMatches(req.headers['x-api-key'])) {
      req.resume();
      return FORBIDDEN;
    }
    const raw = req.method === 'POST' ? await readBody(req, MAX_BODY_BYTES) : (req.resume(), null);
    if (raw === undefined) return jsonError(413, `body exceeds ${MAX_BODY_BYTES} bytes`);
    let body: Buffer | null = null;
    if (raw !== null) {
      const decoded = await decodeContentCoding(raw, req.headers['content-encoding'], MAX_BODY_BYTES);
      if (!decoded.ok) return jsonError(decoded.statusCode, decoded.message, decoded.headers);
      body = decoded.body;
    }

    const match = route.pattern.exec(url.pathname)!;
    let pathParameters: Record<string, string> | null = null;
    if (route.params.length > 0) {
      pathParameters = {};
      route.params.forEach((name, i) => {
        let value = match[i + 1];
        try {
          value = decodeURIComponent(value);
        } catch {
          // API Gateway passes undecodable segments through as they are.
        }
        pathParameters![name] = value;
      });
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(',') : value;
    }
    const event = {
      resource: route.resource,
      path: url.pathname,
      httpMethod: req.method!,
      headers,
      multiValueHeaders: {},
      queryStringParameters: queryParameters(url),
      multiValueQueryStringParameters: null,
      pathParameters,
      stageVariables: null,
      body: body && body.length > 0 ? body.toString('base64') : null,
      isBase64Encoded: body !== null && body.length > 0,
      requestContext: { requestTimeEpoch: Date.now() },
    } as unknown as APIGatewayProxyEvent;
    return route.handler(event);
  }
}
