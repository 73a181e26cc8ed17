/**
 * Runs one invocation of a scheduled Lambda handler in a worker thread, as EventBridge would
 * invoke it, so a long job never holds up the API or the stream consumers. The environment is
 * the platform's, inherited from the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';

const { handlerModule } = workerData as { handlerModule: string };

async function invoke(): Promise<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(handlerModule) as { handler: (event: unknown) => Promise<unknown> };
  return handler({ 'detail-type': 'Scheduled Event', source: 'sdp.local-scheduler', time: new Date().toISOString(), detail: {} });
}

invoke().then(
  (result) => parentPort!.postMessage({ ok: true, result }),
  (err: Error) => parentPort!.postMessage({ ok: false, error: err.message }),
);
