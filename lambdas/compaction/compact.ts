/**
 * Lake compaction over the S3 API (the Lambda in AWS, s3rver locally): merges the many small files
 * the lake writer leaves in each closed hour partition into files of about a target size, each
 * row once (events by stream and identity, aggregation revisions at their highest), sorted by
 * event time; then rebuilds the pipeline's built tables for every closed hour
 * of their stream whose sources changed.
 *
 * Commit protocol per partition, crash-safe and idempotent:
 *   (a) PUT the manifest `compaction/<format>/<table>/dt=…/hour=…/compacted-<hash>.json`
 *       (schemas/lake.ts CompactionManifest: inputs and outputs);
 *   (b) PUT every output `compacted-<hash>-<nnnn>` (hash of the sorted input keys: a rerun over
 *       the same inputs writes the same keys and bytes);
 *   (c) DELETE the inputs (DeleteObjects, ≤ 1000 keys a call), each only if it still has the ETag
 *       it had when read (a conditional delete);
 *   (d) DELETE the manifest.
 * A lake-writer retry may rewrite an input (the same key, maybe more rows) while a run compacts
 * its partition. Just before (c) the run lists the partition again: if an input's ETag changed,
 * it rolls back (deletes its outputs and manifest) and leaves the partition to the next run. An
 * input rewritten between that listing and (c) fails its conditional delete and is kept, next to
 * the outputs: its old rows are then seen twice until the next run merges them, but none is lost.
 * Readers honour manifests: while one exists they ignore its inputs if all its outputs exist, else
 * its outputs. So at every point each row is seen exactly once. Each run first recovers the
 * manifests it finds (plan.ts recoveryAction): all outputs there → finish (c) and (d); else, once
 * the manifest is older than `staleManifestMs` (a run still writing it would otherwise lose its
 * outputs), delete the outputs written and the manifest, and compact the partition again.
 *
 * Runs must not overlap in compacting (one Lambda at a time: reserved concurrency 1; locally one
 * scheduler or CLI run at a time): two runs listing different inputs of one partition would both
 * commit. The lake writer may keep adding files meanwhile: files listed after a run started are
 * compacted by a later run.
 */
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  COMPACTION_PREFIX,
  LAKE_PREFIXES,
  compactionManifestKey,
  lakeTableList,
  parquetKey,
  partitionPath,
  partitionPrefix,
  rawKey,
  type CompactionManifest,
  type LakeFormat,
  type LakeRow,
  type LakeTable,
  type Partition,
} from '../../schemas/lake';
import { activePipeline } from '../../schemas/active-pipeline';
import { streamOf, type BuiltTableSpec } from '../../schemas/pipeline';
import type { StreamRecord } from '../../schemas/stream-record';
import { toNdjsonGzip, toParquet } from '../lake-writer/parquet';
import { readLakeFile, UnreadableFile, type Decoded } from './files';
import {
  DEFAULT_STALE_MANIFEST_MS,
  DEFAULT_TARGET_FILE_BYTES,
  builtFileId,
  builtSourceHours,
  compactRows,
  compactionNames,
  isClosed,
  isManifest,
  isManifestKey,
  needsCompaction,
  outputFileCount,
  parseLakeKey,
  partitionId,
  recoveryAction,
  splitRows,
  visibleKeys,
  type LakeFile,
} from './plan';

export interface CompactOptions {
  s3: S3Client;
  bucket: string;
  /** Epoch ms: partitions whose end plus the allowed lateness is before this are closed. */
  now: number;
  allowedLatenessSeconds: number;
  /** About how large a compacted file gets (default 128 MiB), estimated from the inputs' bytes per row. */
  targetFileBytes?: number;
  /** Tables to compact (default: every table; a built table means rebuilding it from its sources). */
  tables?: readonly LakeTable[];
  /** A manifest with outputs missing is rolled back only once this old (default 15 min). */
  staleManifestMs?: number;
  /** Partitions compacted at once (default 4). */
  concurrency?: number;
  onProgress?: (progress: CompactionProgress) => void;
}

