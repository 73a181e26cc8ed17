/**
 * Background threads (the lake writer, scheduled jobs) run at a lower priority than the threads
 * that answer the API and keep reports fresh, so under a burst the cores go to the latter.
 */
import { existsSync } from 'node:fs';
import { getPriority } from 'node:os';
import { BACKGROUND_NICENESS, startThread } from '../../local/threads';

const nicenessOf = (background: boolean) =>
  new Promise<number>((resolve, reject) => {
    const worker = startThread('../test/support/thread-niceness-probe.ts', {}, { background });
    worker.once('message', (niceness: number) => {
      resolve(niceness);
      void worker.terminate();
    });
    worker.once('error', reject);
  });

const linux = existsSync('/proc/thread-self');

(linux ? describe : describe.skip)('worker thread priority', () => {
  it('lowers a background thread to the background niceness, and leaves the others as the process is', async () => {
    const own = getPriority(); // the tests may themselves run under nice
    const [background, foreground] = await Promise.all([nicenessOf(true), nicenessOf(false)]);
    expect(background).toBe(Math.max(BACKGROUND_NICENESS, own));
    expect(foreground).toBe(own);
  });
});
