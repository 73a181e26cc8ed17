/**
 * The README's examples as a test reads them, and the matcher that compares what a command printed
 * with what the README says it prints (test/e2e/readme.test.ts runs them).
 *
 * The convention (README.md follows it):
 * - A command example is a ```console block: each command line starts with `$ ` (a line ending
 *   with `\`, or inside a quoted string, continues on the next line), followed by the lines the
 *   command prints on stdout.
 *   A command followed by no lines prints nothing.
 * - Expected output: `...` on a line of its own stands for any number of lines; `...` inside a
 *   line for any text. Lines are compared with runs of spaces as one space and runs of dashes as
 *   one (table columns are as wide as their values). Output that is one JSON document is JSON:
 *   compared by keys and types, and by value but for times (ISO 8601 strings, epoch numbers of 10
 *   digits or more); `...` is any value, more keys in an object (`{"a":1,...}`), more elements at
 *   the end of an array (`[{"a":1},...]`), or any text inside a string (`"m-..."`).
 * - A block that cannot run here (it needs AWS, installs packages, ...) is preceded by
 *   `<!-- readme-test: skip (the reason) -->`. A ```sh (bash, shell) block is neither: the test
 *   fails on it, so that every command example is run or skipped on purpose.
 * - A file the reader writes, shown whole (a ```ts block, say), is preceded by
 *   `<!-- readme-test: file <path in the clone> -->`: the test writes the block's text there when
 *   the examples reach it, so the file run is the file shown.
 */

export interface Command {
  /** The command as typed (continuation lines joined with their backslash-newlines, as the shell reads them). */
  text: string;
  /** The lines the README says it prints. */
  expected: string[];
  /** 1-based line in the README of its `$ ` line. */
  line: number;
}

export type Block =
  | { kind: 'console'; line: number; commands: Command[]; skip?: string }
  | { kind: 'shell'; line: number; lang: string; skip?: string }
  | { kind: 'text'; line: number; lang: string }
  | { kind: 'file'; line: number; lang: string; path: string; text: string };

const FENCE = /^(\s*)```([\w-]*)\s*$/;
const SKIP = /^<!--\s*readme-test:\s*skip\s*(?:\((.*)\))?\s*-->$/;
const FILE = /^<!--\s*readme-test:\s*file\s+(\S+)\s*-->$/;
const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'zsh']);

/** The fenced blocks of a Markdown text, with their commands (console blocks) and skip markers. */
export function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const lang = open[2];
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i].slice(Math.min(indent, lines[i].length - lines[i].trimStart().length)));
    let before = start - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const marker = before >= 0 ? SKIP.exec(lines[before].trim()) : null;
    const skip = marker ? marker[1] ?? 'no reason given' : undefined;
    const file = before >= 0 ? FILE.exec(lines[before].trim()) : null;
    if (file) blocks.push({ kind: 'file', line: start + 1, lang, path: file[1], text: `${body.join('\n')}\n` });
    else if (lang === 'console') blocks.push({ kind: 'console', line: start + 1, commands: parseConsole(body, start + 2), skip });
    else if (SHELL_LANGS.has(lang)) blocks.push({ kind: 'shell', line: start + 1, lang, skip });
    else blocks.push({ kind: 'text', line: start + 1, lang });
  }
  return blocks;
}

/** Whether a shell command's text ends inside a quoted string (a JSON body spread over lines, say). */
function openQuote(text: string): boolean {
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === '\\') i++;
    else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) return false; // a comment: the rest of the line is not read
  }
  return quote !== undefined;
}

function parseConsole(body: string[], firstLine: number): Command[] {
  const commands: Command[] = [];
  for (let i = 0; i < body.length; i++) {
    const line = body[i];
    if (line.startsWith('$ ')) {
      const command: Command = { text: line.slice(2), expected: [], line: firstLine + i };
      while ((command.text.endsWith('\\') || openQuote(command.text)) && i + 1 < body.length) command.text += `\n${body[++i]}`;
      commands.push(command);
    } else if (commands.length === 0) {
      if (line.trim() !== '') throw new Error(`README line ${firstLine + i}: a console block starts with a "$ " command line, not: ${line}`);
    } else {
      commands[commands.length - 1].expected.push(line);
    }
  }
  for (const c of commands) while (c.expected.length > 0 && c.expected[c.expected.length - 1].trim() === '') c.expected.pop();
  return commands;
}

// ---------------------------------------------------------------------------------------------
// Matching

/** Why the output does not match what the README shows, or undefined when it does. */
export function mismatch(expected: string[], actual: string): string | undefined {
  const text = expected.join('\n').trim();
  let pattern: Pattern | undefined;
  try {
    if (text.startsWith('{') || text.startsWith('[')) pattern = parsePattern(text);
  } catch {
    // not one JSON document (JSON then a status code, say): compared as lines
  }
  if (pattern) {
    let value: unknown;
    try {
      value = JSON.parse(actual);
    } catch {
      return `expected JSON, got: ${actual.trim() || '(nothing)'}`;
    }
    return matchJson(pattern, value, '$');
  }
  return matchLines(expected, actual.split('\n'));
}

const normalize = (line: string) => line.trimEnd().replace(/\s+/g, ' ').replace(/-{2,}/g, '--');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A line pattern: `...` is any text, spaces and dashes normalized. */
function lineMatches(pattern: string, line: string): boolean {
  const re = new RegExp(`^${normalize(pattern).split('...').map(escape).join('.*')}$`);
  return re.test(normalize(line));
}

function matchLines(expected: string[], actualLines: string[]): string | undefined {
  const actual = [...actualLines];
  while (actual.length > 0 && actual[actual.length - 1].trim() === '') actual.pop();
  // Backtracking over `...` lines: small inputs, so the plain recursion is fine.
  const memo = new Map<string, boolean>();
  const go = (e: number, a: number): boolean => {
    const key = `${e},${a}`;
    if (memo.has(key)) return memo.get(key)!;
    let ok: boolean;
    if (e === expected.length) ok = a === actual.length;
    else if (expected[e].trim() === '...') ok = go(e + 1, a) || (a < actual.length && go(e, a + 1));
    else ok = a < actual.length && lineMatches(expected[e], actual[a]) && go(e + 1, a + 1);
    memo.set(key, ok);
    return ok;
  };
  if (go(0, 0)) return undefined;
  // Name the first expected line that has no match, for the failure message.
  let a = 0;
  for (const e of expected) {
    if (e.trim() === '...') continue;
    const found = actual.findIndex((l, i) => i >= a && lineMatches(e, l));
    if (found < 0) return `no output line matches: ${e}\noutput:\n${actual.join('\n') || '(nothing)'}`;
    a = found + 1;
  }
  return `the output has lines the README does not show:\n${actual.join('\n')}`;
}

/** JSON with `...` in it, parsed. */
type Pattern = { any: true } | { object: [string, Pattern][]; more: boolean } | { array: Pattern[]; more: boolean } | { string: string } | { number: number } | { literal: boolean | null };

export function parsePattern(text: string): Pattern {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i}: ${text.slice(i, i + 20)}`);
  };
  const ellipsis = () => {
    ws();
    if (text.startsWith('...', i)) {
      i += 3;
      return true;
    }
    return false;
  };
  const stringToken = (): string => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (!m) fail('expected a string');
    i += m![0].length;
    return JSON.parse(m![0]) as string;
  };
  const value = (): Pattern => {
    if (ellipsis()) return { any: true };
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const members: [string, Pattern][] = [];
      let more = false;
      ws();
      if (text[i] === '}') {
        i++;
        return { object: members, more };
      }
      for (;;) {
        if (ellipsis()) more = true;
        else {
          ws();
          const key = stringToken();
          ws();
          if (text[i++] !== ':') fail('expected ":"');
          members.push([key, value()]);
        }
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return { object: members, more };
        } else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items: Pattern[] = [];
      let more = false;
      ws();
      if (text[i] === ']') {
        i++;
        return { array: items, more };
      }
      for (;;) {
        if (ellipsis()) more = true;
        else items.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return { array: items, more };
        } else fail('expected "," or "]"');
      }
    }
    if (c === '"') return { string: stringToken() };
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) fail('expected a value');
    i += m![0].length;
    const parsed = JSON.parse(m![0]) as number | boolean | null;
    return typeof parsed === 'number' ? { number: parsed } : { literal: parsed };
  };
  const result = value();
  ws();
  if (i < text.length) fail('unexpected text after the JSON');
  return result;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
