/**
 * Compaction's decisions (lambdas/compaction/plan.ts): keys, the closed-partition rule, naming,
 * which partitions need work, dedupe and order of rows, splitting, manifest recovery and what
 * readers see while manifests stand.
 */
import {
  addHours,
  builtSourceHours as auctionSourceHours,
  compactRows,
  compactedHashOf,
  compactionHash,
  compactionNames,
  isClosed,
  isManifest,
  isManifestKey,
  needsCompaction,
  outputFileCount,
  parseLakeKey,
  recoveryAction,
  splitRows,
  visibleKeys,
} from '../../lambdas/compaction/plan';
import { didWork, type CompactionReport } from '../../lambdas/compaction/compact';
import { compactionManifestKey, parquetKey, rawKey } from '../../schemas/lake';

const P = { dt: '2026-11-21', hour: '10' };
const H10 = Date.UTC(2026, 10, 21, 10);

describe('lake keys', () => {
  it('parses data keys and refuses others', () => {
    expect(parseLakeKey(parquetKey('bcns', P, 'shardId-1-2'))).toEqual({ key: 'parquet/bcns/dt=2026-11-21/hour=10/shardId-1-2.parquet', format: 'parquet', table: 'bcns', partition: P, fileId: 'shardId-1-2' });
    expect(parseLakeKey(rawKey('aggregates', P, 'x'))?.fileId).toBe('x');
    expect(parseLakeKey('parquet/bcns/dt=2026-11-21/hour=10/x.json.gz')).toBeUndefined();
    expect(parseLakeKey('raw/nope/dt=2026-11-21/hour=10/x.json.gz')).toBeUndefined();
    expect(parseLakeKey('parquet/bcns/x.parquet')).toBeUndefined();
    expect(parseLakeKey('errors/x.json.gz')).toBeUndefined();
    expect(isManifestKey(compactionManifestKey('raw', 'bids', P, 'compacted-0123456789abcdef'))).toBe(true);
    expect(isManifestKey('compaction/notes.txt')).toBe(false);
  });
});

describe('closed partitions', () => {
  it('closes an hour once its end plus the allowed lateness has passed', () => {
    const end = H10 + 3_600_000;
    expect(isClosed(P, end + 3600_000, 3600)).toBe(false);
    expect(isClosed(P, end + 3600_000 + 1, 3600)).toBe(true);
    expect(isClosed(P, end + 1001, 1)).toBe(true);
    expect(isClosed(P, end + 999, 1)).toBe(false);
    expect(isClosed(P, H10 + 1000, 0)).toBe(false);
  });

  it('steps hours across days', () => {
    expect(addHours({ dt: '2026-11-21', hour: '23' }, 1)).toEqual({ dt: '2026-11-22', hour: '00' });
    expect(auctionSourceHours(P, 3600)).toEqual([P, addHours(P, 1), addHours(P, 2)]);
    expect(auctionSourceHours(P, 7200)).toHaveLength(4);
    expect(auctionSourceHours(P, 1)).toHaveLength(3);
  });
});

describe('naming', () => {
  const inputs = ['parquet/bcns/dt=2026-11-21/hour=10/b.parquet', 'parquet/bcns/dt=2026-11-21/hour=10/a.parquet'];

  it('derives names from the sorted inputs, so a rerun writes the same keys', () => {
    expect(compactionHash(inputs)).toBe(compactionHash([...inputs].reverse()));
    expect(compactionHash(inputs)).not.toBe(compactionHash(inputs.slice(1)));
    const { name, fileIds } = compactionNames(inputs, 2);
    expect(name).toMatch(/^compacted-[0-9a-f]{16}$/);
    expect(fileIds).toEqual([`${name}-0000`, `${name}-0001`]);
    expect(compactedHashOf(fileIds[1])).toBe(compactionHash(inputs));
    expect(compactedHashOf('shardId-000000000001-4959')).toBeUndefined();
  });

  it("compacts partitions unless they hold exactly one compaction's outputs", () => {
    const { fileIds } = compactionNames(inputs, 3);
    const other = compactionNames(['x'], 1).fileIds;
    expect(needsCompaction([])).toBe(false);
    expect(needsCompaction(['shardId-1-1'])).toBe(true);
    expect(needsCompaction(['shardId-1-1', 'shardId-1-2'])).toBe(true);
    expect(needsCompaction(fileIds.slice(0, 1))).toBe(false);
    expect(needsCompaction(fileIds)).toBe(false);
    expect(needsCompaction([...fileIds, 'shardId-1-9'])).toBe(true);
    expect(needsCompaction([...fileIds, ...other])).toBe(true);
  });
});