export interface CompactionProgress {
  phase: 'list' | 'recover' | 'compact' | 'built';
  message: string;
}

/** Files and bytes of compacted inputs and of their outputs; rows read (duplicates and superseded revisions included) and written. */
export interface CompactionFigures {
  filesBefore: number;
  bytesBefore: number;
  filesAfter: number;
  bytesAfter: number;
  rowsBefore: number;
  rowsAfter: number;
}

export interface PartitionReport extends CompactionFigures {
  format: LakeFormat;
  table: LakeTable;
  partition: Partition;
}

export interface CompactionReport extends CompactionFigures {
  /** Partitions compacted (format × table × hour). */
  partitions: number;
  /** Files that could not be read as their format or table: left in place. */
  unreadable: { key: string; reason: string }[];
  /** Manifests of interrupted runs handled: finished or rolled back. */
  recovered: number;
  /** Of those, the ones rolled back (their partition compacted again). */
  rolledBack: number;
  /** Partitions left to the next run because an input was rewritten while this one compacted them. */
  superseded: string[];
  /** Inputs rewritten just before their delete: kept, their partition compacted again next run. */
  kept: string[];
  /** Manifests left alone because a run may still be writing them (younger than staleManifestMs). */
  inFlight: string[];
  /**
   * Partitions of built tables (schemas/pipeline.ts LakeTableDeclaration) (re)built, each written
   * as Parquet and raw, and their rows (`sdp compact --json` prints them under these names).
   */
  built: number;
  builtRows: number;
  details: PartitionReport[];
  durationMs: number;
}

/**
 * Whether a run did or found anything: compacted, rebuilt or recovered a partition, left one to the
 * next run, or met an unreadable file. A run that did not publishes no metrics (handler.ts):
 * CloudWatch bills a custom metric for each hour it is sent, so an idle lake's hourly runs would
 * otherwise keep every compaction metric billed.
 */
export function didWork(report: CompactionReport): boolean {
  return report.partitions + report.built + report.recovered + report.unreadable.length + report.superseded.length + report.kept.length > 0;
}

interface ObjectInfo {
  size: number;
  lastModified: number;
  etag?: string;
}

/** An object key and the ETag it must still have to be deleted (none: delete whatever it holds). */
interface Deletion {
  key: string;
  etag?: string;
}

const PARQUET_TYPE = 'application/vnd.apache.parquet';
const NDJSON_TYPE = 'application/x-ndjson';
const DELETE_BATCH = 1000;
/** Input files fetched at once per partition. */
const READ_CONCURRENCY = 8;

// ---------------------------------------------------------------------------------------------
// S3

class Lake {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async list(prefix: string): Promise<Map<string, ObjectInfo>> {
    const out = new Map<string, ObjectInfo>();
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) out.set(o.Key, { size: o.Size ?? 0, lastModified: o.LastModified?.getTime() ?? 0, etag: o.ETag });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async get(key: string): Promise<{ bytes: Uint8Array; etag?: string }> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return { bytes: await res.Body!.transformToByteArray(), etag: res.ETag };
  }

  async put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async deleteOne(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /**
   * Deletes objects, 1000 a call, each with an ETag only if it still has it; deleting a key that is
   * gone already is not an error. Returns the keys kept because their ETag changed.
   */
  async deleteMany(deletions: readonly (string | Deletion)[]): Promise<Set<string>> {
    const kept = new Set<string>();
    const all = deletions.map((d) => (typeof d === 'string' ? { key: d } : d));
    for (let i = 0; i < all.length; i += DELETE_BATCH) {
      const part = all.slice(i, i + DELETE_BATCH);
      const Objects = part.map((d) => (d.etag ? { Key: d.key, ETag: d.etag } : { Key: d.key }));
      const res = await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } }));
      for (const e of res.Errors ?? []) if (e.Code === 'PreconditionFailed' && e.Key) kept.add(e.Key);
      const errors = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey' && e.Code !== 'PreconditionFailed');
      if (errors.length > 0) throw new Error(`compaction: could not delete ${errors.length} objects, e.g. ${errors[0].Key}: ${errors[0].Code} ${errors[0].Message}`);
    }
    return kept;
  }
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failure) throw failure.error;
}

