/** A scheduled handler whose thread ends without an answer (for test/unit/scheduler.test.ts). */
export async function handler(): Promise<never> {
  process.exit(3);
}
