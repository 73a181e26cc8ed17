/**
 * GET /health on the local platform: 200 when the emulators answer and every stream consumer is
 * polling, 503 naming what is not; each consumer's shards show their checkpoint and lag, and each
 * scheduled job its last run.
 */
import { request } from 'node:http';
import type { Route } from './api-server';
import type { Emulator } from './emulators';
import type { ConsumerStatus } from './consumer-worker';
import type { JobRun } from './jobs';

export interface HealthSources {
  emulators: Emulator[];
  consumers: () => Promise<Record<string, ConsumerStatus>>;
  /** The last recorded run of each scheduled job. */
  jobs: () => Record<string, JobRun | undefined>;
}

function reachable(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(endpoint, { method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  components: Record<string, unknown>;
}

/** Every component's state; unhealthy when an emulator does not answer or a consumer is not polling. */
export async function healthReport(sources: HealthSources): Promise<HealthReport> {
  const components: Record<string, unknown> = { api: { status: 'ok' } };
  let healthy = true;
  for (const emulator of sources.emulators) {
    const ok = await reachable(emulator.endpoint);
    healthy &&= ok;
    components[emulator.kind] = { status: ok ? 'ok' : 'unreachable', endpoint: emulator.endpoint };
  }
  for (const [name, consumer] of Object.entries(await sources.consumers())) {
    const { shards } = consumer;
    const retrying = shards.some((s) => s.retrying);
    components[name] = {
      status: shards.length === 0 ? 'not polling' : retrying ? 'retrying' : 'ok',
      deadLettered: consumer.deadLettered,
      shards,
    };
    healthy &&= shards.length > 0;
  }
  for (const [job, last] of Object.entries(sources.jobs())) {
    // A failed run is reported, not unhealthy: the next run finishes its work.
    components[`job:${job}`] = { status: !last ? 'not run yet' : last.outcome === 'succeeded' ? 'ok' : 'last run failed', lastRun: last };
  }
  return { status: healthy ? 'ok' : 'unhealthy', components };
}

export function healthRoute(sources: HealthSources): Route {
  return {
    method: 'GET',
    resource: '/health',
    handler: async () => {
      const report = await healthReport(sources);
      return {
        statusCode: report.status === 'ok' ? 200 : 503,
        // Readable by the console when it is served from another origin (a static site).
        headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' },
        body: JSON.stringify(report),
      };
    },
  };
}
