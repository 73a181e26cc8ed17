/**
 * Local training of the bid-win model: the training set from the lake's bids and impressions
 * (DuckDB), the auctions whose outcome is known by the shared rule (lambdas/ml/outcome.ts: a bid at
 * least 5 minutes old, won when an impression is within ±5 minutes of it), the shared featurizer,
 * a held-out split stable across retrains (by tx_id), logistic regression, evaluation of the
 * candidate and of the deployed model on the same held-out auctions, the quality gate, and the
 * model registry (every model stored with its record; the deployed one named by
 * models/current.json). In AWS the retraining state machine does the same with SageMaker.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { readCurrentModel, readModelText, registerModel, type ModelRecord } from '../lambdas/commons/model-registry';
import { featurize, type SparseVector } from '../lambdas/ml/features';
import { evaluate, isHoldout } from '../lambdas/ml/evaluate';
import { qualityGate } from '../lambdas/ml/gate';
import { parseModel, serializeModel, trainLogistic } from '../lambdas/ml/logistic';
import { knownAuctionsSql, OUTCOME_WINDOW_MS, sqlTimestamp } from '../lambdas/ml/outcome';
import { sqlTableName } from '../schemas/lake';
import { LakeSql } from './lake-sql';

export interface TrainingOptions {
  lakeRoot: string;
  s3: S3Client;
  bucket: string;
  /** Held-out AUC a model must reach to be deployed. */
  aucFloor: number;
  /** Train only when at least this many auctions are in the lake. */
  minAuctions?: number;
  /** The run's reference instant (epoch ms, default now): auctions whose bid is 5 minutes older are known. */
  knownBefore?: number;
  onProgress?: (message: string) => void;
}

export interface TrainingReport extends ModelRecord {
  /** Known auctions read (training + held out). */
  auctions: number;
  /** The run's reference instant (ISO): the auctions read are those whose bid is at least 5 minutes older. */
  knownBefore: string;
}

export class NotEnoughDataError extends Error {}

interface Split {
  xs: SparseVector[];
  ys: number[];
}

/** The known auctions of the lake at `knownBefore` (epoch ms), by the shared rule: the SQL both homes run. */
export function knownAuctionsInLake(knownBefore: number): string {
  return knownAuctionsSql({ bids: sqlTableName('parquet', 'bids'), impressions: sqlTableName('parquet', 'impressions'), knownBefore: sqlTimestamp(knownBefore) });
}

/** How many auctions of the lake are known at `knownBefore` (epoch ms). */
export async function countKnownAuctions(lakeRoot: string, knownBefore: number): Promise<number> {
  const lake = await LakeSql.open(lakeRoot);
  try {
    return Number((await lake.query(`SELECT count(*) AS n FROM (${knownAuctionsInLake(knownBefore)})`)).rows[0].n);
  } finally {
    lake.close();
  }
}

/** Every known auction in the lake as a (features, won) example, split into training and held-out sets. */
export async function trainingSet(lakeRoot: string, knownBefore: number): Promise<{ train: Split; holdout: Split; auctions: number }> {
  const lake = await LakeSql.open(lakeRoot);
  try {
    const { rows } = await lake.query(`SELECT tx_id, campaign_item_id, domain, creative_id, creative_category, bid_price, won FROM (${knownAuctionsInLake(knownBefore)}) WHERE bid_price IS NOT NULL`);
    const train: Split = { xs: [], ys: [] };
    const holdout: Split = { xs: [], ys: [] };
    for (const r of rows) {
      const split = isHoldout(r.tx_id as string) ? holdout : train;
      split.xs.push(
        featurize({
          campaign_item_id: r.campaign_item_id as number,
          domain: r.domain as string | null,
          creative_id: r.creative_id as string | null,
          creative_category: r.creative_category as string | null,
          bid_price: r.bid_price as number,
        }),
      );
      split.ys.push(r.won ? 1 : 0);
    }
    return { train, holdout, auctions: rows.length };
  } finally {
    lake.close();
  }
}

export async function trainModel(options: TrainingOptions): Promise<TrainingReport> {
  const log = options.onProgress ?? (() => {});
  const knownBefore = options.knownBefore ?? Date.now();
  const cutoff = new Date(knownBefore - OUTCOME_WINDOW_MS).toISOString();
  log(`reading the auctions whose outcome is known (bids up to ${cutoff}) from the lake`);
  const { train, holdout, auctions } = await trainingSet(options.lakeRoot, knownBefore);
  const minimum = Math.max(options.minAuctions ?? 0, 10);
  if (auctions < minimum || holdout.ys.length === 0 || new Set(train.ys).size < 2) {
    throw new NotEnoughDataError(
      `not enough auctions to train on: ${auctions} with a known outcome in the lake (at least ${minimum}, with wins and losses, are needed); ` +
        `an auction's outcome is known once its bid is ${OUTCOME_WINDOW_MS / 60_000} minutes old (bids up to ${cutoff} now)`,
    );
  }
  log(`training on ${train.xs.length} auctions, holding out ${holdout.xs.length}`);
  const started = performance.now();
  const model = trainLogistic(train.xs, train.ys);
  const trainingSeconds = (performance.now() - started) / 1000;
  const metrics = evaluate(model, holdout.xs, holdout.ys);

  const current = await readCurrentModel(options.s3, options.bucket);
  const currentAuc = current ? evaluate(parseModel(await readModelText(options.s3, options.bucket, current.version)), holdout.xs, holdout.ys).auc : undefined;
  const gate = qualityGate({ candidate: metrics, current: currentAuc === undefined ? undefined : { auc: currentAuc }, floor: options.aucFloor });
  log(`${gate.deploy ? 'deploying' : 'not deploying'} ${model.version}: ${gate.reason}`);

  const record: ModelRecord = {
    version: model.version,
    createdAt: model.createdAt,
    trainingRows: train.xs.length,
    holdoutRows: holdout.xs.length,
    trainingSeconds,
    metrics,
    decision: { ...gate, currentAuc, floor: options.aucFloor },
  };
  await registerModel(options.s3, options.bucket, serializeModel(model), record);
  return { ...record, auctions, knownBefore: new Date(knownBefore).toISOString() };
}
