/**
 * Every SQL statement the stack sends to Athena, parsed with a Trino grammar (dt-sql-parser's
 * TrinoSQL; Athena engine 3 is Trino): the saved queries (queries/*.sql, named queries in the
 * workgroup) and the retraining state machine's training and validation sets. UNLOAD is Athena's
 * own statement, not Trino's: its SELECT is parsed with the grammar, its wrapper checked against
 * the syntax in Athena's UNLOAD reference: UNLOAD (SELECT ...) TO 's3://...' WITH ( property_name = 'expression' [, ...] ).
 */
import { TrinoSQL } from 'dt-sql-parser';
import { readNamedQueries } from '../../lib/analytics';
import { EXECUTION_START_SQL, trainingSetSelect, unloadSql } from '../../lambdas/retraining/training-set';

const trino = new TrinoSQL();

/** The grammar's syntax errors; the ANTLR runtime's own console output is kept out of the test log. */
function syntaxErrors(sql: string): string[] {
  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return trino.validate(sql).map((e) => `${e.startLine}:${e.startColumn} ${e.message}`);
  } finally {
    error.mockRestore();
  }
}

const UNLOAD = /^UNLOAD \(\n([\s\S]*)\n\)\nTO '(s3:\/\/[^']+\/)'\nWITH \((\w+ = '[^']*'(?:, \w+ = '[^']*')*)\)$/;

describe('Athena SQL (Trino grammar)', () => {
  it('the grammar refuses what Trino refuses (control)', () => {
    expect(syntaxErrors('SELECT FROM WHERE')).not.toEqual([]);
    expect(syntaxErrors("SELECT a FROM t WHERE dt = '2026-01-01' GROUP BY 1 ORDER BY 1 NULLS LAST LIMIT 1")).toEqual([]);
  });

  const named = readNamedQueries();
  it('there are saved queries to check', () => expect(named.length).toBeGreaterThan(0));
  it.each(named.map((q) => [q.name, q.sql]))('saved query %s parses', (_name, sql) => {
    expect(syntaxErrors(sql)).toEqual([]);
  });

  it.each(['train', 'validation'] as const)('the %s set UNLOAD: its SELECT parses, its wrapper follows Athena\'s UNLOAD syntax', (split) => {
    const statement = unloadSql(trainingSetSelect({ knownBefore: EXECUTION_START_SQL, split }), 's3://bucket/training/run/attempt-0/train/');
    const parts = UNLOAD.exec(statement);
    expect(parts).not.toBeNull();
    expect(syntaxErrors(parts![1])).toEqual([]);
    expect(parts![3]).toMatch(/format = 'TEXTFILE'/);
  });
});