// ---------------------------------------------------------------------------------------------
// The run

class Run {
  readonly lake: Lake;
  readonly report: CompactionReport = {
    partitions: 0,
    filesBefore: 0,
    bytesBefore: 0,
    filesAfter: 0,
    bytesAfter: 0,
    rowsBefore: 0,
    rowsAfter: 0,
    unreadable: [],
    recovered: 0,
    rolledBack: 0,
    superseded: [],
    kept: [],
    inFlight: [],
    built: 0,
    builtRows: 0,
    details: [],
    durationMs: 0,
  };
  /** Every data object of the lake, kept current as this run writes and deletes. */
  readonly objects = new Map<string, ObjectInfo>();
  /** Manifests still standing after recovery (in flight in another run). */
  readonly standing: CompactionManifest[] = [];
  private readonly unreadableKeys = new Set<string>();
  private readonly target: number;
  private readonly tables: ReadonlySet<LakeTable>;
  /** Tables rebuilt from their sources, never compacted. */
  readonly built: ReadonlySet<LakeTable> = new Set(lakeTableList().filter((t) => t.kind === 'built').map((t) => t.name));

  constructor(readonly options: CompactOptions) {
    this.lake = new Lake(options.s3, options.bucket);
    this.target = options.targetFileBytes ?? DEFAULT_TARGET_FILE_BYTES;
    this.tables = new Set(options.tables ?? lakeTableList().map((t) => t.name));
  }

  progress(phase: CompactionProgress['phase'], message: string): void {
    this.options.onProgress?.({ phase, message });
  }

  unreadable(key: string, reason: string): void {
    if (this.unreadableKeys.has(key)) return;
    this.unreadableKeys.add(key);
    this.report.unreadable.push({ key, reason });
  }

  /** Reads and decodes a file (with the ETag of what was read), or reports it unreadable and returns undefined. */
  async read(file: LakeFile): Promise<{ records: Decoded; etag?: string } | undefined> {
    if (this.unreadableKeys.has(file.key)) return undefined;
    const { bytes, etag } = await this.lake.get(file.key);
    try {
      return { records: await readLakeFile(file.format, file.table, bytes), etag };
    } catch (err) {
      if (!(err instanceof UnreadableFile)) throw err;
      this.unreadable(file.key, err.message);
      return undefined;
    }
  }

  async listAll(): Promise<Map<string, ObjectInfo>> {
    const manifests = await this.lake.list(COMPACTION_PREFIX);
    // One listing per format, not per table: an idle run makes 3 LIST requests, not 13 (S3 bills
    // each, $0.005 per 1,000), and a large lake fewer part-filled pages. Keys of other folders
    // (`<format>/<table>/…` with a table the lake does not have) are left out.
    const tables = new Set<string>(lakeTableList().map((t) => t.name));
    for (const prefix of Object.values(LAKE_PREFIXES)) {
      for (const [k, v] of await this.lake.list(`${prefix}/`)) if (tables.has(k.split('/')[1])) this.objects.set(k, v);
    }
    this.progress('list', `${this.objects.size} lake objects, ${manifests.size} manifests`);
    return manifests;
  }

  // -- recovery ---------------------------------------------------------------------------------

  async recover(manifestKeys: readonly string[]): Promise<void> {
    const stale = this.options.staleManifestMs ?? DEFAULT_STALE_MANIFEST_MS;
    for (const key of manifestKeys) {
      if (!isManifestKey(key)) continue;
      let manifest: unknown;
      try {
        manifest = JSON.parse(Buffer.from((await this.lake.get(key)).bytes).toString('utf8'));
      } catch {
        manifest = undefined;
      }
      if (!isManifest(manifest)) {
        // Readers ignore a manifest they cannot read; so does compaction, leaving it for a person.
        this.unreadable(key, 'not a compaction manifest');
        continue;
      }
      const action = recoveryAction(manifest, (k) => this.objects.has(k), Date.now(), stale);
      if (action === 'in-flight') {
        this.report.inFlight.push(key);
        this.standing.push(manifest);
        this.progress('recover', `${key}: outputs missing, recent: left for the run writing it`);
        continue;
      }
      if (action === 'finish') {
        const kept = await this.lake.deleteMany(manifest.inputs.map((k) => ({ key: k, etag: manifest.inputETags?.[k] })));
        this.report.kept.push(...kept);
        for (const k of manifest.inputs) if (!kept.has(k)) this.objects.delete(k);
      } else {
        const written = manifest.outputs.filter((k) => this.objects.has(k));
        await this.lake.deleteMany(written);
        for (const k of written) this.objects.delete(k);
        this.report.rolledBack++;
      }
      await this.lake.deleteOne(key);
      this.report.recovered++;
      this.progress('recover', `${key}: ${action === 'finish' ? 'finished' : 'rolled back'}`);
    }
  }

