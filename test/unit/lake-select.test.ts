/**
 * The lake writer's choice of events: each (type, tx_id) in the lake once, across resends and
 * whatever the lake writer re-reads (a retried, bisected or redriven batch, a checkpoint deleted or
 * older, a replay from the stream's start), with batch boundaries other than the first read's.
 * A model of the handler (select, group, overwrite the batch's files, then store the states, with
 * a fault at any point) runs over an in-memory lake whose files are keyed as in S3.
 */
import { fileTag, selectForLake, type LakeSeen, type SequencedEvent as Sequenced } from '../../lambdas/lake-writer/select';
import { eventGroups, fileIdFor } from '../../lambdas/lake-writer/rows';
import { compactRows } from '../../lambdas/compaction/plan';
import { fence } from '../../lambdas/commons/sequence';
import type { EventType, StreamEvent } from '../../pipelines/adtech/events';

type SequencedEvent = Sequenced<StreamEvent>;
const SHARD = 'shardId-000000000000';
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
const RETENTION = 7 * 24 * 3600;
const TTL = 7 * 24 * 3600;
const NOW = 2_000_000_000;

function rec(n: number, type: EventType, tx_id: string, hour = 0, arrivedAt = NOW): SequencedEvent {
  const t = T0 + hour * HOUR + n;
  const base = { tx_id, received_at: t, event_time: t };
  const event = (type === 'bid' ? { ...base, type, app_uid: 'u', campaign_item_id: 1 } : { ...base, type }) as StreamEvent;
  return { seq: fence(String(49_000 + n)), arrivedAt, event };
}
const ids = (events: StreamEvent[]) => events.map((e) => `${e.type}:${e.tx_id}:${e.received_at}`);

/** Where a delivery stops: nothing written, half the files, all files, half the states, everything (then an error, e.g. a timeout). */
type Fault = 'beforeFiles' | 'halfFiles' | 'afterFiles' | 'halfStates' | 'afterStates';
/** Faults after which a read with other boundaries may write an event twice: files written, some states not. */
const WINDOW: readonly Fault[] = ['halfFiles', 'afterFiles', 'halfStates'];

class ModelLake {
  /** `<table>/dt=…/hour=…/<fileId>` → the rows, as s3 keys the files. */
  readonly files = new Map<string, StreamEvent[]>();
  readonly seen = new Map<string, LakeSeen>();
  windowOpened = false;

  /** One invocation of the lake writer on a batch; false when the fault stops it. */
  invoke(batch: readonly SequencedEvent[], fault?: Fault): boolean {
    const raw = (s: string) => BigInt(s).toString();
    const fileId = fileIdFor(SHARD, raw(batch[0].seq), raw(batch[batch.length - 1].seq));
    const { events, states } = selectForLake(batch, this.seen, { fileId, expiresAt: NOW + TTL, retentionSeconds: RETENTION });
    if (fault === 'beforeFiles') return false;
    const groups = eventGroups(events);
    const put = fault === 'halfFiles' ? groups.slice(0, Math.ceil(groups.length / 2)) : groups;
    for (const g of put) this.files.set(`${g.table}/dt=${g.partition.dt}/hour=${g.partition.hour}/${fileId}`, g.records);
    if (WINDOW.includes(fault!) && events.length > 0) this.windowOpened = true;
    if (fault === 'halfFiles' || fault === 'afterFiles') return false;
    const stored = fault === 'halfStates' ? states.filter((_, i) => i % 2 === 0) : states;
    for (const s of stored) this.seen.set(s.tx_id, s);
    return fault === undefined;
  }

  /** Rows of `bcns` per event, in every file, or after compaction (each partition's rows merged, each event once). */
  counts(compacted = false): Map<string, number> {
    const byPartition = new Map<string, StreamEvent[]>();
    for (const [key, rows] of this.files) {
      if (!key.startsWith('bcns/')) continue;
      const partition = key.split('/').slice(0, 3).join('/');
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), ...rows]);
    }
    const out = new Map<string, number>();
    for (const rows of byPartition.values()) {
      for (const e of compacted ? compactRows('bcns', rows as unknown as Record<string, unknown>[]) as unknown as StreamEvent[] : rows) out.set(`${e.type}:${e.tx_id}`, (out.get(`${e.type}:${e.tx_id}`) ?? 0) + 1);
    }
    return out;
  }
}

