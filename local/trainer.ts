/**
 * Local training of the bid-win model: the training set from the lake's `parquet_auctions` (DuckDB),
 * the shared featurizer, a held-out split stable across retrains (by tx_id), logistic regression,
 * evaluation of the candidate and of the deployed model on the same held-out auctions, the quality
 * gate, and the model registry (every model stored with its record; the deployed one named by
 * models/current.json). In AWS the retraining state machine does the same with SageMaker.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { readCurrentModel, readModelText, registerModel, type ModelRecord } from '../lambdas/commons/model-registry';
import { featurize, type SparseVector } from '../lambdas/ml/features';
import { evaluate, isHoldout } from '../lambdas/ml/evaluate';
import { qualityGate } from '../lambdas/ml/gate';
import { parseModel, serializeModel, trainLogistic } from '../lambdas/ml/logistic';
import { LakeSql } from './lake-sql';

export interface TrainingOptions {
  lakeRoot: string;
  s3: S3Client;
  bucket: string;
  /** Held-out AUC a model must reach to be deployed. */
  aucFloor: number;
  /** Train only when at least this many auctions are in the lake. */
  minAuctions?: number;
  onProgress?: (message: string) => void;
}

export interface TrainingReport extends ModelRecord {
  auctions: number;
}

export class NotEnoughDataError extends Error {}

interface Split {
  xs: SparseVector[];
  ys: number[];
}

/** Every auction in the lake as a (features, won) example, split into training and held-out sets. */
export async function trainingSet(lakeRoot: string): Promise<{ train: Split; holdout: Split; auctions: number }> {
  const lake = await LakeSql.open(lakeRoot);
  try {
    const { rows } = await lake.query(
      'SELECT tx_id, campaign_item_id, domain, creative_id, creative_category, bid_price, won FROM parquet_auctions WHERE bid_price IS NOT NULL',
    );
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
  log('reading auctions from the lake');
  const { train, holdout, auctions } = await trainingSet(options.lakeRoot);
  const minimum = Math.max(options.minAuctions ?? 0, 10);
  if (auctions < minimum || holdout.ys.length === 0 || new Set(train.ys).size < 2) {
    throw new NotEnoughDataError(`not enough auctions to train on: ${auctions} in the lake (at least ${minimum}, with wins and losses, are needed)`);
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
  return { ...record, auctions };
}
