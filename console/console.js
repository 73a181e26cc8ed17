// @ts-check
/**
 * The live console: per-campaign counts and a chart of the selected campaign's windows, pushed by
 * the platform's /live stream (server-sent events), with health, rejected requests, dead letters,
 * job runs and the deployed model. Against an API without /live (a deployed stack) it polls the
 * reports of the campaigns it is asked to watch. Read-only: it only ever GETs.
 */
import { byId, el, formatCount, formatRate, formatTime, replace } from './dom.js';
import { drawChart } from './chart.js';
import { renderDeadLetters, renderHealth, renderJobs, renderModel, renderOperationsUnavailable, renderRejections } from './panels.js';
import { renderAggregations } from './aggregations.js';

const COUNTERS = /** @type {const} */ (['bids', 'impressions', 'clicks', 'late_events']);
/** The aggregation this live view shows: /live carries every aggregation's groups (local/aggregate-feed.ts). */
const LIVE_AGGREGATION = 'campaigns';
/** @param {{ aggregation?: string }} g */
const shown = (g) => g.aggregation === LIVE_AGGREGATION;
const ROWS_SHOWN = 50;
const CHART_WINDOWS = 60;
const MODEL_REFRESH_MS = 30_000;
const POLL_MS = 5_000;
const LIVE_RETRY_MS = 30_000;

/** @typedef {{ campaign_item_id: number, bids: number, impressions: number, clicks: number, late_events: number, updated_at?: number }} Campaign */
/** @typedef {import('./chart.js').WindowRow} WindowRow */

const params = new URLSearchParams(location.search);

const state = {
  /** @type {Map<number, Campaign>} */
  campaigns: new Map(),
  /** Campaigns changed since the last render, to highlight. @type {Set<number>} */
  changed: new Set(),
  /** @type {number | undefined} */
  selected: params.has('campaign') ? Number(params.get('campaign')) : undefined,
  /** The selected campaign's windows by period. @type {Map<number, WindowRow>} */
  windows: new Map(),
  /** Campaigns polled when there is no live stream. @type {Set<number>} */
  watched: new Set((params.get('campaigns') ?? '').split(',').filter((s) => /^\d+$/.test(s)).map(Number)),
  polling: false,
  /** @type {number | undefined} */
  renderQueued: undefined,
};