/** A batch delivered as the event source mapping does: retried after each fault until it succeeds. */
function deliver(lake: ModelLake, batch: readonly SequencedEvent[], faults: Fault[] = []): void {
  for (const f of faults) expect(lake.invoke(batch, f)).toBe(false);
  expect(lake.invoke(batch)).toBe(true);
}
/** A batch that fails once, then is split in halves, each delivered (bisectBatchOnError). */
function deliverBisected(lake: ModelLake, batch: readonly SequencedEvent[], fault: Fault): void {
  expect(lake.invoke(batch, fault)).toBe(false);
  if (batch.length === 1) return deliver(lake, batch);
  const half = Math.ceil(batch.length / 2);
  deliver(lake, batch.slice(0, half));
  deliver(lake, batch.slice(half));
}
/** The records cut into batches of `size` (the framing of one read). */
const framed = (records: readonly SequencedEvent[], size: number) =>
  Array.from({ length: Math.ceil(records.length / size) }, (_, i) => records.slice(i * size, (i + 1) * size));

/** 60 records of 20 auctions over two hours, a fifth of them resends (some much later on the stream). */
function stream(): SequencedEvent[] {
  const out: SequencedEvent[] = [];
  const types: EventType[] = ['bid', 'impression', 'click'];
  let x = 7;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  for (let n = 0; n < 60; n++) {
    const resend = n > 5 && next() % 5 === 0;
    const source = resend ? out[next() % out.length].event : { type: types[next() % 3], tx_id: `t${next() % 20}`, event_time: T0 + (next() % 2) * HOUR };
    out.push(rec(n, source.type, source.tx_id, source.event_time >= T0 + HOUR ? 1 : 0));
  }
  return out;
}
const distinct = (records: readonly SequencedEvent[]) => new Set(records.map((r) => `${r.event.type}:${r.event.tx_id}`));

/** Every distinct event of `records` in the lake exactly once. */
function expectExact(lake: ModelLake, records: readonly SequencedEvent[], compacted = false): void {
  const counts = lake.counts(compacted);
  expect([...counts.keys()].sort()).toEqual([...distinct(records)].sort());
  expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
}
/** No event lost: each distinct event at least once. */
function expectNoLoss(lake: ModelLake, records: readonly SequencedEvent[]): void {
  const counts = lake.counts();
  expect([...distinct(records)].filter((k) => !counts.get(k))).toEqual([]);
}

