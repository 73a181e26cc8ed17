/**
 * GET /health on the local platform: 200 when the emulators answer and every stream consumer is
 * making progress, 503 naming what is not and why; each consumer's shards show their checkpoint
 * and lag, and each scheduled job its last run. It always answers within HEALTH_DEADLINE_MS:
 * every probe runs at once with a deadline of its own, and a part that does not answer in time is
 * reported "not answering", never waited on.
 */
import { request } from 'node:http';
import type { Route } from './api-server';
import type { Emulator } from './emulators';
import type { ConsumerState, ConsumerStatus } from './consumer-worker';
import type { JobRun } from './jobs';
import { withDeadline } from './threads';

/** The whole report's deadline (the promise is 2 s; the margin is for a loaded machine). */
export const HEALTH_DEADLINE_MS = 1500;
/** Failures in a row (reads of a shard, invocations on its records) after which a consumer is unhealthy. */
export const FAILURES_UNHEALTHY = 3;
/** Batches dead-lettered in a row, with none processed between, after which a consumer is unhealthy. */
export const DEAD_LETTERED_UNHEALTHY = 2;
/** How long a shard with records past its position may go without progress before it counts as stalled. */
export const STALL_MS = 60_000;

export interface HealthSources {
  emulators: Emulator[];
  consumers: () => Promise<Record<string, ConsumerState>>;
  /** The recorded runs of each scheduled job, oldest first. */
  jobs: () => Record<string, readonly JobRun[]>;
}

function reachable(endpoint: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(endpoint, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Why a consumer cannot make progress, naming the shard, or undefined while it can: its reads keep
 * failing, its batches keep failing, it dead-letters batch after batch, or its position does not
 * advance while the shard has records past it.
 */
export function consumerProblem(consumer: ConsumerStatus, now: number): string | undefined {
  if (consumer.shards.length === 0) return 'not polling: it reads no shard';
  for (const s of consumer.shards) {
    if (s.waitingFor) continue;
    const error = s.lastError ? `: ${s.lastError.split('\n')[0]}` : '';
    if ((s.pollFailures ?? 0) >= FAILURES_UNHEALTHY) return `reading ${s.shardId} failed ${s.pollFailures} times in a row${error}`;
    if ((s.checkpointFailures ?? 0) >= FAILURES_UNHEALTHY) return `checkpointing ${s.shardId} failed ${s.checkpointFailures} times in a row${error}`;
    if ((s.failedInvocations ?? 0) >= FAILURES_UNHEALTHY) return `its batch on ${s.shardId} failed ${s.failedInvocations} times in a row${error}`;
    if ((s.deadLetteredInARow ?? 0) >= DEAD_LETTERED_UNHEALTHY) return `it dead-lettered ${s.deadLetteredInARow} batches of ${s.shardId} in a row, processing none${error}`;
    const behind = (s.millisBehindLatest ?? 0) > 0 || s.pending > 0 || s.millisBehindLatest === undefined;
    if (behind && s.lastProgressAt !== undefined && now - s.lastProgressAt > STALL_MS) {
      return `stalled: ${s.shardId} has records past its position and made no progress for ${Math.round((now - s.lastProgressAt) / 1000)} s`;
    }
  }
  return undefined;
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  components: Record<string, unknown>;
}

/** What a consumer's component says: its progress or why it has none. */
function consumerComponent(consumer: ConsumerState, now: number): { healthy: boolean; component: Record<string, unknown> } {
  if ('down' in consumer) return { healthy: false, component: { status: 'down', reason: consumer.down } };
  const problem = consumerProblem(consumer, now);
  const retrying = consumer.shards.some((s) => s.retrying);
  return {
    healthy: problem === undefined,
    component: {
      status: problem ? 'unhealthy' : retrying ? 'retrying' : 'ok',
      ...(problem && { reason: problem }),
      deadLettered: consumer.deadLettered,
      shards: consumer.shards,
    },
  };
}

/**
 * Every component's state; unhealthy when an emulator does not answer, or a consumer is down (its
 * thread dead or not answering) or cannot make progress. Answers within HEALTH_DEADLINE_MS.
 */
export async function healthReport(sources: HealthSources, deadlineMs = HEALTH_DEADLINE_MS): Promise<HealthReport> {
  const components: Record<string, unknown> = { api: { status: 'ok' } };
  let healthy = true;
  // Keys in a stable order, whichever probe answers first.
  for (const emulator of sources.emulators) components[emulator.kind] = undefined;
  const emulators = sources.emulators.map(async (emulator) => {
    const ok = !emulator.ended && (await reachable(emulator.endpoint, deadlineMs));
    healthy &&= ok;
    components[emulator.kind] = {
      status: emulator.ended ? 'down' : ok ? 'ok' : 'not answering',
      ...(emulator.ended && { reason: `the thread ${emulator.ended}` }),
      endpoint: emulator.endpoint,
    };
  });
  const consumers = withDeadline(sources.consumers(), deadlineMs, 'the stream consumers').then(
    (states) => {
      const now = Date.now();
      for (const [name, state] of Object.entries(states)) {
        const { healthy: ok, component } = consumerComponent(state, now);
        healthy &&= ok;
        components[name] = component;
      }
    },
    (err: Error) => {
      healthy = false;
      components.consumers = { status: 'not answering', reason: err.message };
    },
  );
  await Promise.all([...emulators, consumers]);
  for (const [job, runs] of Object.entries(sources.jobs())) {
    components[`job:${job}`] = jobComponent(runs);
  }
  return { status: healthy ? 'ok' : 'unhealthy', components };
}

/**
 * A scheduled job's health: its last run and, when one failed, the last failure's time and error
 * (`reason` too when the last run is the failure). A failed run is reported, not unhealthy: the next
 * run finishes its work.
 */
export function jobComponent(runs: readonly JobRun[]): Record<string, unknown> {
  const last = runs.at(-1);
  const failure = runs.findLast((r) => r.outcome === 'failed');
  const lastFailure = failure && { at: failure.ended_at, error: failure.error ?? 'no error recorded' };
  return {
    status: !last ? 'not run yet' : last.outcome === 'succeeded' ? 'ok' : 'last run failed',
    ...(last?.outcome === 'failed' && { reason: `last run failed at ${last.ended_at}: ${lastFailure!.error}` }),
    lastRun: last,
    ...(lastFailure && { lastFailure }),
  };
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