  // -- compaction -------------------------------------------------------------------------------

  /** Closed partitions of the chosen tables (not built tables) and their files, one list each. */
  candidates(): { format: LakeFormat; table: LakeTable; partition: Partition; files: LakeFile[] }[] {
    const blocked = new Set(this.standing.map((m) => partitionId(m.format, m.table, m.partition)));
    const groups = new Map<string, { format: LakeFormat; table: LakeTable; partition: Partition; files: LakeFile[] }>();
    for (const key of this.objects.keys()) {
      const file = parseLakeKey(key);
      if (!file || this.built.has(file.table) || !this.tables.has(file.table)) continue;
      if (!isClosed(file.partition, this.options.now, this.options.allowedLatenessSeconds)) continue;
      const id = partitionId(file.format, file.table, file.partition);
      if (blocked.has(id)) continue;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { format: file.format, table: file.table, partition: file.partition, files: [] }));
      g.files.push(file);
    }
    return [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, g]) => ({ ...g, files: g.files.sort((a, b) => (a.key < b.key ? -1 : 1)) }))
      .filter((g) => needsCompaction(g.files.map((f) => f.fileId)));
  }

  async compactPartition(format: LakeFormat, table: LakeTable, partition: Partition, files: LakeFile[]): Promise<void> {
    const readable: LakeFile[] = [];
    const records: Decoded = [];
    const inputETags: Record<string, string> = {};
    let inputBytes = 0;
    const decodedFiles: ({ records: Decoded; etag?: string } | undefined)[] = new Array(files.length);
    await pool(files.map((f, i) => ({ f, i })), READ_CONCURRENCY, async ({ f, i }) => {
      decodedFiles[i] = await this.read(f);
    });
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      const decoded = decodedFiles[i];
      if (!decoded) continue;
      readable.push(f);
      inputBytes += this.objects.get(f.key)?.size ?? 0;
      for (const r of decoded.records) records.push(r);
      if (decoded.etag) inputETags[f.key] = decoded.etag;
    }
    // Only the outputs of one compaction left once unreadable files are set aside: nothing to do.
    if (!needsCompaction(readable.map((f) => f.fileId))) return;

    const inputs = readable.map((f) => f.key);
    const rows = compactRows(table, records);
    const count = outputFileCount(rows.length, records.length, inputBytes, this.target);
    const { name, fileIds } = compactionNames(inputs, count);
    const parts = splitRows(rows, count);
    const outputs = parts.map((part, i) => {
      const fileId = fileIds[i];
      return format === 'parquet'
        ? { key: parquetKey(table, partition, fileId), body: toParquet(table, part as LakeRow[]), contentType: PARQUET_TYPE }
        : { key: rawKey(table, partition, fileId), body: toNdjsonGzip(part, { level: 6 }), contentType: NDJSON_TYPE };
    });
    const manifestKey = compactionManifestKey(format, table, partition, name);
    const manifest: CompactionManifest = { format, table, partition, inputs, inputETags, outputs: outputs.map((o) => o.key), createdAt: new Date().toISOString() };

    await this.lake.put(manifestKey, JSON.stringify(manifest), 'application/json'); // (a)
    for (const o of outputs) await this.lake.put(o.key, o.body, o.contentType); // (b)
    const id = partitionId(format, table, partition);
    const current = await this.lake.list(partitionPrefix(format, table, partition));
    if (inputs.some((k) => current.get(k)?.etag !== inputETags[k])) {
      // An input was rewritten (or removed) since it was read: undo (a) and (b), compact next run.
      await this.lake.deleteMany(manifest.outputs);
      await this.lake.deleteOne(manifestKey);
      this.report.superseded.push(id);
      this.progress('compact', `${id}: an input changed while compacting; left for the next run`);
      return;
    }
    const kept = await this.lake.deleteMany(inputs.map((k) => ({ key: k, etag: inputETags[k] }))); // (c)
    await this.lake.deleteOne(manifestKey); // (d)
    if (kept.size > 0) {
      this.report.kept.push(...kept);
      this.progress('compact', `${id}: ${kept.size} input(s) rewritten just before their delete, kept; compacted again next run`);
    }

    const written = Date.now();
    for (const k of inputs) if (!kept.has(k)) this.objects.delete(k);
    for (const o of outputs) this.objects.set(o.key, { size: o.body.byteLength, lastModified: written });
    const detail: PartitionReport = {
      format,
      table,
      partition,
      filesBefore: inputs.length,
      bytesBefore: inputBytes,
      filesAfter: outputs.length,
      bytesAfter: outputs.reduce((s, o) => s + o.body.byteLength, 0),
      rowsBefore: records.length,
      rowsAfter: rows.length,
    };
    const r = this.report;
    r.partitions++;
    r.filesBefore += detail.filesBefore;
    r.bytesBefore += detail.bytesBefore;
    r.filesAfter += detail.filesAfter;
    r.bytesAfter += detail.bytesAfter;
    r.rowsBefore += detail.rowsBefore;
    r.rowsAfter += detail.rowsAfter;
    r.details.push(detail);
    this.progress('compact', `${id}: ${detail.filesBefore} files → ${detail.filesAfter}, ${detail.rowsBefore} rows → ${detail.rowsAfter}`);
  }

  // -- built tables -----------------------------------------------------------------------------

  /** The visible data files of a Parquet partition (manifests still standing honoured). */
  private visibleFiles(index: ReadonlyMap<string, string[]>, table: LakeTable, partition: Partition): LakeFile[] {
    const keys = [...(index.get(partitionId('parquet', table, partition)) ?? [])].sort();
    return visibleKeys(keys, this.standing)
      .map(parseLakeKey)
      .filter((f): f is LakeFile => f !== undefined);
  }

  private newest(files: readonly LakeFile[]): number {
    return files.reduce((m, f) => Math.max(m, this.objects.get(f.key)?.lastModified ?? 0), 0);
  }

  /**
   * Rebuilds a built table (schemas/pipeline.ts LakeTableDeclaration) for every closed hour of its stream whose files are
   * missing or older than one of their sources (the stream's table of the hour; the joined streams'
   * tables of it and the following hours up to the allowed lateness + 1 h), by the listing's
   * LastModified: a source compacted or added since is newer. Each file is overwritten whole at a
   * fixed key, so a rerun rewrites the same bytes.
   */
  async rebuild(built: BuiltTableSpec): Promise<void> {
    const pipeline = activePipeline();
    const root = streamOf(pipeline, built.stream);
    const joined = built.joins.map((s) => streamOf(pipeline, s));
    const sourceTables = new Map([root, ...joined].map((s) => [s.lakeTable, s.name]));
    const hours = new Map<string, Partition>();
    const index = new Map<string, string[]>();
    for (const key of this.objects.keys()) {
      const f = parseLakeKey(key);
      if (!f || f.format !== 'parquet' || !sourceTables.has(f.table)) continue;
      const id = partitionId(f.format, f.table, f.partition);
      const keys = index.get(id);
      if (keys) keys.push(key);
      else index.set(id, [key]);
      if (f.table === root.lakeTable && isClosed(f.partition, this.options.now, this.options.allowedLatenessSeconds)) hours.set(partitionPath(f.partition), f.partition);
    }
    const cache = new Map<string, Decoded>();
    const rowsOf = async (files: readonly LakeFile[]) => {
      const out: Decoded = [];
      for (const f of files) {
        let rows = cache.get(f.key);
        if (!rows) {
          rows = (await this.read(f))?.records ?? [];
          cache.set(f.key, rows);
        }
        for (const r of rows) out.push(r);
      }
      return out;
    };
    const byIdentity = (a: LakeRow, b: LakeRow) => {
      for (const f of root.identity) {
        const x = a[f];
        const y = b[f];
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
        if (c !== 0) return c;
      }
      return 0;
    };
    for (const partition of [...hours.values()].sort((a, b) => (partitionPath(a) < partitionPath(b) ? -1 : 1))) {
      const own = this.visibleFiles(index, root.lakeTable, partition);
      if (own.length === 0) continue;
      const sourceHours = builtSourceHours(partition, this.options.allowedLatenessSeconds);
      const others = sourceHours.flatMap((h) => joined.flatMap((s) => this.visibleFiles(index, s.lakeTable, h)));
      const pKey = parquetKey(built.name, partition, builtFileId(built.name));
      const rKey = rawKey(built.name, partition, builtFileId(built.name));
      const pInfo = this.objects.get(pKey);
      const rInfo = this.objects.get(rKey);
      const sourcesNewest = this.newest([...own, ...others]);
      // LastModified has whole seconds: a source written in the table's second counts as older
      // (were it missed, its partition's compaction later makes it newer).
      if (pInfo && rInfo && Math.min(pInfo.lastModified, rInfo.lastModified) >= sourcesNewest) continue;

      // Parquet rows of stream tables have no `type`: the table's stream gives it back.
      const events: Record<string, unknown>[] = [];
      for (const r of await rowsOf(own)) events.push({ ...r, type: root.name });
      for (const h of sourceHours) {
        for (const s of joined) for (const r of await rowsOf(this.visibleFiles(index, s.lakeTable, h))) events.push({ ...r, type: s.name });
      }
      // Earliest received copy of each event first, so the rows keep it.
      events.sort((a, b) => (a.received_at as number) - (b.received_at as number));
      const rows = built.rows(events as StreamRecord[]).sort((a, b) => (a.event_time as number) - (b.event_time as number) || byIdentity(a, b));
      await this.lake.put(pKey, toParquet(built.name, rows), PARQUET_TYPE);
      await this.lake.put(rKey, toNdjsonGzip(rows, { level: 6 }), NDJSON_TYPE);
      const written = Date.now();
      this.objects.set(pKey, { size: 0, lastModified: written });
      this.objects.set(rKey, { size: 0, lastModified: written });
      this.report.built++;
      this.report.builtRows += rows.length;
      this.progress('built', `${built.name} ${partitionPath(partition)}: ${rows.length} rows`);
      // Sources before the next hour's window are not needed again.
      const next = new Set([...sourceHours.slice(1)].map(partitionPath));
      for (const key of cache.keys()) {
        const f = parseLakeKey(key);
        if (!f || !next.has(partitionPath(f.partition)) || f.table === root.lakeTable) cache.delete(key);
      }
    }
  }
}

/**
 * Compacts the lake's closed partitions and rebuilds the built tables' hours; returns what it did. Throws
 * when S3 fails (a rerun picks up where it stopped); unreadable files are reported, not fatal.
 */
export async function compactLake(options: CompactOptions): Promise<CompactionReport> {
  const started = Date.now();
  const run = new Run(options);
  const manifests = await run.listAll();
  await run.recover([...manifests.keys()].sort());
  const candidates = run.candidates();
  run.progress('compact', `${candidates.length} partitions to compact`);
  await pool(candidates, options.concurrency ?? 4, (c) => run.compactPartition(c.format, c.table, c.partition, c.files));
  for (const built of activePipeline().builtTables ?? []) if (!options.tables || options.tables.includes(built.name)) await run.rebuild(built);
  run.report.details.sort((a, b) => (partitionId(a.format, a.table, a.partition) < partitionId(b.format, b.table, b.partition) ? -1 : 1));
  run.report.durationMs = Date.now() - started;
  return run.report;
}
