// @ts-check
/** A line chart of a campaign's counts per window, drawn as inline SVG. */
import { replace, svg } from './dom.js';

export const SERIES = /** @type {const} */ (['bids', 'impressions', 'clicks']);

/** @typedef {{ period: number, bids: number, impressions: number, clicks: number, late_events: number }} WindowRow */

const WIDTH = 800;
const HEIGHT = 240;
const PAD = { left: 56, right: 40, top: 12, bottom: 28 };

/**
 * A round axis maximum at or above the value: 1, 2 or 5 times a power of ten.
 * @param {number} value
 */
function niceCeiling(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((m) => m * power >= value) ?? 10) * power;
}

/** @param {number} epochSeconds @param {boolean} withDate */
function tickLabel(epochSeconds, withDate) {
  const date = new Date(epochSeconds * 1000);
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return withDate ? `${date.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}` : time;
}

const TICK_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];
const MAX_TICKS = 7;

/**
 * Time-axis ticks: the multiples of a round step (1 min … 1 day) between first and last, at most
 * MAX_TICKS of them; the first period alone when the rows span no time.
 * @param {number} first epoch seconds
 * @param {number} last epoch seconds
 */
export function timeTicks(first, last) {
  if (last <= first) return [first];
  const step = TICK_STEPS.find((s) => (last - first) / s <= MAX_TICKS - 1) ?? Math.ceil((last - first) / (MAX_TICKS - 1) / 86_400) * 86_400;
  const ticks = [];
  for (let t = Math.ceil(first / step) * step; t <= last; t += step) ticks.push(t);
  return ticks.length > 0 ? ticks : [first];
}

/**
 * The rows (sorted by period) split into runs of consecutive windows: a window missing between two
 * rows (a gap wider than the narrowest one, the window length) ends a run, so no line crosses it.
 * @param {WindowRow[]} sorted
 * @returns {WindowRow[][]}
 */
export function consecutiveRuns(sorted) {
  const gaps = sorted.slice(1).map((r, i) => r.period - sorted[i].period);
  const step = Math.min(...gaps.filter((g) => g > 0));
  /** @type {WindowRow[][]} */
  const runs = [];
  sorted.forEach((row, i) => {
    if (i === 0 || gaps[i - 1] > step) runs.push([]);
    /** @type {WindowRow[]} */ (runs.at(-1)).push(row);
  });
  return runs;
}

/**
 * Draws the rows (any order) into the SVG element; an empty list draws an empty frame with a note.
 * Windows with no row are gaps in the lines; the time axis has a labelled tick every round step.
 * @param {SVGSVGElement} target
 * @param {WindowRow[]} rows
 */
export function drawChart(target, rows) {
  target.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  const sorted = [...rows].sort((a, b) => a.period - b.period);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const first = sorted[0]?.period ?? 0;
  const last = sorted.at(-1)?.period ?? 0;
  const max = niceCeiling(Math.max(0, ...sorted.flatMap((r) => SERIES.map((s) => r[s]))));
  /** @param {number} period */
  const x = (period) => PAD.left + (last === first ? plotW / 2 : ((period - first) / (last - first)) * plotW);
  /** @param {number} value */
  const y = (value) => PAD.top + plotH - (value / max) * plotH;

  const parts = [];
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    parts.push(svg('line', { class: 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value) }));
    parts.push(svg('text', { class: 'axis', x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, Number.isInteger(value) ? value : value.toFixed(1)));
  }
  if (sorted.length === 0) {
    parts.push(svg('text', { class: 'note', x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle' }, 'no windows counted yet'));
  } else {
    const withDate = last - first >= 86_400 || new Date(first * 1000).toDateString() !== new Date().toDateString();
    for (const tick of timeTicks(first, last)) {
      parts.push(svg('line', { class: 'grid', x1: x(tick), x2: x(tick), y1: PAD.top, y2: PAD.top + plotH }));
      parts.push(svg('text', { class: 'axis time', x: x(tick), y: HEIGHT - 8, 'text-anchor': 'middle' }, tickLabel(tick, withDate)));
    }
    const runs = consecutiveRuns(sorted);
    for (const series of SERIES) {
      for (const run of runs.filter((r) => r.length > 1)) {
        const points = run.map((r) => `${x(r.period).toFixed(1)},${y(r[series]).toFixed(1)}`).join(' ');
        parts.push(svg('polyline', { class: `line ${series}`, points }));
      }
      for (const r of sorted) {
        parts.push(svg('circle', { class: `dot ${series}`, cx: x(r.period).toFixed(1), cy: y(r[series]).toFixed(1), r: 2.5 }, svg('title', {}, `${tickLabel(r.period, true)}: ${r[series]} ${series}`)));
      }
    }
  }
  replace(target, ...parts);
}
