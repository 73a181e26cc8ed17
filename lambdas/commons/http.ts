/** API Gateway proxy responses: JSON bodies, and errors that name what was wrong. */
import type { APIGatewayProxyResult } from 'aws-lambda';

export interface FieldIssue {
  /** Index in the posted array, when the body was an array. */
  index?: number;
  /** Dotted path of the bad field ('' for the event itself). */
  field: string;
  message: string;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function error(statusCode: number, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return json(statusCode, { error: message, ...extra }, headers);
}

/**
 * The result, readable by scripts of any web origin: for public read-only answers (reports, the
 * current model), so the live console works as a static site served apart from the API.
 */
export function readableFromAnyOrigin(result: APIGatewayProxyResult): APIGatewayProxyResult {
  return { ...result, headers: { ...result.headers, 'access-control-allow-origin': '*' } };
}

export function header(headers: Record<string, string | undefined> | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}