describe('selectForLake', () => {
  it('keeps the first copy of a resent event within a batch', () => {
    const batch = [rec(1, 'bid', 'a'), rec(2, 'click', 'a'), rec(3, 'bid', 'a'), rec(4, 'bid', 'b')];
    const { events } = selectForLake(batch, new Map(), { fileId: 'f', expiresAt: 0, retentionSeconds: 0 });
    expect(ids(events)).toEqual(ids([batch[0].event, batch[1].event, batch[3].event]));
  });

  it('records the record and the tag of the batch that wrote each event', () => {
    const { states } = selectForLake([rec(1, 'bid', 'a'), rec(2, 'click', 'a')], new Map(), { fileId: 'F', expiresAt: 9, retentionSeconds: 0 });
    expect(states).toEqual([{ tx_id: 'a', bid_seq: fence('49001'), bid_file: fileTag('F'), click_seq: fence('49002'), click_file: fileTag('F'), expires_at: 9 }]);
    expect(fileTag('F')).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  describe('each event once whatever is re-read', () => {
    const records = stream();

    it('a batch retried after a fault at any point, with the same records', () => {
      for (const fault of ['beforeFiles', 'halfFiles', 'afterFiles', 'halfStates', 'afterStates'] as const) {
        const lake = new ModelLake();
        for (const batch of framed(records, 8)) deliver(lake, batch, [fault, fault]);
        expectExact(lake, records);
      }
    });

    it('a batch bisected after it failed with or after its states stored, or before its files', () => {
      for (const fault of ['beforeFiles', 'afterStates'] as const) {
        const lake = new ModelLake();
        for (const batch of framed(records, 8)) deliverBisected(lake, batch, fault);
        expectExact(lake, records);
      }
    });

    it('a checkpoint deleted: the stream read again from its start, with other boundaries', () => {
      for (const [first, again] of [[8, 5], [8, 60], [5, 1], [1, 7]]) {
        const lake = new ModelLake();
        for (const batch of framed(records, first)) deliver(lake, batch);
        for (const batch of framed(records, again)) deliver(lake, batch);
        expectExact(lake, records);
      }
    });

    it('an older checkpoint: read again from a record in the middle of a batch, with other boundaries', () => {
      const lake = new ModelLake();
      for (const batch of framed(records, 8)) deliver(lake, batch);
      for (const from of [13, 31, 2]) for (const batch of framed(records.slice(from), 6)) deliver(lake, batch);
      expectExact(lake, records);
    });

    it('a redrive: a batch dead-lettered after its retries, the shard read on, then the same batch handed again', () => {
      for (const fault of ['beforeFiles', 'afterStates'] as const) {
        const lake = new ModelLake();
        const batches = framed(records, 8);
        for (const [i, batch] of batches.entries()) {
          if (i === 2) for (let retry = 0; retry < 3; retry++) expect(lake.invoke(batch, fault)).toBe(false);
          else deliver(lake, batch);
        }
        deliver(lake, batches[2]);
        // And the whole stream once more, as after a reset, in one batch.
        deliver(lake, records);
        expectExact(lake, records);
      }
    });

    it('never loses an event, and writes one twice only in the crash window, which compaction closes', () => {
      const faults: (Fault | undefined)[] = [undefined, undefined, undefined, 'beforeFiles', 'halfFiles', 'afterFiles', 'halfStates', 'afterStates'];
      let seed = 11;
      const next = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
      let windows = 0;
      for (let run = 0; run < 300; run++) {
        const lake = new ModelLake();
        for (let read = 0; read < 3; read++) {
          // A read from a random record (the start, an older checkpoint), with random boundaries and faults.
          let at = read === 0 ? 0 : next(records.length);
          while (at < records.length) {
            const batch = records.slice(at, at + 1 + next(12));
            const fault = faults[next(faults.length)];
            if (fault && next(2) === 0) deliverBisected(lake, batch, fault);
            else deliver(lake, batch, fault ? [fault] : []);
            at += batch.length;
          }
        }
        expectNoLoss(lake, records);
        if (lake.windowOpened) windows++;
        else expectExact(lake, records);
        expectExact(lake, records, true);
      }
      expect(windows).toBeGreaterThan(0);
    });

    it('skips events stored by the older lake writer (states without a tag): their files are never written again', () => {
      const lake = new ModelLake();
      const batches = framed(records, 8);
      for (const batch of batches.slice(0, 3)) deliver(lake, batch);
      // What an older version left: the same rows under keys named after the first record only, states without tags.
      for (const [key, rows] of [...lake.files]) {
        lake.files.delete(key);
        lake.files.set(key.replace(/-\d+$/, ''), rows);
      }
      for (const [tx, s] of lake.seen) lake.seen.set(tx, { tx_id: tx, bid_seq: s.bid_seq, impression_seq: s.impression_seq, click_seq: s.click_seq, expires_at: s.expires_at });
      // Restarted from an older checkpoint: the same first record, another last one.
      for (const batch of framed(records, 11)) deliver(lake, batch);
      expectExact(lake, records);
    });
  });

  describe('state lifetime', () => {
    const context = { fileId: fileIdFor(SHARD, '1', '2'), expiresAt: NOW + TTL, retentionSeconds: RETENTION };

    it('a copy that arrived long after the first refreshes the state, so it expires after that copy leaves the stream', () => {
      const first = selectForLake([rec(1, 'bid', 'a', 0, NOW - 5 * 24 * 3600)], new Map(), { ...context, expiresAt: NOW - 5 * 24 * 3600 + TTL });
      const seen = new Map(first.states.map((s) => [s.tx_id, s]));
      const late = rec(9, 'bid', 'a', 0, NOW);
      const { events, states } = selectForLake([late], seen, context);
      expect(events).toEqual([]);
      expect(states).toEqual([{ ...first.states[0], expires_at: NOW + TTL }]);
      expect(states[0].expires_at).toBeGreaterThanOrEqual(late.arrivedAt + RETENTION);
    });

    it('a copy that arrived soon after the first writes nothing', () => {
      const first = selectForLake([rec(1, 'bid', 'a')], new Map(), context);
      const seen = new Map(first.states.map((s) => [s.tx_id, s]));
      expect(selectForLake([rec(9, 'bid', 'a')], seen, { ...context, fileId: fileIdFor(SHARD, '9', '9') })).toEqual({ events: [], states: [] });
    });
  });
});
