/**
 * The retraining state machine's training-set SELECT (lambdas/retraining/training-set.ts, Athena's
 * Trino dialect) rewritten for DuckDB, so tests run the very statement Athena is sent over a local
 * lake. Each rewrite names the Trino construct and its DuckDB equivalent; every one must apply, and
 * a Trino function left in the result fails, so a change to the SQL cannot slip through untranslated.
 */

interface Rewrite {
  trino: RegExp;
  duckdb: string;
  why: string;
}

const REWRITES: Rewrite[] = [
  {
    // Trino: md5(varbinary) → varbinary, to_hex upper-case hex; from_base(hex, 16) → bigint.
    // DuckDB: md5(varchar) hashes the UTF-8 bytes and gives lower-case hex; '0x…' casts to an integer.
    trino: /from_base\(substr\(to_hex\(md5\(to_utf8\(/g,
    duckdb: "(('0x' || substr(md5((",
    why: 'hash prefix',
  },
  { trino: /\)\)\), 1, 8\), 16\)/g, duckdb: ')), 1, 8))::UBIGINT)', why: 'hash suffix' },
  {
    // Trino's multimap_from_entries(ARRAY[ROW(k, v), ...]) keeps every (k, v): a DuckDB list of
    // unnamed structs keeps them too; the map's reads below are rewritten over that list.
    trino: /multimap_from_entries\(ARRAY\[([\s\S]*?)\]\) AS features/g,
    duckdb: '[$1] AS features',
    why: 'multimap as a list of (key, value) rows',
  },
  {
    // reduce(features[k], 0e0, (s, x) -> s + x, s -> s): the sum of the values at key k.
    trino: /reduce\(features\[k\], 0e0, \(s, x\) -> s \+ x, s -> s\)/g,
    duckdb: 'list_sum(list_transform(list_filter(features, e -> struct_extract(e, 1) = k), e -> struct_extract(e, 2)))',
    why: "sum of a multimap key's values",
  },
  {
    trino: /array_sort\(map_keys\(features\)\)/g,
    duckdb: 'list_sort(list_distinct(list_transform(features, e -> struct_extract(e, 1))))',
    why: "the multimap's distinct keys, ascending",
  },
  { trino: /\btransform\(/g, duckdb: 'list_transform(', why: 'transform(array, lambda)' },
  { trino: /\barray_join\(/g, duckdb: 'array_to_string(', why: 'array_join(array, separator)' },
];

/** Trino functions with no DuckDB namesake of the same meaning: none may be left after rewriting. */
const TRINO_ONLY = /\b(from_base|to_utf8|to_hex|multimap_from_entries|map_keys|array_sort|reduce|array_join)\s*\(/;

export function trainingSetOnDuckDb(trinoSql: string): string {
  let sql = trinoSql;
  for (const r of REWRITES) {
    const next = sql.replace(r.trino, r.duckdb);
    if (next === sql) throw new Error(`training-set SQL: the rewrite "${r.why}" found nothing to rewrite (${r.trino})`);
    sql = next;
  }
  const left = TRINO_ONLY.exec(sql);
  if (left) throw new Error(`training-set SQL: Trino function ${left[1]} left untranslated`);
  return sql;
}
