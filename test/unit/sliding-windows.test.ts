/** Sliding windows computed on read from tumbling rows (lambdas/reports/sliding.ts) and measures combining (measures.ts). */
import { aggregationOf } from '../../schemas/pipeline';
import telemetry from '../../pipelines/telemetry';
import { combine, combineRows, ratio } from '../../lambdas/reports/measures';
import { parseSlidingParams, readRange, slidingWindows, windowStarts, MAX_WINDOWS } from '../../lambdas/reports/sliding';

const devices = aggregationOf(telemetry, 'devices');
const row = (period: number, readings: number, total: number, minimum: number, maximum: number) => ({ period, readings, total, minimum, maximum, late_events: 0 });

describe('combining measures', () => {
  it('adds counts and sums, takes min and max, and skips absent minima', () => {
    expect(combine('count', 2, undefined)).toBe(2);
    expect(combine('min', undefined, 3)).toBe(3);
    expect(combine('max', 3, 7)).toBe(7);
    expect(combineRows(devices, [row(0, 1, 5, 5, 5), { period: 60, readings: 0, total: 0, late_events: 2 }, row(120, 2, -1, -3, 2)])).toEqual({ readings: 3, total: 4, minimum: -3, maximum: 5, late_events: 2 });
    expect(combineRows(devices, [])).toEqual({ readings: 0, total: 0, minimum: null, maximum: null, late_events: 0 });
  });
  it('gives a null ratio over zero', () => {
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(1, 3)).toBe(0.333333);
  });
});

describe('sliding windows', () => {
  const rows = [row(600, 1, 1, 1, 1), row(660, 2, 4, 1, 3), row(840, 1, 9, 9, 9)];

  it('with window = step = period, gives back the tumbling rows (and the empty minutes between)', () => {
    const params = { window: 60, step: 60 };
    const plan = windowStarts(params, {}, { first: 600, last: 840 });
    if (!('starts' in plan)) throw new Error('too many');
    expect(plan.starts).toEqual([600, 660, 720, 780, 840]);
    expect(slidingWindows(devices, rows, plan.starts, 60).map((w) => w.readings)).toEqual([1, 2, 0, 0, 1]);
  });

  it('counts each row in window/step windows, aligned on multiples of the step', () => {
    const params = { window: 180, step: 60 };
    const plan = windowStarts(params, {}, { first: 600, last: 840 });
    if (!('starts' in plan)) throw new Error('too many');
    expect(plan.starts[0]).toBe(480);
    const windows = slidingWindows(devices, rows, plan.starts, 180);
    expect(windows.reduce((s, w) => s + (w.readings as number), 0)).toBe(3 * (1 + 2 + 1));
    expect(windows.find((w) => w.start === 660)).toMatchObject({ end: 840, readings: 2, minimum: 1, maximum: 3 });
  });

  it('with from/to, answers the windows starting in [from, to) and reads the rows they span', () => {
    expect(readRange({ window: 300, step: 120 }, { from: 601, to: 1000 })).toEqual({ from: 720, to: 960 + 300 });
    expect(windowStarts({ window: 300, step: 120 }, { from: 601, to: 1000 }, undefined)).toEqual({ starts: [720, 840, 960] });
    expect(windowStarts({ window: 60, step: 60 }, { from: 0, to: 60 * (MAX_WINDOWS + 1) }, undefined)).toEqual({ tooMany: MAX_WINDOWS + 1 });
    expect(windowStarts({ window: 60, step: 60 }, {}, undefined)).toEqual({ starts: [] });
  });

  it('parses window and step as multiples of the period, naming the bad one', () => {
    expect(parseSlidingParams({}, 60)).toEqual({ ok: true, params: undefined });
    expect(parseSlidingParams({ window: '3600', step: '300' }, 60)).toEqual({ ok: true, params: { window: 3600, step: 300 } });
    expect(parseSlidingParams({ window: '3600', step: '30' }, 60)).toMatchObject({ ok: false, field: 'step' });
    expect(parseSlidingParams({ window: '-60', step: '60' }, 60)).toMatchObject({ ok: false, field: 'window' });
    expect(parseSlidingParams({ window: '1e3', step: '60' }, 60)).toMatchObject({ ok: false, field: 'window' });
  });
});
