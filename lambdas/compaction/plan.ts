/**
 * What compaction decides, as pure functions (unit-tested in test/unit/compaction-plan.test.ts):
 * which lake keys belong to which table and partition, when an hour partition is closed, how
 * compacted files are named (from a hash of their inputs, so a rerun over the same inputs writes
 * the same names), whether a partition needs compacting, how rows are deduplicated and ordered,
 * how they are split into files, what to do with a manifest left by an interrupted run, and which
 * files a reader sees while manifests exist. The S3 side is in compact.ts.
 */
import { createHash } from 'node:crypto';
import { activePipeline } from '../../schemas/active-pipeline';
import { streamOf, type Pipeline } from '../../schemas/pipeline';
import {
  LAKE_PREFIXES,
  COMPACTION_PREFIX,
  lakeTablesOf,
  partitionOf,
  partitionPath,
  type CompactionManifest,
  type LakeFormat,
  type LakeTable,
  type Partition,
} from '../../schemas/lake';

const HOUR_MS = 3_600_000;

export const EXTENSIONS: Readonly<Record<LakeFormat, string>> = { raw: '.json.gz', parquet: '.parquet' };

/** A data file of the lake, located by its key. */
export interface LakeFile {
  key: string;
  format: LakeFormat;
  table: LakeTable;
  partition: Partition;
  /** The file name without its extension. */
  fileId: string;
}

const DATA_KEY = /^(raw|parquet)\/([a-z][a-z0-9_]*)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/]+)$/;
const MANIFEST_KEY = /^compaction\/(raw|parquet)\/([a-z][a-z0-9_]*)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/]+)\.json$/;

function isTable(name: string): name is LakeTable {
  return lakeTablesOf(activePipeline()).some((t) => t.name === name);
}

/** The lake file a key names, or undefined when the key is not a data file of a lake table. */
export function parseLakeKey(key: string): LakeFile | undefined {
  const m = DATA_KEY.exec(key);
  if (!m) return undefined;
  const [, format, table, dt, hour, name] = m as unknown as [string, LakeFormat, string, string, string, string];
  if (!isTable(table) || !(format in LAKE_PREFIXES)) return undefined;
  const ext = EXTENSIONS[format];
  if (!name.endsWith(ext) || name.length === ext.length) return undefined;
  return { key, format, table, partition: { dt, hour }, fileId: name.slice(0, -ext.length) };
}

/** Whether a key is a compaction manifest (`compaction/<format>/<table>/dt=…/hour=…/<name>.json`). */
export function isManifestKey(key: string): boolean {
  return key.startsWith(COMPACTION_PREFIX) && MANIFEST_KEY.test(key);
}

/** Epoch ms at which an hour partition starts. */
export function partitionStart(p: Partition): number {
  const t = Date.parse(`${p.dt}T${p.hour}:00:00Z`);
  if (!Number.isFinite(t)) throw new Error(`compaction: not a partition: ${JSON.stringify(p)}`);
  return t;
}

/**
 * An hour partition is closed when its end plus the allowed lateness is before `now`: the lake
 * writer may still add files to it until then (events up to the allowed lateness late), and
 * rarely after (later events still land in their hour; a later run compacts them in).
 */
export function isClosed(p: Partition, now: number, allowedLatenessSeconds: number): boolean {
  return partitionStart(p) + HOUR_MS + allowedLatenessSeconds * 1000 < now;
}

/** The partition `hours` hours after `p`. */
export function addHours(p: Partition, hours: number): Partition {
  return partitionOf(partitionStart(p) + hours * HOUR_MS);
}

export const partitionId = (format: LakeFormat, table: LakeTable, p: Partition) => `${format}/${table}/${partitionPath(p)}`;

// ---------------------------------------------------------------------------------------------
// Naming

const COMPACTED = /^compacted-([0-9a-f]{16})-(\d{4,})$/;

/** 16 hex digits of SHA-256 over the sorted input keys: the same inputs give the same names. */
export function compactionHash(inputs: readonly string[]): string {
  return createHash('sha256').update([...inputs].sort().join('\n')).digest('hex').slice(0, 16);
}

/** The manifest name and the output file ids of compacting `inputs` into `count` files. */
export function compactionNames(inputs: readonly string[], count: number): { name: string; fileIds: string[] } {
  const hash = compactionHash(inputs);
  return { name: `compacted-${hash}`, fileIds: Array.from({ length: count }, (_, i) => `compacted-${hash}-${String(i).padStart(4, '0')}`) };
}

