/** Unit tests for lambdas/ingest/event-time.ts: which time an event is counted at. */
import { resolveEventTime, toEpochMs } from '../../lambdas/ingest/event-time';

const receivedAt = Date.parse('2024-05-01T12:00:00Z');
const policy = { maxClockSkewMs: 5 * 60_000, maxEventAgeMs: 7 * 24 * 3600_000 };

describe('resolveEventTime', () => {
  it('uses received time when the client gives none', () => {
    expect(resolveEventTime(undefined, receivedAt, policy)).toBe(receivedAt);
  });

  it('uses a plausible client time given as epoch ms', () => {
    expect(resolveEventTime(receivedAt - 30_000, receivedAt, policy)).toBe(receivedAt - 30_000);
    expect(resolveEventTime(receivedAt + 1000, receivedAt, policy)).toBe(receivedAt + 1000);
  });

  it('uses a plausible client time given as ISO, whatever its offset', () => {
    expect(resolveEventTime('2024-05-01T11:58:00Z', receivedAt, policy)).toBe(receivedAt - 120_000);
    expect(resolveEventTime('2024-05-01T13:58:00+02:00', receivedAt, policy)).toBe(receivedAt - 120_000);
    expect(resolveEventTime('2024-05-01T06:58:00.500-05:00', receivedAt, policy)).toBe(receivedAt - 120_000 + 500);
  });

  it('uses received time when the client clock is too far in the future', () => {
    expect(resolveEventTime(receivedAt + policy.maxClockSkewMs + 1, receivedAt, policy)).toBe(receivedAt);
    expect(resolveEventTime('2024-05-02T12:00:00Z', receivedAt, policy)).toBe(receivedAt);
  });

  it('uses received time when the event is too old', () => {
    expect(resolveEventTime(receivedAt - policy.maxEventAgeMs - 1, receivedAt, policy)).toBe(receivedAt);
    expect(resolveEventTime('2020-01-01T00:00:00Z', receivedAt, policy)).toBe(receivedAt);
    expect(resolveEventTime(0, receivedAt, policy)).toBe(receivedAt);
  });

  it('accepts client times exactly at the bounds', () => {
    expect(resolveEventTime(receivedAt + policy.maxClockSkewMs, receivedAt, policy)).toBe(receivedAt + policy.maxClockSkewMs);
    expect(resolveEventTime(receivedAt - policy.maxEventAgeMs, receivedAt, policy)).toBe(receivedAt - policy.maxEventAgeMs);
  });

  it('uses received time for an unparseable string', () => {
    expect(resolveEventTime('not a date', receivedAt, policy)).toBe(receivedAt);
  });
});

describe('toEpochMs', () => {
  it('passes epoch ms through and parses ISO', () => {
    expect(toEpochMs(1714564800000)).toBe(1714564800000);
    expect(toEpochMs('2024-05-01T12:00:00Z')).toBe(1714564800000);
    expect(toEpochMs('2024-05-01T14:00:00+02:00')).toBe(1714564800000);
  });
});
