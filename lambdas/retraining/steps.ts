/**
 * The retraining state machine's own logic (lib/retraining.ts), pure: reading a SageMaker training
 * job's final validation metrics, the quality gate (lambdas/ml/gate.ts) against the deployed model,
 * and the registry records (lambdas/commons/model-registry.ts layout) it writes. The handlers in
 * gate/ and promote/ only move these records to and from S3.
 *
 * The gate compares the candidate's AUC on THIS run's validation channel with the deployed model's
 * AUC on the same validation set, re-scored through its endpoint by the gate handler (rescore.ts,
 * on a deterministic sample of at most MAX_RESCORE_ROWS rows). Only when the endpoint cannot be
 * re-scored does it fall back to the deployed model's AUC as recorded when IT was trained (on
 * that run's validation channel), and the record and its reason say so.
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
  /** S3 URI of this run's validation channel (`s3://<training sets>/training/<execution>/validation/`). */
  validationUri?: string;
  trainingSeconds?: number;
  billableSeconds?: number;
}

/** A SageMaker-trained model's record: the registry's fields, with what SageMaker does not report left null. */
export interface SageMakerModelRecord extends Omit<ModelRecord, 'trainingRows' | 'holdoutRows' | 'metrics' | 'decision'> {
  /** Row counts are not reported by Athena UNLOAD nor by the training job. */
  trainingRows: null;
  holdoutRows: null;
  metrics: { auc: number | null; logLoss: number | null; calibration: [] };
  decision: GateDecision & {
    /** Where `currentAuc` comes from: the deployed model re-scored on this run's validation set, or its record. */
    currentAucSource?: 'rescored' | 'recorded';
    /** Rows of this run's validation set the deployed model was re-scored on. */
    currentAucRows?: number;
    /** Whether those rows are a sample (the first MAX_RESCORE_ROWS) of a larger validation set. */
    currentAucSampled?: boolean;
    /** The deployed model's AUC as recorded when it was trained, for reference. */
    recordedCurrentAuc?: number;
  };
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

/** How the deployed model did on this run's validation set: re-scored, or why it could not be. */
export type CurrentScore = { auc: number; rows: number; sampled?: boolean } | { error: string };

/**
 * Applies the quality gate to a finished training job and builds the record to store. `current`
 * is the deployed model re-scored on this run's validation set (rescore.ts); without it, or when
 * re-scoring failed or gave no usable AUC, the gate falls back to the deployed model's recorded AUC.
 */
export function gateStep(input: GateStepInput, deployed: DeployedRecord | undefined, floor: number, now: Date, current?: CurrentScore): SageMakerModelRecord {
  const auc = finalMetric(input.finalMetrics, VALIDATION_AUC);
  const recordedAuc = deployed?.metrics?.auc ?? undefined;
  const rescored = deployed && current && 'auc' in current && Number.isFinite(current.auc) ? current : undefined;
  const currentAuc = rescored ? rescored.auc : recordedAuc;
  const gate = qualityGate({
    candidate: { auc: auc ?? NaN },
    current: deployed ? { auc: currentAuc ?? NaN } : undefined,
    floor,
  });
  let note = '';
  if (deployed && rescored) {
    note = ` (current ${deployed.version} re-scored through its endpoint on ${rescored.rows} rows of this run's validation set${rescored.sampled ? ', the first of a larger set' : ''})`;
  } else if (deployed) {
    const why = current && 'error' in current
      ? `the endpoint could not be re-scored: ${current.error}`
      : current
        ? `re-scoring gave no usable AUC (${(current as { auc: number }).auc})`
        : 'not re-scored';
    note = ` (current AUC as recorded for ${deployed.version} on its own validation set, not re-scored on this one: ${why})`;
  }
  return {
    version: input.version,
    createdAt: now.toISOString(),
    trainingRows: null,
    holdoutRows: null,
    trainingSeconds: input.trainingSeconds ?? 0,
    metrics: { auc: auc ?? null, logLoss: finalMetric(input.finalMetrics, VALIDATION_LOGLOSS) ?? null, calibration: [] },
    decision: {
      deploy: gate.deploy,
      reason: gate.reason + note,
      currentAuc: currentAuc ?? undefined,
      floor,
      ...(deployed && rescored
        ? { currentAucSource: 'rescored' as const, currentAucRows: rescored.rows, currentAucSampled: rescored.sampled ?? false, recordedCurrentAuc: recordedAuc }
        : deployed
          ? { currentAucSource: 'recorded' as const }
          : {}),
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
