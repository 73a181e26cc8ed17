/**
 * Moved: the shipped pipeline's event schemas live with it, in pipelines/adtech/events.ts. This
 * path re-exports them only for the importers not yet moved (perf/ benches, some e2e tests); new
 * code imports pipelines/adtech/events directly. Remove once nothing imports it.
 */
export * from '../pipelines/adtech/events';
