/**
 * The retraining state machine's own logic (lib/retraining.ts), pure: reading a SageMaker training
 * job's final validation metrics, the quality gate (lambdas/ml/gate.ts) against the deployed model,
 * and the registry records (lambdas/commons/model-registry.ts layout) it writes. The handlers in
 * gate/ and promote/ only move these records to and from S3.
 *
 * Approximation, stated in every record: the gate compares the candidate's AUC on THIS run's
 * validation channel with the deployed model's AUC as recorded when IT was trained (on that run's
 * validation channel). The held-out split is stable by tx_id, so both are measured on held-out
 * auctions of the same kind, but not on the same rows: re-scoring the deployed model on this
 * run's validation set would need a batch transform job, which this pipeline does not run.
 */
import type { CurrentModel, GateDecision, ModelRecord } from '../commons/model-registry';
import { qualityGate } from '../ml/gate';

/** One entry of DescribeTrainingJob's FinalMetricDataList. */
export interface FinalMetric {
  MetricName: string;
  Value: number;
  Timestamp?: string;
}

/** What the state machine passes to the gate step: the run's names and the training job's results. */
export interface GateStepInput {
  /** The model version: the execution's name. */
  version: string;
  trainingJobName: string;
  /** S3 URI of model.tar.gz. */
  modelArtifacts: string;
  finalMetrics?: FinalMetric[];
  trainingSeconds?: number;
  billableSeconds?: number;
}

/** A SageMaker-trained model's record: the registry's fields, with what SageMaker does not report left null. */
export interface SageMakerModelRecord extends Omit<ModelRecord, 'trainingRows' | 'holdoutRows' | 'metrics' | 'decision'> {
  /** Row counts are not reported by Athena UNLOAD nor by the training job. */
  trainingRows: null;
  holdoutRows: null;
  metrics: { auc: number | null; logLoss: number | null; calibration: [] };
  decision: GateDecision & { currentAucSource?: 'recorded' };
  trainer: 'sagemaker-xgboost';
  sagemaker: { trainingJobName: string; modelArtifacts: string; billableSeconds: number | null; finalMetrics: FinalMetric[] };
}

/** The record of the model deployed now, as the gate reads it (either trainer's). */
export type DeployedRecord = Pick<CurrentModel, 'version'> & { metrics?: { auc?: number | null } };

export const VALIDATION_AUC = 'validation:auc';
export const VALIDATION_LOGLOSS = 'validation:logloss';

export function finalMetric(metrics: readonly FinalMetric[] | undefined, name: string): number | undefined {
  const m = metrics?.find((x) => x.MetricName === name);
  return m && Number.isFinite(m.Value) ? m.Value : undefined;
}

/** Applies the quality gate to a finished training job and builds the record to store. */
export function gateStep(input: GateStepInput, deployed: DeployedRecord | undefined, floor: number, now: Date): SageMakerModelRecord {
  const auc = finalMetric(input.finalMetrics, VALIDATION_AUC);
  const currentAuc = deployed?.metrics?.auc ?? undefined;
  const gate = qualityGate({
    candidate: { auc: auc ?? NaN },
    current: deployed ? { auc: currentAuc ?? NaN } : undefined,
    floor,
  });
  const approximation = deployed
    ? ` (current AUC as recorded for ${deployed.version} on its own validation set, not re-scored on this one)`
    : '';
  return {
    version: input.version,
    createdAt: now.toISOString(),
    trainingRows: null,
    holdoutRows: null,
    trainingSeconds: input.trainingSeconds ?? 0,
    metrics: { auc: auc ?? null, logLoss: finalMetric(input.finalMetrics, VALIDATION_LOGLOSS) ?? null, calibration: [] },
    decision: {
      deploy: gate.deploy,
      reason: gate.reason + approximation,
      currentAuc: currentAuc ?? undefined,
      floor,
      ...(deployed ? { currentAucSource: 'recorded' as const } : {}),
    },
    trainer: 'sagemaker-xgboost',
    sagemaker: {
      trainingJobName: input.trainingJobName,
      modelArtifacts: input.modelArtifacts,
      billableSeconds: input.billableSeconds ?? null,
      finalMetrics: input.finalMetrics ?? [],
    },
  };
}

/** models/current.json for a record whose endpoint is now InService. */
export function promoteStep<R extends { version: string }>(record: R, endpoint: { name: string; configName: string }, now: Date) {
  return { ...record, deployedAt: now.toISOString(), endpoint };
}

/** S3 keys of the registry (schemas/resources.ts modelRegistry). */
export const recordKey = (prefix: string, version: string) => `${prefix}${version}/record.json`;