/** The hash of a compacted file's id, or undefined for a file the lake writer wrote. */
export function compactedHashOf(fileId: string): string | undefined {
  return COMPACTED.exec(fileId)?.[1];
}

/**
 * A partition needs compacting unless its files are all the outputs of one compaction (and it
 * has files at all): more than one batch file, a single batch file, or the outputs of an earlier
 * compaction beside files that arrived since.
 */
export function needsCompaction(fileIds: readonly string[]): boolean {
  if (fileIds.length === 0) return false;
  const hashes = new Set(fileIds.map(compactedHashOf));
  return hashes.size !== 1 || hashes.has(undefined);
}

// ---------------------------------------------------------------------------------------------
// Rows: dedupe, order, split

type Rec = Record<string, unknown>;

export interface TableRules {
  /** Identity of a row: rows with the same key are the same fact. */
  key(r: Rec): string;
  /** Whether `candidate` should replace `kept` for the same key. */
  replaces(candidate: Rec, kept: Rec): boolean;
  /** Order of rows in compacted files: by event time (or window start), then a tie-break. */
  compare(a: Rec, b: Rec): number;
}

const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));
const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Numbers numerically, anything else as text. */
const cmpValue = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : cmpStr(str(a), str(b)));
const cmpFields = (fields: readonly string[]) => (a: Rec, b: Rec) => {
  for (const f of fields) {
    const c = cmpValue(a[f], b[f]);
    if (c !== 0) return c;
  }
  return 0;
};

/**
 * Events of a stream or events table: an event is its stream (the row's `type`, or the stream
 * table's own) and its identity fields' values; the earliest received copy is kept.
 */
function eventRules(pipeline: Pipeline, streams: readonly string[], implied: string | undefined): TableRules {
  const typeOf = (r: Rec) => str(r.type ?? implied);
  const identity = new Map(streams.map((s) => [s, streamOf(pipeline, s).identity]));
  const identityOf = (r: Rec) => identity.get(typeOf(r)) ?? [];
  return {
    key: (r) => `${typeOf(r)}\u0000${JSON.stringify(identityOf(r).map((f) => r[f] ?? null))}`,
    // The earliest received copy; among equals the first seen (inputs are read in key order).
    replaces: (c, k) => num(c.received_at) < num(k.received_at),
    compare: (a, b) => num(a.event_time) - num(b.event_time) || cmpStr(typeOf(a), typeOf(b)) || cmpFields(identityOf(a))(a, b),
  };
}

/** Revisions of an aggregation's rows: a row is its group and window; closed windows are final, so the highest revision is kept. */
function aggregateRules(groupBy: readonly string[]): TableRules {
  const byGroup = cmpFields(groupBy);
  return {
    key: (r) => `${JSON.stringify(groupBy.map((g) => r[g] ?? null))}\u0000${str(r.period)}`,
    replaces: (c, k) => num(c.revision) > num(k.revision),
    compare: (a, b) => num(a.period) - num(b.period) || byGroup(a, b),
  };
}

export function rulesFor(table: LakeTable, pipeline: Pipeline = activePipeline()): TableRules {
  const def = lakeTablesOf(pipeline).find((t) => t.name === table);
  if (!def) throw new Error(`compaction: no lake table ${table}`);
  if (def.kind === 'built') throw new Error(`compaction: ${table} is rebuilt from its sources, not compacted`);
  if (def.kind === 'aggregation') {
    const a = pipeline.aggregations.find((x) => x.name === def.aggregation)!;
    return aggregateRules(a.groupBy.map((g) => g.name));
  }
  return eventRules(pipeline, def.streams, def.kind === 'stream' ? def.streams[0] : undefined);
}

/**
 * Rows deduplicated by the table's identity (events: stream and identity, earliest received_at
 * kept; aggregation revisions: group and period, highest revision kept) and sorted by event time.
 * Deterministic for the same input order.
 */
export function compactRows<R extends Rec>(table: LakeTable, rows: readonly R[]): R[] {
  const rules = rulesFor(table);
  const kept = new Map<string, R>();
  for (const r of rows) {
    const k = rules.key(r);
    const prev = kept.get(k);
    if (prev === undefined || rules.replaces(r, prev)) kept.set(k, r);
  }
  return [...kept.values()].sort(rules.compare);
}

export const DEFAULT_TARGET_FILE_BYTES = 128 * 1024 * 1024;

