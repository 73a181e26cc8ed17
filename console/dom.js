// @ts-check
/**
 * DOM building for the console. Data only ever reaches the page as text nodes or attribute values
 * (never parsed as HTML), so nothing an API returns can inject markup or script.
 */

/**
 * An element with attributes and children; strings and numbers become text nodes.
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined>} [attrs]
 * @param {...(Node | string | number | null | undefined)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An SVG element, built like el().
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined>} [attrs]
 * @param {...(Node | string | number | null | undefined)} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttributes(node, attrs);
  append(node, children);
  return node;
}

/**
 * @param {Element} node
 * @param {Record<string, string | number | boolean | undefined>} attrs
 */
function setAttributes(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
}

/**
 * @param {Node} node
 * @param {(Node | string | number | null | undefined)[]} children
 */
function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces an element's children.
 * @param {Element} node
 * @param {...(Node | string | number | null | undefined)} children
 */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/**
 * The element with this id; throws when the page lacks it.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 2 });

/** @param {number} n */
export const formatCount = (n) => integer.format(n);

/** @param {number | null | undefined} ratio */
export const formatRate = (ratio) => (ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '–' : percent.format(ratio));

/**
 * A time as the viewer's local clock shows it (the date too when not today).
 * @param {string | number | undefined} when ISO string or epoch ms
 */
export function formatTime(when) {
  if (when === undefined || when === null || when === '' || when === 0) return '–';
  const date = new Date(when);
  if (Number.isNaN(date.getTime())) return String(when);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

/** @param {number} ms */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const ratio = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 4 });

/**
 * A job's figure by its kind, told by its name and value: `…Seconds` and `…Ms` as durations,
 * whole numbers as counts (thousands separated), other numbers as ratios with up to 4 decimals
 * (an AUC of 0.8336 stays 0.8336), anything else as text.
 * @param {string} name
 * @param {unknown} value
 */
export function formatFigure(name, value) {
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return '–';
  if (/Seconds$|_seconds$/.test(name)) return formatDuration(value * 1000);
  if (/Ms$|_ms$/.test(name)) return formatDuration(value);
  return Number.isInteger(value) ? formatCount(value) : ratio.format(value);
}