/** @param {string} raw */
function httpUrl(raw) {
  const url = new URL(raw, location.href);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the API base URL must be http(s), got ${raw}`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** config.json: a deployed site's API and the pipeline's aggregations; {} when there is none. */
async function loadConfig() {
  try {
    const res = await fetch('config.json', { cache: 'no-cache' });
    if (res.ok) return await res.json();
  } catch {
    // no config: the API is this origin's, and no aggregation is listed
  }
  return {};
}

/** The API base URL: ?api=, else config.json's apiBaseUrl (a deployed static site), else this origin. @param {any} config */
function apiBase(config) {
  const fromQuery = params.get('api');
  if (fromQuery) return httpUrl(fromQuery);
  if (typeof config?.apiBaseUrl === 'string' && config.apiBaseUrl !== '') return httpUrl(config.apiBaseUrl);
  return httpUrl('/');
}

/** @param {'connecting' | 'live' | 'reconnecting' | 'polling' | 'down'} mode @param {string} text */
function setConnection(mode, text) {
  const node = byId('connection');
  node.dataset.state = mode;
  node.textContent = text;
}

// ---- campaigns and chart ----

/** @param {Campaign} c */
const ctr = (c) => (c.impressions > 0 ? c.clicks / c.impressions : null);
/** @param {Campaign} c */
const winRate = (c) => (c.bids > 0 ? c.impressions / c.bids : null);

function scheduleRender() {
  state.renderQueued ??= requestAnimationFrame(() => {
    state.renderQueued = undefined;
    renderCampaigns();
    renderChart();
  });
}

const filterText = () => /** @type {HTMLInputElement} */ (byId('campaign-filter')).value.trim();

function visibleCampaigns() {
  const filter = filterText();
  return [...state.campaigns.values()]
    .filter((c) => filter === '' || String(c.campaign_item_id).startsWith(filter))
    .sort((a, b) => (b.updated_at ?? 0) - (a.updated_at ?? 0) || a.campaign_item_id - b.campaign_item_id)
    .slice(0, ROWS_SHOWN);
}

function renderCampaigns() {
  const all = [...state.campaigns.values()];
  const sum = (/** @type {'bids' | 'impressions' | 'clicks'} */ k) => formatCount(all.reduce((n, c) => n + c[k], 0));
  byId('campaign-count').textContent = `${formatCount(all.length)} campaign${all.length === 1 ? '' : 's'} · ${sum('bids')} bids · ${sum('impressions')} impressions · ${sum('clicks')} clicks`;
  const rows = visibleCampaigns().map((c) => {
    const id = c.campaign_item_id;
    const classes = [id === state.selected ? 'selected' : '', state.changed.has(id) ? 'changed' : ''].filter(Boolean).join(' ');
    return el(
      'tr',
      { 'data-campaign': id, class: classes || undefined },
      el('td', {}, el('button', { type: 'button', class: 'link', 'data-select': id, title: 'chart this campaign' }, id)),
      ...COUNTERS.map((k) => el('td', { class: 'num', 'data-counter': k }, formatCount(c[k]))),
      el('td', { class: 'num', 'data-rate': 'ctr' }, formatRate(ctr(c))),
      el('td', { class: 'num', 'data-rate': 'win_rate' }, formatRate(winRate(c))),
      el('td', { class: 'time', title: c.updated_at ? new Date(c.updated_at).toISOString() : undefined }, formatTime(c.updated_at)),
    );
  });
  state.changed.clear();
  replace(/** @type {HTMLElement} */ (byId('campaigns').querySelector('tbody')), ...rows);
  byId('campaigns-empty').textContent = rows.length > 0 ? '' : emptyTableNote();
}

/** Why the campaign table shows no row. */
function emptyTableNote() {
  const filter = filterText();
  if (filter !== '') return `No campaign ${/^\d+$/.test(filter) ? 'id starts with' : 'matches'} “${filter}”: no events counted for it${state.polling ? ' (press Enter to watch it)' : ''}.`;
  return state.polling && state.watched.size === 0 ? 'Type a campaign id and press Enter to watch it.' : 'No events counted yet.';
}

function renderChart() {
  byId('chart-campaign').textContent = state.selected === undefined ? '–' : String(state.selected);
  const windows = [...state.windows.values()].sort((a, b) => a.period - b.period).slice(-CHART_WINDOWS);
  drawChart(/** @type {SVGSVGElement} */ (/** @type {unknown} */ (byId('chart'))), windows);
}

/**
 * Merges a window row into the chart's: counts only grow, so the larger of two readings is the later.
 * @param {WindowRow} row
 */
function mergeWindow(row) {
  const known = state.windows.get(row.period);
  const merged = { period: row.period, bids: 0, impressions: 0, clicks: 0, late_events: 0 };
  for (const k of COUNTERS) merged[k] = Math.max(known?.[k] ?? 0, row[k] ?? 0);
  state.windows.set(row.period, merged);
}

/** @type {URL} */
let api;

/** @param {string} path */
async function getJson(path) {
  const res = await fetch(new URL(path, api), { cache: 'no-store' });
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : null };
}

/** @param {number} id */
async function select(id) {
  state.selected = id;
  state.windows = new Map();
  scheduleRender();
  const { status, body } = await getJson(`reports/campaigns/${id}`);
  if (status !== 200 || state.selected !== id) return;
  for (const row of body.periods ?? []) mergeWindow(row);
  if (state.polling) setCampaign({ campaign_item_id: id, ...pickCounters(body) });
  scheduleRender();
}

/** @param {any} source */
function pickCounters(source) {
  return { bids: source.bids ?? 0, impressions: source.impressions ?? 0, clicks: source.clicks ?? 0, late_events: source.late_events ?? 0 };
}

/** @param {Campaign} campaign */
function setCampaign(campaign) {
  const known = state.campaigns.get(campaign.campaign_item_id);
  if (!known || COUNTERS.some((k) => known[k] !== campaign[k])) state.changed.add(campaign.campaign_item_id);
  state.campaigns.set(campaign.campaign_item_id, { ...known, ...campaign });
}

/** Charts the most recently changed campaign until one is chosen. */
function ensureSelection() {
  if (state.selected !== undefined || state.campaigns.size === 0) return;
  const latest = [...state.campaigns.values()].reduce((a, b) => ((b.updated_at ?? 0) > (a.updated_at ?? 0) ? b : a));
  void select(latest.campaign_item_id);
}

// ---- the live stream ----

/** @param {{ groups: (Campaign & { aggregation: string })[] }} data */
function onSnapshot(data) {
  state.campaigns = new Map();
  for (const c of data.groups.filter(shown)) setCampaign(c);
  state.changed.clear();
  if (state.selected !== undefined) void select(state.selected);
  else ensureSelection();
  scheduleRender();
}

/** @param {{ rows: (WindowRow & { aggregation: string, campaign_item_id: number })[], groups: (Campaign & { aggregation: string })[] }} data */
function onChanges(data) {
  for (const c of data.groups.filter(shown)) setCampaign(c);
  for (const row of data.rows.filter(shown)) if (row.campaign_item_id === state.selected) mergeWindow(row);
  ensureSelection();
  scheduleRender();
}

/** @param {any} status */
function onStatus(status) {
  renderHealth(status.health);
  renderRejections(status.rejections);
  renderDeadLetters(status.deadLetters, status.deadLettersTotal);
  renderJobs(status.jobs);
  // The live stream carries the deployed model (null before the first), so the console never asks
  // GET /models/current, which answers 404 until then, while it is live.
  if ('model' in status) renderModel(status.model);
}

/** @param {string} name @param {(data: any) => void} handle */
const listener = (name, handle) => /** @param {Event} event */ (event) => {
  try {
    handle(JSON.parse(/** @type {MessageEvent} */ (event).data));
  } catch (err) {
    console.error(`console: bad ${name} event`, err);
  }
};

function connectLive() {
  const source = new EventSource(new URL('live', api));
  let opened = false;
  source.addEventListener('open', () => {
    opened = true;
    stopPolling();
    setConnection('live', 'live');
  });
  source.addEventListener('error', () => {
    if (source.readyState !== EventSource.CLOSED) {
      setConnection('reconnecting', 'reconnecting…');
      return;
    }
    // Refused (not a network error, which the browser retries by itself): no live stream here,
    // or none now (the platform is stopping or busy). Poll meanwhile and try again later.
    source.close();
    if (!opened) startPolling();
    setTimeout(connectLive, opened ? 3000 : LIVE_RETRY_MS);
  });
  source.addEventListener('snapshot', listener('snapshot', onSnapshot));
  source.addEventListener('changes', listener('changes', onChanges));
  source.addEventListener('status', listener('status', onStatus));
}

// ---- polling, when there is no live stream ----

/** @type {number | undefined} */
let pollTimer;
/** @type {number | undefined} */
let modelTimer;

async function pollOnce() {
  const ids = [...state.watched];
  const answers = await Promise.allSettled(ids.map((id) => getJson(`reports/campaigns/${id}`)));
  let reached = false;
  answers.forEach((answer, i) => {
    if (answer.status !== 'fulfilled' || answer.value.status !== 200) return;
    reached = true;
    setCampaign({ campaign_item_id: ids[i], ...pickCounters(answer.value.body) });
    if (ids[i] === state.selected) for (const row of answer.value.body.periods ?? []) mergeWindow(row);
  });
  ensureSelection();
  if (ids.length > 0) setConnection(reached ? 'polling' : 'down', reached ? `polling reports every ${POLL_MS / 1000} s (no live stream at this API)` : 'API unreachable');
  scheduleRender();
  try {
    const health = await getJson('health');
    if (health.body?.components) renderHealth(health.body);
  } catch {
    // no health route at this API: the panel says so already
  }
}

function startPolling() {
  if (state.polling) return;
  state.polling = true;
  setConnection('polling', `polling reports every ${POLL_MS / 1000} s (no live stream at this API)`);
  renderOperationsUnavailable();
  void refreshModel();
  modelTimer = window.setInterval(refreshModel, MODEL_REFRESH_MS);
  const tick = async () => {
    await pollOnce().catch(() => setConnection('down', 'API unreachable'));
    if (state.polling) pollTimer = window.setTimeout(tick, POLL_MS);
  };
  void tick();
}

function stopPolling() {
  state.polling = false;
  clearTimeout(pollTimer);
  clearInterval(modelTimer);
}

// ---- the model ----

/** Reads the deployed model when polling (no live stream): a 404 is the quiet "none deployed yet". */
async function refreshModel() {
  try {
    const { status, body } = await getJson('models/current');
    if (status === 200) renderModel(body);
    else if (status === 404) renderModel(null);
  } catch {
    // keep what is shown; the next refresh retries
  }
}

// ---- start ----

async function main() {
  const config = await loadConfig();
  api = apiBase(config);
  byId('api-base').textContent = api.href;
  renderAggregations(config.aggregations, getJson);
  byId('campaigns').addEventListener('click', (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest('[data-select]');
    if (button instanceof HTMLElement) void select(Number(button.dataset.select));
  });
  const filter = /** @type {HTMLInputElement} */ (byId('campaign-filter'));
  filter.addEventListener('input', scheduleRender);
  filter.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || !/^\d{1,15}$/.test(filter.value.trim())) return;
    const id = Number(filter.value.trim());
    state.watched.add(id);
    void select(id);
  });
  renderChart();
  connectLive();
}

main().catch((err) => setConnection('down', `console failed to start: ${err.message}`));
