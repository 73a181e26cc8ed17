/**
 * Worker threads run at their priority's niceness: the emulators as the process, the aggregator
 * below them, the lake writer and scheduled jobs lowest, so under a burst the cores go to the API
 * first and the reports second.
 */
import { existsSync } from 'node:fs';
import { getPriority } from 'node:os';
import { NICENESS, startThread, type ThreadPriority } from '../../local/threads';

const nicenessOf = (priority: ThreadPriority) =>
  new Promise<number>((resolve, reject) => {
    const worker = startThread('../test/support/thread-niceness-probe.ts', {}, { priority });
    worker.once('message', (niceness: number) => {
      resolve(niceness);
      void worker.terminate();
    });
    worker.once('error', reject);
  });

const linux = existsSync('/proc/thread-self');

(linux ? describe : describe.skip)('worker thread priority', () => {
  it("lowers each thread to its priority's niceness, and leaves serving threads as the process is", async () => {
    const own = getPriority(); // the tests may themselves run under nice
    const [serving, aggregating, background] = await Promise.all([nicenessOf('serving'), nicenessOf('aggregating'), nicenessOf('background')]);
    expect(serving).toBe(own);
    expect(aggregating).toBe(Math.max(NICENESS.aggregating, own));
    expect(background).toBe(Math.max(NICENESS.background, own));
    expect(NICENESS.serving < NICENESS.aggregating && NICENESS.aggregating < NICENESS.background).toBe(true);
  });
});
