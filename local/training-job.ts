/**
 * The scheduled retraining of the local platform (the local stand-in for the retraining state
 * machine's schedule): trains when at least RETRAIN_MIN_NEW_AUCTIONS auctions became known (by the
 * shared rule, lambdas/ml/outcome.ts) since the last training, and returns the run's figures. Invoked by the scheduler in a worker thread.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { lakeBucket, readSetting } from '../schemas/resources';
import { jobRuns, TRAINING_JOB } from './jobs';
import { localLakeRoot } from './lake-sql';
import { countKnownAuctions, trainModel, type TrainingReport } from './trainer';

/** The figures a training run records (jobs keep the scalar ones). */
export function trainingSummary(report: TrainingReport) {
  return {
    version: report.version,
    auctions: report.auctions,
    knownBefore: report.knownBefore,
    trainingRows: report.trainingRows,
    holdoutRows: report.holdoutRows,
    trainingSeconds: report.trainingSeconds,
    auc: report.metrics.auc,
    logLoss: report.metrics.logLoss,
    deployed: report.decision.deploy,
    reason: report.decision.reason,
  };
}

export async function handler(): Promise<object> {
  const dataDir = process.env.SDP_LOCAL_DATA_DIR;
  if (!dataDir) throw new Error('SDP_LOCAL_DATA_DIR is not set: the training job runs inside the local platform');
  const lakeRoot = localLakeRoot(dataDir);
  // The last run that trained (skipped runs record their count too, but trained nothing).
  const last = jobRuns(dataDir, TRAINING_JOB).filter((r) => r.outcome === 'succeeded' && typeof r.figures?.version === 'string').at(-1);
  const knownBefore = Date.now();
  const auctions = await countKnownAuctions(lakeRoot, knownBefore);
  const needed = ((last?.figures?.auctions as number | undefined) ?? 0) + readSetting('retrainMinNewAuctions');
  if (auctions < needed) return { skipped: true, auctions, reason: `${auctions} auctions with a known outcome in the lake; retraining waits for ${needed}` };
  const s3 = new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  return trainingSummary(await trainModel({ lakeRoot, s3, bucket: lakeBucket.name, aucFloor: readSetting('modelAucFloor'), knownBefore }));
}
