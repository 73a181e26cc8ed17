// @ts-check
/** A line chart of a campaign's counts per window, drawn as inline SVG. */
import { replace, svg } from './dom.js';

export const SERIES = /** @type {const} */ (['bids', 'impressions', 'clicks']);

/** @typedef {{ period: number, bids: number, impressions: number, clicks: number, late_events: number }} WindowRow */

const WIDTH = 800;
const HEIGHT = 240;
const PAD = { left: 56, right: 16, top: 12, bottom: 28 };

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

/**
 * Draws the rows (any order) into the SVG element; an empty list draws an empty frame with a note.
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
    const ticks = sorted.length === 1 ? [first] : [first, last];
    ticks.forEach((period, i) => {
      const anchor = ticks.length === 1 ? 'middle' : i === 0 ? 'start' : 'end';
      parts.push(svg('text', { class: 'axis', x: x(period), y: HEIGHT - 8, 'text-anchor': anchor }, tickLabel(period, withDate)));
    });
    for (const series of SERIES) {
      const points = sorted.map((r) => `${x(r.period).toFixed(1)},${y(r[series]).toFixed(1)}`).join(' ');
      parts.push(svg('polyline', { class: `line ${series}`, points }));
      for (const r of sorted) {
        parts.push(svg('circle', { class: `dot ${series}`, cx: x(r.period).toFixed(1), cy: y(r[series]).toFixed(1), r: 2.5 }, svg('title', {}, `${tickLabel(r.period, true)}: ${r[series]} ${series}`)));
      }
    }
  }
  replace(target, ...parts);
}
