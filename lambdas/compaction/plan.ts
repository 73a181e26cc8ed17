/**
 * What compaction decides, as pure functions (unit-tested in test/unit/compaction-plan.test.ts):
 * which lake keys belong to which table and partition, when an hour partition is closed, how
 * compacted files are named (from a hash of their inputs, so a rerun over the same inputs writes
 * the same names), whether a partition needs compacting, how rows are deduplicated and ordered,
 * how they are split into files, what to do with a manifest left by an interrupted run, and which
 * files a reader sees while manifests exist. The S3 side is in compact.ts.
 */
import { createHash } from 'node:crypto';
import {
  LAKE_PREFIXES,
  LAKE_TABLES,
  COMPACTION_PREFIX,
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

const DATA_KEY = /^(raw|parquet)\/([a-z]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/]+)$/;
const MANIFEST_KEY = /^compaction\/(raw|parquet)\/([a-z]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/]+)\.json$/;

function isTable(name: string): name is LakeTable {
  return (LAKE_TABLES as readonly string[]).includes(name);
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

/** The event type the per-type tables imply (their Parquet rows have no `type` column). */
const IMPLIED_TYPE: Partial<Record<LakeTable, string>> = { bids: 'bid', impressions: 'impression', clicks: 'click' };

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

function eventRules(table: LakeTable): TableRules {
  const implied = IMPLIED_TYPE[table];
  const typeOf = (r: Rec) => str(r.type ?? implied);
  return {
    key: (r) => `${typeOf(r)}\u0000${str(r.tx_id)}`,
    // The earliest received copy; among equals the first seen (inputs are read in key order).
    replaces: (c, k) => num(c.received_at) < num(k.received_at),
    compare: (a, b) => num(a.event_time) - num(b.event_time) || cmpStr(typeOf(a), typeOf(b)) || cmpStr(str(a.tx_id), str(b.tx_id)),
  };
}

const aggregateRules: TableRules = {
  key: (r) => `${str(r.campaign_item_id)}\u0000${str(r.period)}`,
  // Closed windows are final: only the highest revision of a (campaign, window) row is kept.
  replaces: (c, k) => num(c.revision) > num(k.revision),
  compare: (a, b) => num(a.period) - num(b.period) || num(a.campaign_item_id) - num(b.campaign_item_id),
};

export function rulesFor(table: LakeTable): TableRules {
  if (table === 'auctions') throw new Error('compaction: auctions are rebuilt from bids, not compacted');
  return table === 'aggregates' ? aggregateRules : eventRules(table);
}

/**
 * Rows deduplicated by the table's identity (events: (type, tx_id), earliest received_at kept;
 * aggregates: (campaign_item_id, period), highest revision kept) and sorted by event time.
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
// Auctions

/**
 * The hours whose impressions and clicks join the bids of hour `p`: that hour and the following
 * ones up to the allowed lateness plus one hour.
 */
export function auctionSourceHours(p: Partition, allowedLatenessSeconds: number): Partition[] {
  const extra = Math.ceil(allowedLatenessSeconds / 3600) + 1;
  return Array.from({ length: extra + 1 }, (_, i) => addHours(p, i));
}

/** The deterministic file id of a partition's auctions (rewritten whole, so reruns overwrite it). */
export const AUCTIONS_FILE_ID = 'auctions';
