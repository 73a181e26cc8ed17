/** Prints query results for people (an aligned table), for programs (JSON) and for spreadsheets (CSV). */
import type { QueryResult } from './lake-sql';

const text = (value: unknown): string => (value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

export function formatTable({ columns, rows }: QueryResult): string {
  const cells = rows.map((row) => columns.map((c) => text(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n');
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatCsv({ columns, rows }: QueryResult): string {
  return [columns.map(csvField).join(','), ...rows.map((row) => columns.map((c) => csvField(text(row[c]))).join(','))].join('\n');
}

export function formatJson({ rows }: QueryResult): string {
  return JSON.stringify(rows, null, 2);
}
