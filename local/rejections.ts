/**
 * The most recent rejected ingestion requests with their reasons, kept in memory for the live
 * console. Recorded around the ingest handler (which is unchanged): every answer of 400 or more is
 * kept with its status, message and the first field issues its body names.
 */
import type { FieldIssue } from '../lambdas/commons/http';
import type { ProxyHandler } from './api-server';

export interface Rejection {
  at: string;
  method: string;
  path: string;
  status: number;
  error: string;
  issues: FieldIssue[];
  /** Issues the answer named beyond those kept. */
  moreIssues: number;
}

const MAX_ISSUES = 5;
const MAX_TEXT = 300;

const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

export class RejectionLog {
  private readonly entries: Rejection[] = [];

  constructor(private readonly capacity = 50) {}

  record(entry: Rejection): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Newest first. */
  recent(): Rejection[] {
    return [...this.entries].reverse();
  }
}

function reasonOf(body: string): { error: string; issues: FieldIssue[] } {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; issues?: unknown };
    const error = typeof parsed.error === 'string' ? parsed.error : typeof parsed.message === 'string' ? parsed.message : body;
    const issues = Array.isArray(parsed.issues) ? (parsed.issues as FieldIssue[]) : [];
    return { error, issues };
  } catch {
    return { error: body, issues: [] };
  }
}

/** The handler, recording each of its rejections in the log. */
export function recordingRejections(handler: ProxyHandler, log: RejectionLog): ProxyHandler {
  return async (event) => {
    const result = await handler(event);
    if (result.statusCode >= 400) {
      const { error, issues } = reasonOf(result.body);
      log.record({
        at: new Date().toISOString(),
        method: event.httpMethod,
        path: event.path,
        status: result.statusCode,
        error: clip(error),
        issues: issues.slice(0, MAX_ISSUES).map((i) => ({ ...(i.index !== undefined ? { index: i.index } : {}), field: clip(String(i.field)), message: clip(String(i.message)) })),
        moreIssues: Math.max(0, issues.length - MAX_ISSUES),
      });
    }
    return result;
  };
}