/** Epoch seconds or milliseconds: 10 digits or more. Compared by type, as times are. */
const isEpoch = (n: number) => Number.isInteger(n) && Math.abs(n) >= 1e9;
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export function matchJson(p: Pattern, v: unknown, path: string): string | undefined {
  const show = (x: unknown) => JSON.stringify(x)?.slice(0, 200);
  if ('any' in p) return undefined;
  if ('number' in p) {
    if (typeof v !== 'number') return `${path}: expected a number, got ${show(v)}`;
    if (isEpoch(p.number) ? !isEpoch(v) : v !== p.number) return `${path}: expected ${p.number}, got ${v}`;
    return undefined;
  }
  if ('string' in p) {
    if (typeof v !== 'string') return `${path}: expected a string, got ${show(v)}`;
    if (ISO_TIME.test(p.string)) return ISO_TIME.test(v) ? undefined : `${path}: expected a time, got ${show(v)}`;
    const re = new RegExp(`^${p.string.split('...').map(escape).join('[^]*')}$`);
    return re.test(v) ? undefined : `${path}: expected ${show(p.string)}, got ${show(v)}`;
  }
  if ('literal' in p) return v === p.literal ? undefined : `${path}: expected ${show(p.literal)}, got ${show(v)}`;
  if ('array' in p) {
    if (!Array.isArray(v)) return `${path}: expected an array, got ${typeOf(v)} ${show(v)}`;
    if (p.more ? v.length < p.array.length : v.length !== p.array.length) return `${path}: expected ${p.array.length}${p.more ? ' or more' : ''} elements, got ${v.length}: ${show(v)}`;
    for (let k = 0; k < p.array.length; k++) {
      const why = matchJson(p.array[k], v[k], `${path}[${k}]`);
      if (why) return why;
    }
    return undefined;
  }
  if (typeOf(v) !== 'object') return `${path}: expected an object, got ${typeOf(v)} ${show(v)}`;
  const object = v as Record<string, unknown>;
  for (const [key, pattern] of p.object) {
    if (!(key in object)) return `${path}: no key "${key}" in ${show(object)}`;
    const why = matchJson(pattern, object[key], `${path}.${key}`);
    if (why) return why;
  }
  if (!p.more) {
    const extra = Object.keys(object).filter((k) => !p.object.some(([key]) => key === k));
    if (extra.length > 0) return `${path}: keys the README does not show: ${extra.join(', ')} (add them, or "..." for more keys)`;
  }
  return undefined;
}