/**
 * How many files `rows` rows make at `targetFileBytes` each, estimating a row's size from the
 * inputs (`inputBytes` for `inputRows` rows, duplicates included): at least one file for any rows.
 */
export function outputFileCount(rows: number, inputRows: number, inputBytes: number, targetFileBytes: number): number {
  if (rows <= 0) return 0;
  const bytesPerRow = inputRows > 0 ? inputBytes / inputRows : 0;
  return Math.max(1, Math.ceil((rows * bytesPerRow) / Math.max(1, targetFileBytes)));
}

/** Rows split into `count` files of near-equal row counts, keeping their order. */
export function splitRows<R>(rows: readonly R[], count: number): R[][] {
  const out: R[][] = [];
  for (let i = 0; i < count; i++) out.push(rows.slice(Math.floor((i * rows.length) / count), Math.floor(((i + 1) * rows.length) / count)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Manifests: recovery and visibility

/** LIST requests of a run on a lake of under 1,000 objects per format: the manifests, then raw/ and parquet/ (compact.ts listAll). */
export const COMPACTION_LISTS_PER_RUN = 1 + Object.keys(LAKE_PREFIXES).length;

/** A manifest is left by a crash, or is being worked on by a run still going, for at most this long. */
export const DEFAULT_STALE_MANIFEST_MS = 15 * 60_000;

export type RecoveryAction =
  /** Every output is written: delete the inputs, then the manifest (steps c and d). */
  | 'finish'
  /** Outputs missing and the manifest is stale: delete the outputs written, then the manifest. */
  | 'rollback'
  /** Outputs missing but the manifest is recent: a run may still be writing them; leave it. */
  | 'in-flight';

/**
 * What a run does with a manifest it finds. A manifest younger than `staleManifestMs` whose
 * outputs are not all there may belong to a run still writing them (a scheduled run beside
 * `sdp compact`): rolling it back would delete outputs that run is about to commit, so it is left
 * for a later run, and readers meanwhile see its inputs.
 */
export function recoveryAction(manifest: Pick<CompactionManifest, 'outputs' | 'createdAt'>, exists: (key: string) => boolean, now: number, staleManifestMs = DEFAULT_STALE_MANIFEST_MS): RecoveryAction {
  if (manifest.outputs.every(exists)) return 'finish';
  const created = Date.parse(manifest.createdAt);
  return Number.isFinite(created) && now - created < staleManifestMs ? 'in-flight' : 'rollback';
}

/**
 * The keys a reader that honours manifests sees: while a manifest exists, its inputs are hidden
 * when all its outputs exist, else its outputs are.
 */
export function visibleKeys(keys: readonly string[], manifests: readonly Pick<CompactionManifest, 'inputs' | 'outputs'>[]): string[] {
  const present = new Set(keys);
  const hidden = new Set<string>();
  for (const m of manifests) {
    const complete = m.outputs.every((k) => present.has(k));
    for (const k of complete ? m.inputs : m.outputs) hidden.add(k);
  }
  return keys.filter((k) => !hidden.has(k));
}

/** Whether a parsed JSON value has the shape of a CompactionManifest. */
export function isManifest(value: unknown): value is CompactionManifest {
  const m = value as CompactionManifest;
  return (
    typeof m === 'object' &&
    m !== null &&
    (m.format === 'raw' || m.format === 'parquet') &&
    isTable(m.table) &&
    typeof m.partition?.dt === 'string' &&
    typeof m.partition?.hour === 'string' &&
    Array.isArray(m.inputs) &&
    m.inputs.every((k) => typeof k === 'string') &&
    Array.isArray(m.outputs) &&
    m.outputs.every((k) => typeof k === 'string') &&
    typeof m.createdAt === 'string'
  );
}

// ---------------------------------------------------------------------------------------------
// Built tables (schemas/pipeline.ts LakeTableDeclaration)

/**
 * The hours whose joined events a built table's rows of hour `p` read: that hour and the following
 * ones up to the allowed lateness plus one hour.
 */
export function builtSourceHours(p: Partition, allowedLatenessSeconds: number): Partition[] {
  const extra = Math.ceil(allowedLatenessSeconds / 3600) + 1;
  return Array.from({ length: extra + 1 }, (_, i) => addHours(p, i));
}

/** The deterministic file id of a built table's partition: the table's name (rewritten whole, so reruns overwrite it). */
export const builtFileId = (table: LakeTable): string => table;
