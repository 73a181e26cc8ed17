/**
 * Capacity from a ramp of load steps (more virtual users each step): the best accepted request
 * rate of the healthy steps, stopping at the first step that is not healthy (p99 over the bound,
 * errors, backpressure) or once more than `patience` steps in a row did not grow by at least
 * `minGrowth` over the best so far.
 * Pure, so the bench can stop its ramp as soon as the verdict is final.
 */
import type { IntervalSummary } from './intervals';

export interface RampStep extends IntervalSummary {
  users: number;
}

export interface CapacityRule {
  /** A step whose p99 exceeds this is past capacity. */
  p99BoundMs: number;
  /** A step must beat the best rate so far by this share (0.05 = 5 %) to count as growth. */
  minGrowth: number;
  /**
   * Steps without growth tolerated before the ramp ends (default 1): on a shared machine one step
   * can be slowed by someone else's work, so a flat step is confirmed by the next one.
   */
  patience?: number;
}

export interface CapacityVerdict {
  /** True once a step ended the ramp (the verdict will not change with more steps). */
  final: boolean;
  /** Index of the step whose rate is the capacity; -1 when no step was healthy. */
  best: number;
  /** Accepted requests/s of that step (NaN when none). */
  requestsPerSecond: number;
  /** Why the ramp ended (or 'still growing'). */
  reason: string;
}

/** Why a step is not healthy, or undefined when it is. */
function unhealthy(step: RampStep, rule: CapacityRule): string | undefined {
  if (step.errors > 0) return `${step.errors} errors at ${step.users} users`;
  if (step.clientErrors > 0) return `${step.clientErrors} 4xx answers at ${step.users} users`;
  if (step.rejected > 0) return `${step.rejected} requests rejected (429/503) at ${step.users} users`;
  if (!(step.p99 <= rule.p99BoundMs)) return `p99 ${Math.round(step.p99)} ms > ${rule.p99BoundMs} ms at ${step.users} users`;
  return undefined;
}

export function capacityOf(steps: readonly RampStep[], rule: CapacityRule): CapacityVerdict {
  const patience = rule.patience ?? 1;
  let best = -1;
  let flat = 0;
  const verdict = (final: boolean, reason: string): CapacityVerdict => ({ final, best, requestsPerSecond: best >= 0 ? steps[best].acceptedPerSecond : Number.NaN, reason });
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const bad = unhealthy(step, rule);
    if (bad) return verdict(true, bad);
    const grew = best < 0 || step.acceptedPerSecond >= steps[best].acceptedPerSecond * (1 + rule.minGrowth);
    flat = grew ? 0 : flat + 1;
    const previousBest = best;
    if (best < 0 || step.acceptedPerSecond > steps[best].acceptedPerSecond) best = i;
    if (flat > patience) {
      const ref = steps[previousBest];
      return verdict(true, `throughput stopped growing: ${flat} steps up to ${step.users} users without ${Math.round(rule.minGrowth * 100)} % over ${Math.round(ref.acceptedPerSecond)} req/s (${ref.users} users)`);
    }
  }
  return verdict(false, flat > 0 ? 'not growing, confirming' : 'still growing');
}
