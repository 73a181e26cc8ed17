/** The aggregations the aggregator runs: those of the active pipeline (schemas/active-pipeline.ts), by name, and their periods. */
import { activePipeline } from '../../schemas/active-pipeline';
import { aggregationOf, type AggregationSpec } from '../../schemas/pipeline';
import { readSetting, settings } from '../../schemas/resources';

/** The active pipeline's aggregation of a name; throws naming the declared ones (a row or state of a pipeline no longer run). */
export function aggregationNamed(name: string): AggregationSpec {
  return aggregationOf(activePipeline(), name);
}

/**
 * AGGREGATION_PERIOD_SECONDS when the environment sets it: it then overrides the period every
 * aggregation declares (`sdp local --aggregation-period`, tests, the stack's AggregationPeriod
 * parameter); undefined otherwise, so each aggregation keeps its own (plan.ts periodOf).
 */
export function periodSetting(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[settings.aggregationPeriodSeconds.env];
  return raw === undefined || raw === '' ? undefined : readSetting('aggregationPeriodSeconds', env);
}
