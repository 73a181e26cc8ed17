/** Tests for parseRollupParams (query string of GET /reports/campaigns/{id}/period) and the half-open inRange test. */
import { MAX_EPOCH_SECONDS, inRange, parseRollupParams } from '../../lambdas/reports/rollup-params';

function expectError(query: Record<string, string | undefined>, field: string): void {
  const result = parseRollupParams(query);
  expect(result).toMatchObject({ ok: false, field });
  if (!result.ok) expect(result.message).toContain(field);
}

describe('parseRollupParams defaults', () => {
  it.each([null, {}])('applies DAYS, UTC, all time, ascending to %p', (query) => {
    expect(parseRollupParams(query)).toEqual({ ok: true, params: { unit: 'DAYS', timezone: 'UTC', desc: false } });
  });

  it('ignores unknown parameters and parameters that are present but undefined', () => {
    expect(parseRollupParams({ foo: 'bar', period: undefined, limit: '-1' })).toEqual({
      ok: true,
      params: { unit: 'DAYS', timezone: 'UTC', desc: false },
    });
  });

  it('parses a full query', () => {
    const query = { period: 'HOURS', timezone: 'America/New_York', from: '1767225600', to: '1798761600', desc: 'true' };
    expect(parseRollupParams(query)).toEqual({
      ok: true,
      params: { unit: 'HOURS', timezone: 'America/New_York', from: 1767225600, to: 1798761600, desc: true },
    });
  });
});

describe('period', () => {
  it.each(['HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS'])('accepts %s', (period) => {
    expect(parseRollupParams({ period })).toMatchObject({ ok: true, params: { unit: period } });
  });

  it.each([
    ['days', 'DAYS'],
    ['Weeks', 'WEEKS'],
  ])('accepts %s case-insensitively as %s', (period, unit) => {
    expect(parseRollupParams({ period })).toMatchObject({ ok: true, params: { unit } });
  });

  it.each(['', 'DAY', 'MINUTES', 'QUARTERS', ' DAYS', '1'])('rejects %p naming period', (period) => {
    expectError({ period }, 'period');
  });

  it('lists the valid units in the message', () => {
    const result = parseRollupParams({ period: 'fortnight' });
    expect(result.ok || result.message).toContain('HOURS, DAYS, WEEKS, MONTHS, YEARS');
  });
});

describe('timezone', () => {
  it.each(['UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'America/Santiago', 'Etc/GMT+5'])('accepts %s', (timezone) => {
    expect(parseRollupParams({ timezone })).toMatchObject({ ok: true, params: { timezone } });
  });

  it('accepts a zone name in another case, as Intl does', () => {
    expect(parseRollupParams({ timezone: 'europe/berlin' })).toMatchObject({ ok: true });
  });

  it.each(['', ' UTC', 'Mars/Olympus_Mons', 'Europe/Berlinn', 'EST-ish', 'x'.repeat(500)])('rejects %p naming timezone', (timezone) => {
    expectError({ timezone }, 'timezone');
  });

  it('cuts a huge bad value short in the message', () => {
    const result = parseRollupParams({ timezone: 'x'.repeat(10_000) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message.length).toBeLessThan(200);
  });
});

describe('from and to', () => {
  it.each(['from', 'to'])('%s accepts 0, a typical instant and the largest Date instant', (field) => {
    for (const value of [0, 1767225600, MAX_EPOCH_SECONDS]) {
      expect(parseRollupParams({ [field]: String(value) })).toMatchObject({ ok: true, params: { [field]: value } });
    }
  });

  const bad = ['', 'abc', '1.5', '1767225600.0', '-1', '+5', '1e9', '0x10', ' 5', '5 ', 'NaN', 'Infinity', String(MAX_EPOCH_SECONDS + 1), '9007199254740993', '1'.repeat(40)];
  it.each(bad.flatMap((value) => [['from', value], ['to', value]]))('%s rejects %p', (field, value) => {
    expectError({ [field]: value }, field);
  });

  it('rejects from after to, naming from', () => {
    expectError({ from: '200', to: '100' }, 'from');
  });

  it('accepts from equal to to (an empty half-open range)', () => {
    expect(parseRollupParams({ from: '100', to: '100' })).toMatchObject({ ok: true, params: { from: 100, to: 100 } });
  });

  it('accepts either bound alone', () => {
    expect(parseRollupParams({ from: '100' })).toEqual({ ok: true, params: { unit: 'DAYS', timezone: 'UTC', desc: false, from: 100 } });
    expect(parseRollupParams({ to: '100' })).toEqual({ ok: true, params: { unit: 'DAYS', timezone: 'UTC', desc: false, to: 100 } });
  });
});

describe('desc', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['TRUE', true],
    ['False', false],
  ])('accepts %p as %p', (desc, value) => {
    expect(parseRollupParams({ desc })).toMatchObject({ ok: true, params: { desc: value } });
  });

  it.each(['', '1', '0', 'yes', 'no', 'desc', ' true'])('rejects %p naming desc', (desc) => {
    expectError({ desc }, 'desc');
  });
});

describe('errors', () => {
  it('reports the first bad parameter in the order period, timezone, from, to, desc', () => {
    expectError({ period: 'x', timezone: 'x', from: 'x', to: 'x', desc: 'x' }, 'period');
    expectError({ timezone: 'x', from: 'x', to: 'x', desc: 'x' }, 'timezone');
    expectError({ from: 'x', to: 'x', desc: 'x' }, 'from');
    expectError({ to: 'x', desc: 'x' }, 'to');
    expectError({ desc: 'x' }, 'desc');
  });
});

describe('inRange (half-open: from <= period < to)', () => {
  it('includes from and excludes to', () => {
    expect(inRange(100, { from: 100, to: 200 })).toBe(true);
    expect(inRange(199, { from: 100, to: 200 })).toBe(true);
    expect(inRange(200, { from: 100, to: 200 })).toBe(false);
    expect(inRange(99, { from: 100, to: 200 })).toBe(false);
  });

  it('treats a missing bound as unbounded and from == to as empty', () => {
    expect(inRange(0, {})).toBe(true);
    expect(inRange(5, { from: 5 })).toBe(true);
    expect(inRange(4, { to: 5 })).toBe(true);
    expect(inRange(5, { to: 5 })).toBe(false);
    expect(inRange(5, { from: 5, to: 5 })).toBe(false);
  });
});
