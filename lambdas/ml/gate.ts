/**
 * The quality gate between a trained model and deployment: a candidate is deployed only if its
 * held-out AUC clears the configured floor and is not worse than the current model's AUC on the
 * SAME held-out data (less an optional tolerance). Pure; the caller records the decision.
 */

export interface GateInput {
  candidate: { auc: number };
  /** The deployed model evaluated on the same held-out data; absent for the first model. */
  current?: { auc: number };
  floor: number;
  /** How much worse than current the candidate may be (default 0). */
  tolerance?: number;
}

export interface GateDecision {
  deploy: boolean;
  reason: string;
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));

export function qualityGate({ candidate, current, floor, tolerance = 0 }: GateInput): GateDecision {
  if (!Number.isFinite(candidate.auc)) return { deploy: false, reason: `candidate AUC is ${candidate.auc} (held-out data lacks a class?)` };
  if (candidate.auc < floor) return { deploy: false, reason: `candidate AUC ${f(candidate.auc)} is below the floor ${f(floor)}` };
  if (!current) return { deploy: true, reason: `first model: candidate AUC ${f(candidate.auc)} clears the floor ${f(floor)}` };
  if (!Number.isFinite(current.auc)) return { deploy: true, reason: `current model has no usable AUC (${current.auc}); candidate AUC ${f(candidate.auc)} clears the floor ${f(floor)}` };
  const needed = current.auc - tolerance;
  if (candidate.auc < needed) {
    return { deploy: false, reason: `candidate AUC ${f(candidate.auc)} is worse than current ${f(current.auc)}${tolerance ? ` − tolerance ${f(tolerance)}` : ''} on the same held-out data` };
  }
  return { deploy: true, reason: `candidate AUC ${f(candidate.auc)} ≥ current ${f(current.auc)}${tolerance ? ` − tolerance ${f(tolerance)}` : ''} and clears the floor ${f(floor)}` };
}
