/**
 * Moved: the shipped pipeline's traffic generator lives with it, in pipelines/adtech/workload.ts.
 * This path re-exports it only for the importers not yet moved (perf/ benches, some e2e tests);
 * new code imports pipelines/adtech/workload directly. Remove once nothing imports it.
 */
export * from '../pipelines/adtech/workload';
