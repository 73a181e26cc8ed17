// @ts-check
/** Renders the operations panels: health and lag, rejected requests, dead letters, job runs, the model. */
import { byId, el, formatCount, formatDuration, formatFigure, formatTime, replace } from './dom.js';

/** @param {string} status */
const statusClass = (status) => (status === 'ok' ? 'good' : status === 'not run yet' ? 'quiet' : 'bad');

/**
 * @param {HTMLElement} table
 * @param {HTMLElement[]} rows
 * @param {string} empty shown when there are no rows
 */
function fillTable(table, rows, empty) {
  const body = table.querySelector('tbody');
  if (!body) return;
  const columns = table.querySelectorAll('thead th').length;
  replace(body, ...(rows.length > 0 ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: columns }, empty))]));
}

/** @param {any} component */
function componentDetail(component) {
  // Why a part is down or unhealthy (GET /health names it), before its figures.
  const reason = typeof component.reason === 'string' ? `${component.reason} · ` : '';
  if (Array.isArray(component.shards)) {
    const shards = /** @type {any[]} */ (component.shards);
    const reading = shards.filter((s) => !s.waitingFor);
    // A shard never read successfully has no lag to show: unknown, not 0.
    const lag = reading.every((s) => s.millisBehindLatest !== undefined) ? formatDuration(Math.max(0, ...reading.map((s) => s.millisBehindLatest))) : 'unknown';
    const pending = shards.reduce((n, s) => n + (s.pending ?? 0), 0);
    const waiting = shards.length - reading.length;
    return `${reason}${reading.length} shard${reading.length === 1 ? '' : 's'}${waiting > 0 ? ` (${waiting} more waiting for their parents)` : ''} · lag ${lag} · ${formatCount(pending)} pending · ${formatCount(component.deadLettered ?? 0)} dead-lettered`;
  }
  if (reason) return reason.slice(0, -3);
  if (component.lastRun) {
    // Why the job last failed, when an earlier run did (the last run's failure is the reason above).
    const failure = component.lastFailure ? ` · last failed ${formatTime(component.lastFailure.at)}: ${component.lastFailure.error}` : '';
    return `last run ${formatTime(component.lastRun.ended_at)}: ${component.lastRun.outcome}${failure}`;
  }
  return component.endpoint ?? '';
}

/** @param {{ status: string, components: Record<string, any> }} health */
export function renderHealth(health) {
  const badge = byId('health-status');
  badge.textContent = health.status;
  badge.className = `badge ${statusClass(health.status)}`;
  const rows = Object.entries(health.components).map(([name, component]) =>
    el(
      'tr',
      { 'data-component': name },
      el('td', {}, name),
      el('td', {}, el('span', { class: `badge ${statusClass(component.status)}` }, component.status)),
      el('td', {}, componentDetail(component)),
    ),
  );
  fillTable(byId('health'), rows, 'no components reported');
}

/** @param {any} rejection */
function reasonOf(rejection) {
  const issues = /** @type {any[]} */ (rejection.issues ?? []).map((i) => `${i.index !== undefined ? `[${i.index}] ` : ''}${i.field || '(event)'}: ${i.message}`);
  if (rejection.moreIssues > 0) issues.push(`and ${rejection.moreIssues} more`);
  return el('td', { class: 'reason' }, el('div', {}, rejection.error), ...issues.map((text) => el('div', { class: 'issue' }, text)));
}

/** @param {any[]} rejections newest first */
export function renderRejections(rejections) {
  const rows = rejections.map((r) =>
    el('tr', {}, el('td', { class: 'time', title: r.at }, formatTime(r.at)), el('td', {}, `${r.method} ${r.path}`), el('td', {}, el('span', { class: 'badge bad' }, r.status)), reasonOf(r)),
  );
  fillTable(byId('rejections'), rows, 'no rejected requests since the platform started');
}

/** @param {any[]} letters newest first @param {number} total */
export function renderDeadLetters(letters, total) {
  byId('dead-letters-total').textContent = total > letters.length ? `(latest ${letters.length} of ${total})` : `(${total})`;
  const rows = letters.map((d) =>
    el(
      'tr',
      {},
      el('td', { class: 'time', title: d.timestamp }, formatTime(d.timestamp)),
      el('td', {}, d.consumer),
      el('td', {}, d.shardId),
      el('td', { class: 'mono', title: `${d.startSequenceNumber} – ${d.endSequenceNumber}` }, `${String(d.startSequenceNumber).slice(-8)} – ${String(d.endSequenceNumber).slice(-8)}`),
      el('td', { class: 'num' }, formatCount(d.batchSize)),
      el('td', {}, d.functionError),
    ),
  );
  fillTable(byId('dead-letters'), rows, 'no dead letters');
}

