/** Reading the stack's deploy options (`cdk deploy -c key=value`, or cdk.json's context): a value the option cannot mean fails synth with a line naming it. */
import type { Construct } from 'constructs';

/** A boolean context value: true or false, else synth fails; `byDefault` when unset. */
export function contextFlag(scope: Construct, key: string, byDefault = false): boolean {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined) return byDefault;
  if (value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`context ${key} must be true or false, got ${JSON.stringify(value)}`);
}

export interface IntegerBounds {
  byDefault: number;
  min: number;
  max: number;
  /** What the number counts, said in the error ("hours"). */
  unit?: string;
  /** Why the bounds, said in the error. */
  why?: string;
}

/** A whole-number context value within [min, max], else synth fails; `byDefault` when unset. */
export function contextInteger(scope: Construct, key: string, { byDefault, min, max, unit, why }: IntegerBounds): number {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined) return byDefault;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`context ${key} must be a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}${why ? ` (${why})` : ''}, got ${JSON.stringify(value)}`);
  }
  return n;
}
