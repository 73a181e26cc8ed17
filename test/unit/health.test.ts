/**
 * The local platform's health verdict (local/health.ts): a consumer that cannot make progress is
 * unhealthy with a reason naming the shard; the report answers within its deadline whatever a
 * part does, naming a part that does not answer; a job's component says why its last failure failed.
 */
import { consumerProblem, DEAD_LETTERED_UNHEALTHY, FAILURES_UNHEALTHY, healthReport, jobComponent, STALL_MS } from '../../local/health';
import type { JobRun } from '../../local/jobs';
import type { ShardStatus } from '../../local/stream-poller';

const NOW = 1_000_000_000;
const shard = (s: Partial<ShardStatus> = {}): ShardStatus => ({ shardId: 'shardId-000000000000', retrying: false, pending: 0, millisBehindLatest: 0, lastProgressAt: NOW, ...s });
const consumer = (...shards: ShardStatus[]) => ({ shards, deadLettered: 0, invocations: 0 });

describe('consumerProblem', () => {
  test('a consumer reading its shards to their tips is fine, and so is one with a few failures', () => {
    expect(consumerProblem(consumer(shard()), NOW)).toBeUndefined();
    expect(consumerProblem(consumer(shard({ pollFailures: FAILURES_UNHEALTHY - 1, failedInvocations: FAILURES_UNHEALTHY - 1, deadLetteredInARow: DEAD_LETTERED_UNHEALTHY - 1 })), NOW)).toBeUndefined();
  });
  test('no shard read', () => expect(consumerProblem(consumer(), NOW)).toMatch(/not polling/));
  test('reads failing in a row', () => {
    expect(consumerProblem(consumer(shard({ pollFailures: FAILURES_UNHEALTHY, lastError: 'InvalidArgumentException: bad\nstack' })), NOW)).toBe(
      `reading shardId-000000000000 failed ${FAILURES_UNHEALTHY} times in a row: InvalidArgumentException: bad`,
    );
  });
  test('checkpoints failing in a row', () => {
    expect(consumerProblem(consumer(shard({ checkpointFailures: 3, lastError: 'ENOSPC' })), NOW)).toBe('checkpointing shardId-000000000000 failed 3 times in a row: ENOSPC');
  });
  test('a batch failing in a row', () => {
    expect(consumerProblem(consumer(shard({ failedInvocations: 5, lastError: 'boom' })), NOW)).toBe('its batch on shardId-000000000000 failed 5 times in a row: boom');
  });
  test('records skipped: batch after batch dead-lettered', () => {
    expect(consumerProblem(consumer(shard({ deadLetteredInARow: DEAD_LETTERED_UNHEALTHY })), NOW)).toMatch(/dead-lettered 2 batches of shardId-000000000000 in a row/);
  });
  test('a position not advancing while the shard has records past it is stalled; an idle shard is not', () => {
    const old = NOW - STALL_MS - 1000;
    expect(consumerProblem(consumer(shard({ millisBehindLatest: 5000, lastProgressAt: old })), NOW)).toMatch(/stalled: shardId-000000000000 has records past its position and made no progress for 61 s/);
    expect(consumerProblem(consumer(shard({ millisBehindLatest: undefined, lastProgressAt: old })), NOW)).toMatch(/stalled/);
    expect(consumerProblem(consumer(shard({ lastProgressAt: old })), NOW)).toBeUndefined();
  });
  test('shards waiting for their parents are not judged', () => {
    expect(consumerProblem(consumer(shard(), shard({ shardId: 'child', waitingFor: ['p'], pollFailures: 9 })), NOW)).toBeUndefined();
  });
});

describe('healthReport', () => {
  test('answers within its deadline when a part never does, naming it', async () => {
    const started = Date.now();
    const report = await healthReport({ emulators: [], consumers: () => new Promise(() => undefined), jobs: () => ({}) }, 300);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(report.status).toBe('unhealthy');
    expect(report.components.consumers).toEqual({ status: 'not answering', reason: 'the stream consumers did not answer within 300 ms' });
  });
  test('a consumer that is down is unhealthy with its reason', async () => {
    const report = await healthReport({ emulators: [], consumers: async () => ({ aggregator: { down: 'dead: threw boom' } }), jobs: () => ({}) });
    expect(report).toEqual({ status: 'unhealthy', components: { api: { status: 'ok' }, aggregator: { status: 'down', reason: 'dead: threw boom' } } });
  });
  test('a failing consumer is unhealthy with its reason', async () => {
    const report = await healthReport({ emulators: [], consumers: async () => ({ aggregator: consumer(shard({ failedInvocations: 3, lastError: 'boom' })) }), jobs: () => ({}) });
    expect(report.status).toBe('unhealthy');
    expect(report.components.aggregator).toMatchObject({ status: 'unhealthy', reason: 'its batch on shardId-000000000000 failed 3 times in a row: boom' });
  });
});

describe('jobComponent', () => {
  const run = (outcome: JobRun['outcome'], ended_at: string, error?: string): JobRun => ({ job: 'training', started_at: ended_at, ended_at, trigger: 'scheduler', outcome, ...(error && { error }) });
  test('never run', () => expect(jobComponent([])).toEqual({ status: 'not run yet', lastRun: undefined }));
  test('a last run that failed gives the reason: when and the error', () => {
    const failed = run('failed', '2026-12-05T07:00:00.000Z', 'not enough auctions to train on: 0 with a known outcome in the lake');
    expect(jobComponent([run('succeeded', '2026-12-05T06:00:00.000Z'), failed])).toEqual({
      status: 'last run failed',
      reason: 'last run failed at 2026-12-05T07:00:00.000Z: not enough auctions to train on: 0 with a known outcome in the lake',
      lastRun: failed,
      lastFailure: { at: '2026-12-05T07:00:00.000Z', error: 'not enough auctions to train on: 0 with a known outcome in the lake' },
    });
  });
  test('a success after a failure is ok and still names the last failure', () => {
    const ok = run('succeeded', '2026-12-05T08:00:00.000Z');
    expect(jobComponent([run('failed', '2026-12-05T07:00:00.000Z', 'boom'), ok])).toEqual({ status: 'ok', lastRun: ok, lastFailure: { at: '2026-12-05T07:00:00.000Z', error: 'boom' } });
  });
});
