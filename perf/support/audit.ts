/**
 * Runs `sdp audit --json` (bin/sdp.ts: the data audit of local/audit.ts, the same code and waits
 * an operator runs) against a benchmark platform's data directory. The lake writer batches for a
 * few seconds, so a mismatch right after a drain is retried until the deadline.
 */
import type { AuditRow } from '../../local/audit';
import { sleep } from './stats';
import { runSdp } from './sdp';


export interface AuditOutcome {
  inFlight: number;
  rows: AuditRow[];
  mismatches: number;
  /** Audits run until this one (1 when the first was clean). */
  attempts: number;
  seconds: number;
}

async function auditOnce(dataDir: string, waitSeconds: number): Promise<Omit<AuditOutcome, 'attempts' | 'seconds'>> {
  const result = await runSdp(['audit', '--json', '--wait', String(waitSeconds), '--data-dir', dataDir]).then(
    (r) => r.stdout,
    (err: { stdout?: string; message: string }) => {
      if (!err.stdout) throw new Error(`sdp audit failed: ${err.message}`);
      return err.stdout;
    },
  );
  return JSON.parse(result) as Omit<AuditOutcome, 'attempts' | 'seconds'>;
}

/** Audits until clean or `deadlineMs` has passed; resolves with the last audit. */
export async function auditUntilClean(dataDir: string, deadlineMs: number, waitSeconds = 120): Promise<AuditOutcome> {
  const started = Date.now();
  for (let attempts = 1; ; attempts++) {
    const audit = await auditOnce(dataDir, waitSeconds);
    if (audit.mismatches === 0 || Date.now() - started > deadlineMs) return { ...audit, attempts, seconds: (Date.now() - started) / 1000 };
    await sleep(3000);
  }
}

/** Totals of an audit over its hours. */
export function auditTotals(rows: readonly AuditRow[]): Pick<AuditRow, 'streamRecords' | 'expectedAggregated' | 'aggregated' | 'expectedLake' | 'lakeParquet' | 'lakeRaw'> {
  const total = (k: 'streamRecords' | 'expectedAggregated' | 'aggregated' | 'expectedLake' | 'lakeParquet' | 'lakeRaw') => rows.reduce((n, r) => n + r[k], 0);
  return {
    streamRecords: total('streamRecords'),
    expectedAggregated: total('expectedAggregated'),
    aggregated: total('aggregated'),
    expectedLake: total('expectedLake'),
    lakeParquet: total('lakeParquet'),
    lakeRaw: total('lakeRaw'),
  };
}
