// Which lake views `sdp query` makes for a query: the tables it names, all of them when unsure.
import { viewsFor } from '../../local/lake-sql';

const ALL = 12;

test('a query that names no lake table needs no view', () => {
  expect(viewsFor('SELECT 1')).toEqual([]);
  expect(viewsFor("SELECT current_date, 'bids' AS word")).toEqual([]);
});

test('the tables a query names, quoted or not, in any case', () => {
  expect(viewsFor('SELECT count(*) FROM parquet_bcns WHERE dt = CAST(current_date AS VARCHAR)')).toEqual(['parquet/bcns']);
  expect(viewsFor('SELECT * FROM "RAW_CLICKS" c JOIN parquet_bids b USING (tx_id)').sort()).toEqual(['parquet/bids', 'raw/clicks']);
  // a longer name is another table, not this one
  expect(viewsFor('SELECT * FROM parquet_bids_old')).toEqual([]);
});

test('every view when the query may read views it does not name', () => {
  for (const sql of ['SHOW TABLES', 'DESCRIBE parquet_bids', 'SELECT * FROM information_schema.tables', 'SELECT * FROM duckdb_views()', "SELECT * FROM query_table('raw_' || 'bids')"]) {
    expect(viewsFor(sql)).toHaveLength(ALL);
  }
  expect(viewsFor(undefined)).toHaveLength(ALL);
});