/** @param {Record<string, unknown>} figures */
export const figuresText = (figures) =>
  Object.entries(figures ?? {})
    .map(([k, v]) => `${k} ${formatFigure(k, v)}`)
    .join(' · ');

/** @param {Record<string, any[]>} jobs per job, newest run first */
export function renderJobs(jobs) {
  const runs = Object.values(jobs)
    .flat()
    .sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
  const rows = runs.map((run) =>
    el(
      'tr',
      {},
      el('td', {}, run.job),
      el('td', { class: 'time', title: run.started_at }, formatTime(run.started_at)),
      el('td', { class: 'num time' }, formatDuration(Date.parse(run.ended_at) - Date.parse(run.started_at))),
      el('td', {}, run.trigger),
      el('td', {}, el('span', { class: `badge ${run.outcome === 'succeeded' ? 'good' : 'bad'}` }, run.outcome)),
      el('td', { class: 'figures' }, run.error ?? figuresText(run.figures)),
    ),
  );
  fillTable(byId('jobs'), rows, 'no job has run yet');
}

/**
 * A latency in ms by its size: sub-millisecond ones to the microsecond (a local model answers in
 * about 0.1 ms), then ms to one decimal, then whole ms, then seconds.
 * @param {number | null | undefined} ms
 */
export function formatLatency(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return formatDuration(ms);
}

const ratioFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/** @param {{ p50: number | null, p99: number | null } | undefined} latency */
const latencyText = (latency) => `p50 ${formatLatency(latency?.p50)} · p99 ${formatLatency(latency?.p99)}`;

/**
 * The serving figures' entries (schemas/serving.ts): requests, their rate and errors, the model's
 * and POST /predictions' latency, over the window they state.
 * @param {any} serving
 * @returns {[string, string][]}
 */
function servingEntries(serving) {
  if (!serving) return [];
  if (typeof serving.unavailable === 'string') return [['serving', serving.unavailable]];
  const minutes = serving.window.seconds % 60 === 0 ? `${serving.window.seconds / 60} min` : `${serving.window.seconds} s`;
  return [
    ['serving', `last ${minutes}, to ${formatTime(serving.window.to)}`],
    ['requests', `${formatCount(serving.requests)} · ${ratioFormat.format(serving.requestsPerSecond)}/s`],
    ['errors', `${formatCount(serving.errors.badInput)} bad input (4xx) · ${formatCount(serving.errors.modelFailures)} model failures (5xx)`],
    ['model latency', latencyText(serving.modelLatencyMs)],
    ['POST /predictions', `${formatCount(serving.predict.calls)} calls · ${latencyText(serving.predict.latencyMs)}`],
  ];
}

/** @param {any} model the deployed model's record with its serving figures, or null when none is deployed */
export function renderModel(model) {
  const list = byId('model');
  if (!model) {
    replace(list, el('div', { class: 'quiet' }, 'No model deployed yet.'));
    return;
  }
  /** @param {number | undefined} n */
  const metric = (n) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(4) : '–');
  const entries = [
    ['version', model.version],
    ['deployed', formatTime(model.deployedAt)],
    ['held-out AUC', metric(model.metrics?.auc)],
    ['log loss', metric(model.metrics?.logLoss)],
    ['held-out rows', formatCount(model.holdoutRows ?? 0)],
    ['training rows', formatCount(model.trainingRows ?? 0)],
    ['gate', model.decision?.reason ?? '–'],
    ...servingEntries(model.serving),
  ];
  replace(list, ...entries.flatMap(([term, value]) => [el('dt', {}, term), el('dd', { 'data-field': term }, value)]));
}

/**
 * Marks the operations panels as not offered by the API the console reads (a deployed stack has
 * no /live stream; its operations view is the CloudWatch dashboard).
 */
export function renderOperationsUnavailable() {
  const note = 'not offered by this API (local platform only; in AWS see the CloudWatch dashboard "sdp")';
  byId('health-status').textContent = 'n/a';
  for (const id of ['health', 'rejections', 'dead-letters', 'jobs']) fillTable(byId(id), [], note);
}
