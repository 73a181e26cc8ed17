/** Unit tests for lambdas/aggregator/window.ts: epoch-aligned tumbling windows. */
import { windowStart } from '../../lambdas/aggregator/window';

describe('windowStart', () => {
  const boundary = Date.parse('2024-05-01T12:00:00Z'); // a multiple of 60 s, 300 s and 3600 s

  it('aligns windows to the epoch', () => {
    expect(windowStart(Date.parse('2024-05-01T12:00:37.250Z'), 60)).toBe(boundary / 1000);
    expect(windowStart(Date.parse('2024-05-01T12:04:59.999Z'), 300)).toBe(boundary / 1000);
    expect(windowStart(Date.parse('2024-05-01T12:59:00Z'), 3600)).toBe(boundary / 1000);
    expect(windowStart(Date.parse('2024-05-01T12:01:30Z'), 60)).toBe(boundary / 1000 + 60);
  });

  it('puts an instant exactly on a boundary in the window it starts', () => {
    expect(windowStart(boundary, 60)).toBe(boundary / 1000);
  });

  it('puts 1 ms before a boundary in the previous window and 1 ms after in the same', () => {
    expect(windowStart(boundary - 1, 60)).toBe(boundary / 1000 - 60);
    expect(windowStart(boundary + 1, 60)).toBe(boundary / 1000);
    expect(windowStart(boundary + 60_000 - 1, 60)).toBe(boundary / 1000);
    expect(windowStart(boundary + 60_000, 60)).toBe(boundary / 1000 + 60);
  });

  it.each([1, 10, 60, 300, 900, 3600, 86400])('for a period of %i s, every instant lies in [start, start + period)', (period) => {
    for (const t of [boundary - 1, boundary, boundary + 1, boundary + 12_345_678, 1, 0, 999, 1000, -1, -1000, -1001, -123_456_789]) {
      const start = windowStart(t, period);
      expect(Number.isInteger(start)).toBe(true);
      expect(((start % period) + period) % period).toBe(0);
      expect(start * 1000).toBeLessThanOrEqual(t);
      expect(t).toBeLessThan((start + period) * 1000);
    }
  });

  it('is negative-safe (instants before 1970 use the same grid)', () => {
    expect(windowStart(-1, 60)).toBe(-60);
    expect(windowStart(-60_000, 60)).toBe(-60);
    expect(windowStart(-60_001, 60)).toBe(-120);
    expect(windowStart(0, 60)).toBe(0);
  });

  it('windows of different periods nest', () => {
    const t = Date.parse('2024-05-01T12:34:56.789Z');
    expect(windowStart(t, 60)).toBe(Date.parse('2024-05-01T12:34:00Z') / 1000);
    expect(windowStart(t, 300)).toBe(Date.parse('2024-05-01T12:30:00Z') / 1000);
    expect(windowStart(t, 3600)).toBe(Date.parse('2024-05-01T12:00:00Z') / 1000);
    expect(windowStart(t, 86400)).toBe(Date.parse('2024-05-01T00:00:00Z') / 1000);
  });
});
