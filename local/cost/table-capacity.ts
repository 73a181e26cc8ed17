/**
 * The capacity a provisioned DynamoDB table holds at a steady traffic, read from its template:
 * with a target tracking policy, the units it consumes per second divided by the target
 * utilization, rounded up to whole units and kept within the scaling range (at idle, the minimum);
 * without auto scaling, the capacity the template gives it. Pure: no I/O.
 *
 * Application Auto Scaling "ensures that the table's ratio of consumed to provisioned capacity
 * stays at or near the target value"; the DynamoDB developer guide: "Auto scaling triggers when
 * your consumed capacity breaches the configured target utilization for two consecutive minutes.
 * CloudWatch alarms might have a short delay of up to a few minutes before triggering auto
 * scaling." So this is the capacity of steady traffic: a rise is throttled until auto scaling
 * catches up, a fall is paid for a while (it scales in after "15 consecutive minutes" 20 % below
 * the target, AWS re:Post, "How do I resolve issues with DynamoDB auto scaling?").
 */
import type { TableResource, TableScaling } from './inventory';

/**
 * CloudWatch alarms Application Auto Scaling keeps for each DynamoDB target tracking policy, billed
 * as any alarm: "Application Auto Scaling creates and manages the CloudWatch alarms that trigger
 * scaling events" (DynamoDB developer guide); on a table they are four per scaled dimension,
 * TargetTracking-table/<name>-AlarmHigh, -AlarmLow, -ProvisionedCapacityHigh and
 * -ProvisionedCapacityLow (as listed in deployed accounts' exports), each on one metric.
 */
export const ALARMS_PER_TABLE_POLICY = 4;

export interface DimensionCapacity {
  /** Capacity units held at this traffic. */
  units: number;
  /** How they were found, for the bill's line. */
  how: string;
  /** Set when the traffic needs more than the table can hold. */
  shortfall?: string;
}

/** The capacity of one dimension (reads or writes) of a provisioned table at `unitsPerSecond` consumed. */
export function dimensionCapacity(fixed: number, scaling: TableScaling | undefined, unitsPerSecond: number, unit: 'read' | 'write'): DimensionCapacity {
  const consumed = `${formatRate(unitsPerSecond)} ${unit} units/s`;
  if (!scaling || scaling.targetPercent === undefined) {
    const units = scaling ? Math.min(Math.max(fixed, scaling.min), scaling.max) : fixed;
    return {
      units,
      how: `fixed: ${consumed} used`,
      shortfall: unitsPerSecond > units ? `${consumed} exceed its ${units} provisioned ${unit} units (no auto scaling policy): requests beyond are throttled` : undefined,
    };
  }
  const needed = Math.ceil(unitsPerSecond / (scaling.targetPercent / 100) - 1e-9);
  const units = Math.min(Math.max(needed, scaling.min), scaling.max);
  return {
    units,
    how: `auto scaling: ${consumed} at ${scaling.targetPercent} % target, ${scaling.min} to ${scaling.max}`,
    shortfall: needed > scaling.max ? `${consumed} need ${needed} ${unit} units at ${scaling.targetPercent} % utilization, its auto scaling maximum is ${scaling.max}: requests beyond are throttled and its stream consumers fall behind (raise -c sdp:maxTableCapacity)` : undefined,
  };
}

/** Read and write capacity of a provisioned table at the given units per second; undefined for an on-demand table. */
export function tableCapacityAt(t: TableResource, writeUnitsPerSecond: number, readUnitsPerSecond: number): { read: DimensionCapacity; write: DimensionCapacity } | undefined {
  if (t.onDemand || !t.provisioned) return undefined;
  return {
    read: dimensionCapacity(t.provisioned.rcu, t.scaling?.read, readUnitsPerSecond, 'read'),
    write: dimensionCapacity(t.provisioned.wcu, t.scaling?.write, writeUnitsPerSecond, 'write'),
  };
}

/** Target tracking policies on the tables (each keeps ALARMS_PER_TABLE_POLICY alarms). */
export function tableScalingPolicies(tables: readonly TableResource[]): number {
  return tables.reduce((n, t) => n + [t.scaling?.read, t.scaling?.write].filter((s) => s?.targetPercent !== undefined).length, 0);
}

function formatRate(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}
