/** A scheduled handler that never finishes (for test/unit/scheduler.test.ts). */
export function handler(): Promise<never> {
  return new Promise(() => setInterval(() => undefined, 1000));
}
