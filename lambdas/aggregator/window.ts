/** Tumbling event-time windows: epoch-aligned, so every process puts an instant in the same window. */

/** Start (epoch seconds) of the window of `periodSeconds` that holds `eventTimeMs`. */
export function windowStart(eventTimeMs: number, periodSeconds: number): number {
  const seconds = Math.floor(eventTimeMs / 1000);
  return seconds - (((seconds % periodSeconds) + periodSeconds) % periodSeconds);
}