describe('rows', () => {
  const ev = (type: string, tx_id: string, event_time: number, received_at: number, extra: object = {}) => ({ type, tx_id, event_time, received_at, ...extra });

  it('keeps each event (type, tx_id) once, the earliest received, sorted by event time', () => {
    const rows = [ev('bid', 't2', 20, 101), ev('impression', 't1', 15, 50), ev('bid', 't1', 10, 60, { copy: 1 }), ev('bid', 't1', 10, 40, { copy: 2 }), ev('bid', 't1', 10, 40, { copy: 3 }), ev('bid', 't2', 20, 100)];
    expect(compactRows('bcns', rows)).toEqual([ev('bid', 't1', 10, 40, { copy: 2 }), ev('impression', 't1', 15, 50), ev('bid', 't2', 20, 100)]);
  });

  it('dedupes per-type tables by tx_id, their rows having no type column', () => {
    const rows = [{ tx_id: 'a', event_time: 2, received_at: 3 }, { tx_id: 'a', event_time: 2, received_at: 1 }, { tx_id: 'b', event_time: 1, received_at: 1 }];
    expect(compactRows('bids', rows)).toEqual([rows[2], rows[1]]);
  });

  it('keeps the highest revision of each aggregate (campaign, window)', () => {
    const agg = (campaign_item_id: number, period: number, revision: number) => ({ campaign_item_id, period, revision, bids: revision });
    const rows = [agg(1, 60, 1), agg(2, 0, 4), agg(1, 60, 3), agg(1, 60, 2), agg(1, 0, 1)];
    expect(compactRows('aggregates', rows)).toEqual([agg(1, 0, 1), agg(2, 0, 4), agg(1, 60, 3)]);
  });

  it('refuses to compact auctions, which are rebuilt', () => {
    expect(() => compactRows('auctions', [])).toThrow(/auctions/);
  });

  it('splits rows into files of about the target size', () => {
    expect(outputFileCount(0, 10, 1000, 100)).toBe(0);
    expect(outputFileCount(10, 10, 1000, 10_000)).toBe(1);
    expect(outputFileCount(10, 20, 1000, 100)).toBe(5); // 50 bytes a row, 500 bytes
    expect(outputFileCount(1, 0, 0, 100)).toBe(1);
    const rows = Array.from({ length: 10 }, (_, i) => i);
    expect(splitRows(rows, 3)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]);
    expect(splitRows(rows, 1)).toEqual([rows]);
    expect(splitRows(rows, 0)).toEqual([]);
  });
});

describe('manifest recovery and visibility', () => {
  const now = Date.parse('2026-11-21T12:00:00Z');
  const manifest = (outputs: string[], createdAt = '2026-11-21T11:00:00Z') => ({ inputs: ['a', 'b'], outputs, createdAt });

  it('finishes a manifest whose outputs are all written', () => {
    expect(recoveryAction(manifest(['o1', 'o2']), (k) => ['a', 'o1', 'o2'].includes(k), now)).toBe('finish');
    expect(recoveryAction(manifest([]), () => false, now)).toBe('finish');
  });

  it('rolls back a stale manifest with outputs missing, and leaves a recent one to its run', () => {
    const exists = (k: string) => ['a', 'b', 'o1'].includes(k);
    expect(recoveryAction(manifest(['o1', 'o2']), exists, now)).toBe('rollback');
    expect(recoveryAction(manifest(['o1', 'o2'], '2026-11-21T11:59:00Z'), exists, now)).toBe('in-flight');
    expect(recoveryAction(manifest(['o1', 'o2'], '2026-11-21T11:59:00Z'), exists, now, 0)).toBe('rollback');
    expect(recoveryAction(manifest(['o1', 'o2'], 'garbage'), exists, now)).toBe('rollback');
  });

  it('shows readers every row once at each step of the protocol', () => {
    const m = manifest(['o1', 'o2']);
    // (a) manifest written, no outputs yet: inputs.
    expect(visibleKeys(['a', 'b', 'c'], [m])).toEqual(['a', 'b', 'c']);
    // (b) some outputs: still the inputs.
    expect(visibleKeys(['a', 'b', 'c', 'o1'], [m])).toEqual(['a', 'b', 'c']);
    // all outputs: the outputs, also while inputs are being deleted (c).
    expect(visibleKeys(['a', 'b', 'c', 'o1', 'o2'], [m])).toEqual(['c', 'o1', 'o2']);
    expect(visibleKeys(['b', 'c', 'o1', 'o2'], [m])).toEqual(['c', 'o1', 'o2']);
    // (d) manifest gone.
    expect(visibleKeys(['c', 'o1', 'o2'], [])).toEqual(['c', 'o1', 'o2']);
  });

  it('recognises manifests', () => {
    expect(isManifest({ format: 'raw', table: 'bids', partition: P, inputs: ['a'], outputs: ['b'], createdAt: 'x' })).toBe(true);
    expect(isManifest({ format: 'csv', table: 'bids', partition: P, inputs: [], outputs: [], createdAt: 'x' })).toBe(false);
    expect(isManifest({ format: 'raw', table: 'bids', partition: P, inputs: [1], outputs: [], createdAt: 'x' })).toBe(false);
    expect(isManifest(null)).toBe(false);
  });
});

describe('metrics of a run (CloudWatch bills a custom metric for each hour it is sent)', () => {
  const idle: CompactionReport = {
    partitions: 0, unreadable: [], recovered: 0, rolledBack: 0, superseded: [], kept: [], inFlight: [], built: 0, builtRows: 0, details: [], durationMs: 5,
    filesBefore: 0, bytesBefore: 0, filesAfter: 0, bytesAfter: 0, rowsBefore: 0, rowsAfter: 0,
  };

  it('are sent only by a run that did or found something: an idle lake sends none', () => {
    expect(didWork(idle)).toBe(false);
    expect(didWork({ ...idle, inFlight: ['a manifest another run is writing'] })).toBe(false);
    for (const busy of [{ partitions: 2 }, { built: 1 }, { recovered: 1 }, { unreadable: [{ key: 'k', reason: 'r' }] }, { superseded: ['p'] }, { kept: ['k'] }]) {
      expect(didWork({ ...idle, ...busy })).toBe(true);
    }
  });
});
