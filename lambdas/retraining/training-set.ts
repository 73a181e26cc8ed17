/**
 * The retraining state machine's training set in Athena SQL: one libsvm line per auction whose
 * outcome is known, read from `parquet_bids` and `parquet_impressions` by the shared rule
 * (lambdas/ml/outcome.ts `knownAuctionsSql`, the SQL the local trainer runs on DuckDB), built with
 * the SAME encoding as lambdas/ml/features.ts (hashing trick, field names, missing marker, price
 * features, 1-based sorted indices, colliding values summed), and the same held-out split as
 * lambdas/ml/evaluate.ts `isHoldout`. Generated from the featurizer's constants, so a change there
 * changes the SQL; read at synth time by lib/retraining.ts.
 */
import { CATEGORICAL_FIELDS, CATEGORY_PRICE, FEATURE_DIM, LOG_PRICE_INDEX, MISSING, PRICE_INDEX } from '../ml/features';
import { knownAuctionsSql } from '../ml/outcome';
import { sqlTableName } from '../../schemas/lake';

/**
 * The state machine's reference instant for "known" auctions: the execution's start time, which
 * States.Format puts in place of `{}` from `$$.Execution.StartTime` (the Step Functions context
 * object documents `"StartTime": "Format: ISO 8601"`, e.g. "2019-03-26T20:14:13.192Z"), read by
 * Trino's `from_iso8601_timestamp` and cast to a timestamp (UTC wall time, as the lake's
 * event_time). Every attempt of one execution thus reads the same auctions.
 */
export const EXECUTION_START_SQL = "CAST(from_iso8601_timestamp('{}') AS timestamp)";

/**
 * The training channels' width marker: every training and validation line carries index
 * FEATURE_DIM (0-based; written FEATURE_DIM + 1) with value 0, an index no feature reaches.
 *
 * Why: SageMaker's XGBoost 1.7-1 container serves a text/libsvm request by writing it to a file and
 * loading it with `xgb.DMatrix(path)` (its encoder.py `libsvm_to_dmatrix`), which gives a matrix of
 * `max index + 1` columns (the libsvm parser reads indices 0-based); XGBoost 1.7.4 refuses to predict
 * on a matrix wider than the booster ("Check failed: learner_model_param_.num_feature >=
 * p_fmat->Info().num_col_ ... Number of columns does not match number of features in booster"), and
 * a booster has as many features as the widest of its training and validation matrices. Without the
 * marker a model trained on N auctions knew only the buckets those auctions hashed to, and every
 * request hashing a value above the highest of them failed. With it every model is FEATURE_DIM + 2
 * columns wide, wider than any request (featurize's indices are < FEATURE_DIM), and predicts them
 * all. The marker is a column whose every value is 0: no tree can split on it, so the model is the
 * same; an explicit 0 counts for the width (checked with the real XGBoost:
 * test/e2e/xgboost-channels.test.ts).
 */
export const WIDTH_MARKER_INDEX = FEATURE_DIM;

/** Share of auctions held out (the validation channel): `isHoldout`'s default. */
export const HOLDOUT_FRACTION = 0.2;

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** `hashBucket(s)` in Athena/Trino, as documented in features.ts. */
export function sqlHashBucket(textExpr: string): string {
  return `(from_base(substr(to_hex(md5(to_utf8(${textExpr}))), 1, 8), 16) % ${FEATURE_DIM})`;
}

/** `categoryText(value)`: NULL or '' → the missing marker; numbers as their decimal text. */
export function sqlCategoryText(column: string): string {
  return `coalesce(nullif(CAST(${column} AS varchar), ''), ${quote(MISSING)})`;
}

/** `fieldBucket(name, column)`: the bucket of the text `name=value`. */
function sqlFieldBucket(name: string, column: string): string {
  return sqlHashBucket(`${quote(`${name}=`)} || ${sqlCategoryText(column)}`);
}

/** The (index, value) entries `featurize` produces, 0-based, as Trino ROW(bigint, double) literals. */
export function sqlFeatureEntries(): string[] {
  const p100 = 'CAST(bid_price AS double) / 100e0';
  return [
    `ROW(CAST(${PRICE_INDEX} AS bigint), ${p100})`,
    `ROW(CAST(${LOG_PRICE_INDEX} AS bigint), ln(1e0 + greatest(CAST(bid_price AS double), 0e0)))`,
    ...CATEGORICAL_FIELDS.map((field) => `ROW(${sqlFieldBucket(field, field)}, 1e0)`),
    `ROW(${sqlFieldBucket(CATEGORY_PRICE, 'creative_category')}, ${p100})`,
  ];
}

/** `isHoldout(tx_id)` in SQL. */
export function sqlIsHoldout(fraction = HOLDOUT_FRACTION): string {
  return `${sqlHashBucket('tx_id')} < ${fraction * FEATURE_DIM}`;
}

/**
 * SELECT of one column, the libsvm line `<won> <index+1>:<value> ...` (indices ascending, values
 * of one index summed, as `featurize` + `libsvmLine`, then the width marker), for the training or
 * the held-out auctions.
 */
export function trainingSetSelect(options: {
  /** SQL timestamp expression: auctions whose bid is 5 minutes older are known (EXECUTION_START_SQL in the state machine). */
  knownBefore: string;
  split: 'train' | 'validation';
  fraction?: number;
  /** Tables read (default parquet_bids, parquet_impressions). */
  bids?: string;
  impressions?: string;
}): string {
  const auctions = knownAuctionsSql({
    bids: options.bids ?? sqlTableName('parquet', 'bids'),
    impressions: options.impressions ?? sqlTableName('parquet', 'impressions'),
    knownBefore: options.knownBefore,
  });
  const holdout = sqlIsHoldout(options.fraction);
  const where = options.split === 'validation' ? holdout : `NOT (${holdout})`;
  return [
    'SELECT concat(CAST(label AS varchar), \' \', array_join(transform(array_sort(map_keys(features)),',
    "    k -> concat(CAST(k + 1 AS varchar), ':', CAST(reduce(features[k], 0e0, (s, x) -> s + x, s -> s) AS varchar))), ' ')) AS line",
    'FROM (',
    '  SELECT IF(won, 1, 0) AS label,',
    '    multimap_from_entries(ARRAY[',
    [...sqlFeatureEntries(), `ROW(CAST(${WIDTH_MARKER_INDEX} AS bigint), 0e0)`].map((e) => `      ${e}`).join(',\n'),
    '    ]) AS features',
    '  FROM (',
    ...auctions.split('\n').map((line) => `    ${line}`),
    '  ) auctions',
    `  WHERE bid_price IS NOT NULL AND won IS NOT NULL AND tx_id IS NOT NULL AND ${where}`,
    ')',
  ].join('\n');
}

/**
 * UNLOAD of a training-set SELECT as text (one line per row) to `location`, which the state machine
 * fills in per execution: pass `'{}'` to get a States.Format template. No `compression` property:
 * Athena's UNLOAD documentation gives it for ORC and Parquet only ("This option is specific to the
 * ORC and Parquet formats ... Athena uses gzip for the JSON and TEXTFILE formats"), so asking for
 * 'NONE' was at best ignored and at worst refused. The output is gzip; the state machine's channels
 * step (lambdas/retraining/channels.ts) writes the uncompressed copy the training job reads.
 */
export function unloadSql(select: string, location: string): string {
  return `UNLOAD (\n${select}\n)\nTO '${location}'\nWITH (format = 'TEXTFILE')`;
}
