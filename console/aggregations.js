// @ts-check
/**
 * The pipeline's aggregations panel: every aggregation config.json lists (both homes write it from
 * the pipeline's declaration), with its group fields, window, measures and derived values, and a
 * look-up of one group's report (GET /reports/<route>/<group values>), refreshed while shown.
 * Read-only: it only ever GETs, and only when asked for a group.
 */
import { byId, el, formatRate, replace } from './dom.js';

/**
 * @typedef {{ name: string, kind: string }} GroupField
 * @typedef {{ name: string, kind: string, stream: string, field?: string }} Measure
 * @typedef {{ name: string, numerator: string, denominator: string }} Derived
 * @typedef {{ name: string, description: string, route: string, periodSeconds: number, groupBy: GroupField[], measures: Measure[], derived: Derived[] }} Aggregation
 * @typedef {(path: string) => Promise<{ status: number, body: any }>} GetJson
 */

const REFRESH_MS = 5000;
const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

/** @param {unknown} value */
const formatValue = (value) => (typeof value === 'number' && Number.isFinite(value) ? number.format(value) : '–');

/** @param {Measure} m */
const measureText = (m) => (m.kind === 'count' ? `count of ${m.stream}` : `${m.kind} of ${m.stream}.${m.field}`);

/** Whether a value read from config.json has an aggregation's shape. @param {any} a @returns {a is Aggregation} */
const isAggregation = (a) => typeof a?.name === 'string' && typeof a.route === 'string' && Array.isArray(a.groupBy) && Array.isArray(a.measures) && Array.isArray(a.derived);

/**
 * One aggregation: what it counts, and the report of the group asked for.
 * @param {Aggregation} a @param {GetJson} getJson
 */
function aggregationCard(a, getJson) {
  const cells = new Map([...a.measures.map((m) => m.name), 'late_events', ...a.derived.map((d) => d.name)].map((name) => [name, el('td', { class: 'num', 'data-value': name }, '–')]));
  const row = (/** @type {string} */ name, /** @type {string} */ what) => el('tr', { 'data-measure': name }, el('th', { scope: 'row' }, name), el('td', { class: 'quiet' }, what), cells.get(name));
  const inputs = a.groupBy.map((g) => /** @type {HTMLInputElement} */ (el('input', { name: g.name, placeholder: g.name, autocomplete: 'off', inputmode: g.kind === 'integer' ? 'numeric' : undefined, 'aria-label': g.name })));
  const note = el('p', { class: 'quiet', 'data-note': '' }, `Enter ${a.groupBy.map((g) => g.name).join(' and ')} to read a group's report.`);
  /** @type {number | undefined} */
  let timer;
  const show = async () => {
    const values = inputs.map((i) => i.value.trim());
    if (values.some((v) => v === '')) return;
    const path = `reports/${a.route}/${values.map(encodeURIComponent).join('/')}`;
    try {
      const { status, body } = await getJson(path);
      if (status !== 200) {
        note.textContent = `${status}: ${body?.error ?? body?.message ?? 'no report'}`;
        return;
      }
      for (const m of a.measures) replace(/** @type {HTMLElement} */ (cells.get(m.name)), formatValue(body[m.name]));
      replace(/** @type {HTMLElement} */ (cells.get('late_events')), formatValue(body.late_events));
      for (const d of a.derived) {
        const value = typeof body[d.name] === 'number' ? body[d.name] : body[d.denominator] > 0 ? body[d.numerator] / body[d.denominator] : null;
        // Ratios of counts read as rates; other quotients (a mean) as numbers.
        const ofCounts = [d.numerator, d.denominator].every((n) => a.measures.find((m) => m.name === n)?.kind === 'count');
        replace(/** @type {HTMLElement} */ (cells.get(d.name)), ofCounts ? formatRate(value) : formatValue(value));
      }
      const windows = Array.isArray(body.periods) ? body.periods.length : 0;
      note.textContent = `${a.groupBy.map((g, i) => `${g.name} ${values[i]}`).join(', ')}: ${windows} window${windows === 1 ? '' : 's'} with events`;
    } catch (err) {
      note.textContent = `report unavailable: ${/** @type {Error} */ (err).message}`;
    }
  };
  const form = el(
    'form',
    { class: 'toolbar', 'data-lookup': a.name },
    ...inputs,
    ' ',
    el('button', { type: 'submit' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearInterval(timer);
    void show();
    timer = window.setInterval(show, REFRESH_MS);
  });
  return el(
    'article',
    { class: 'aggregation', 'data-aggregation': a.name },
    el('h3', {}, a.name, ' ', el('small', { class: 'quiet' }, `per ${a.groupBy.map((g) => g.name).join(', ')} · ${a.periodSeconds} s windows · GET /reports/${a.route}/{${a.groupBy.map((g) => g.name).join('}/{')}}`)),
    el('p', { class: 'quiet' }, a.description),
    form,
    el(
      'table',
      { class: 'measures' },
      el('thead', {}, el('tr', {}, el('th', {}, 'measure'), el('th', {}, 'of'), el('th', { class: 'num' }, 'value'))),
      el('tbody', {}, ...a.measures.map((m) => row(m.name, measureText(m))), row('late_events', 'events past the allowed lateness'), ...a.derived.map((d) => row(d.name, `${d.numerator} / ${d.denominator}`))),
    ),
    note,
  );
}

/**
 * Lists the aggregations of config.json (none when it lists none).
 * @param {unknown} aggregations @param {GetJson} getJson
 */
export function renderAggregations(aggregations, getJson) {
  const list = Array.isArray(aggregations) ? aggregations.filter(isAggregation) : [];
  byId('aggregation-count').textContent = `${list.length} declared`;
  replace(byId('aggregations'), ...list.map((a) => aggregationCard(a, getJson)));
  if (list.length === 0) replace(byId('aggregations'), el('p', { class: 'quiet' }, 'This API lists no aggregation (config.json names none).'));
}
