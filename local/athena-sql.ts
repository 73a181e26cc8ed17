/**
 * SQL on Athena for a deployed stack: start the query in the stack's workgroup and database, poll
 * until it ends, and read every page of results. Same result shape as the local DuckDB engine.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type GetQueryResultsCommandOutput,
} from '@aws-sdk/client-athena';
import type { QueryResult } from './lake-sql';

export interface AthenaTarget {
  workGroup: string;
  database: string;
  /** Called while the query runs, with its state. */
  onProgress?: (state: string) => void;
  timeoutMs?: number;
}

export class AthenaQueryError extends Error {}

export async function queryAthena(sql: string, target: AthenaTarget, client = new AthenaClient({})): Promise<QueryResult> {
  const { QueryExecutionId: id } = await client.send(
    new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: target.workGroup, QueryExecutionContext: { Database: target.database } }),
  );
  const deadline = Date.now() + (target.timeoutMs ?? 15 * 60_000);
  for (let delay = 200; ; delay = Math.min(delay * 1.5, 2000)) {
    const { QueryExecution: q } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = q?.Status?.State ?? 'UNKNOWN';
    target.onProgress?.(state);
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') throw new AthenaQueryError(q?.Status?.StateChangeReason ?? `query ${state.toLowerCase()}`);
    if (Date.now() > deadline) throw new AthenaQueryError(`query ${id} still ${state} after ${Math.round((target.timeoutMs ?? 900_000) / 1000)} s`);
    await new Promise((r) => setTimeout(r, delay));
  }
  const rows: Record<string, unknown>[] = [];
  let columns: string[] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page: GetQueryResultsCommandOutput = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token }));
    columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((c) => c.Name ?? '') ?? columns;
    const data = page.ResultSet?.Rows ?? [];
    // The first row of the first page repeats the column names.
    for (const row of first ? data.slice(1) : data) {
      rows.push(Object.fromEntries(columns.map((name, i) => [name, row.Data?.[i]?.VarCharValue ?? null])));
    }
    first = false;
    token = page.NextToken;
  } while (token);
  return { columns, rows };
}
