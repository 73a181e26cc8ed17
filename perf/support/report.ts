/**
 * How every benchmark reports: a table of figures, each with its goal and PASS/MISS (or "info"
 * for figures without a goal), then one JSON line with the same figures for machines.
 */
import { round } from './stats';

export interface Goal {
  op: '>=' | '<=' | '<';
  target: number;
  /** How the goal reads in the table, e.g. "≥ 0.8 × ceiling". */
  text?: string;
}

export interface Figure {
  key: string;
  label: string;
  value: number;
  unit: string;
  goal?: Goal;
  /** Free text shown after the result, e.g. how the figure was obtained. */
  note?: string;
}

export interface BenchResult {
  bench: string;
  figures: Figure[];
  /** Extra facts for the JSON line (settings, diagnostics). */
  details?: Record<string, unknown>;
  /** Lines printed under the table (diagnostics, where time went). */
  notes?: string[];
}

export function passes(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  if (!Number.isFinite(f.value)) return false;
  const { op, target } = f.goal;
  return op === '>=' ? f.value >= target : op === '<=' ? f.value <= target : f.value < target;
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const r = round(value, 4);
  return Math.abs(r) >= 1000 ? Math.round(r).toLocaleString('en-US') : String(r);
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
}

/** Prints the table and the JSON line on stdout; returns whether every goal passed. */
export function printResult(result: BenchResult): boolean {
  const rows = result.figures.map((f) => {
    const ok = passes(f);
    const goal = f.goal ? (f.goal.text ?? `${{ '>=': '≥', '<=': '≤', '<': '<' }[f.goal.op]} ${formatValue(f.goal.target)} ${f.unit}`) : '-';
    return [f.label, `${formatValue(f.value)} ${f.unit}`, goal, ok === undefined ? 'info' : ok ? 'PASS' : 'MISS', f.note ?? ''];
  });
  const header = ['figure', 'value', 'goal', 'result', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [
    '',
    `== bench: ${result.bench} ==`,
    pad(header, widths),
    pad(widths.map((w) => '-'.repeat(w)), widths),
    ...rows.map((r) => pad(r, widths)),
  ];
  if (result.notes?.length) lines.push('', ...result.notes.map((n) => `  ${n}`));
  const allPass = result.figures.every((f) => passes(f) !== false);
  const goals = result.figures.filter((f) => f.goal).length;
  lines.push('', `${result.bench}: ${goals === 0 ? 'no goals (figures for information)' : allPass ? 'all goals met' : `goals missed: ${result.figures.filter((f) => passes(f) === false).map((f) => f.key).join(', ')}`}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  const figures: Record<string, unknown> = {};
  for (const f of result.figures) {
    figures[f.key] = {
      value: round(f.value, 5),
      unit: f.unit,
      ...(f.goal ? { goal: `${f.goal.op} ${round(f.goal.target, 5)}`, pass: passes(f) } : {}),
    };
  }
  process.stdout.write(`${JSON.stringify({ bench: result.bench, pass: allPass, figures, ...(result.details ? { details: result.details } : {}) })}\n`);
  return allPass;
}

/** Progress for humans, on stderr so stdout stays the result. */
export function progress(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}
