/** The lake writer's choice of events: each (type, tx_id) once, across resends, batches and retries. */
import { selectForLake, type LakeSeen, type SequencedEvent } from '../../lambdas/lake-writer/select';
import { fence } from '../../lambdas/commons/sequence';
import type { StreamEvent } from '../../schemas/events';

const bid = (tx_id: string, seq: number): SequencedEvent => ({
  seq: fence(String(seq)),
  event: { type: 'bid', tx_id, app_uid: 'u', campaign_item_id: 1, received_at: seq, event_time: seq } as StreamEvent,
});
const click = (tx_id: string, seq: number): SequencedEvent => ({
  seq: fence(String(seq)),
  event: { type: 'click', tx_id, received_at: seq, event_time: seq } as StreamEvent,
});
const ids = (events: StreamEvent[]) => events.map((e) => `${e.type}:${e.tx_id}:${e.received_at}`);

/** Runs batches in order, carrying the states as the store would. */
function runBatches(batches: SequencedEvent[][], seen = new Map<string, LakeSeen>()) {
  const written: StreamEvent[] = [];
  for (const batch of batches) {
    const { events, states } = selectForLake(batch, seen, 0);
    written.push(...events);
    for (const s of states) seen.set(s.tx_id, s);
  }
  return { written, seen };
}

describe('selectForLake', () => {
  it('keeps the first copy of a resent event within a batch', () => {
    const { events } = selectForLake([bid('a', 1), click('a', 2), bid('a', 3), bid('b', 4)], new Map(), 0);
    expect(ids(events)).toEqual(['bid:a:1', 'click:a:2', 'bid:b:4']);
  });

  it('skips an event already written by an earlier batch', () => {
    const { written } = runBatches([[bid('a', 1)], [bid('a', 5), click('a', 6)]]);
    expect(ids(written)).toEqual(['bid:a:1', 'click:a:6']);
  });

  it('writes the same events again when the same batch is retried after its states were stored', () => {
    const batch = [bid('a', 10), bid('a', 11), click('b', 12)];
    const first = selectForLake(batch, new Map(), 0);
    // The first attempt stored its states, then failed; the retry must rewrite the same rows.
    const seen = new Map(first.states.map((s) => [s.tx_id, s]));
    const retry = selectForLake(batch, seen, 0);
    expect(ids(retry.events)).toEqual(ids(first.events));
    expect(retry.states).toEqual(first.states);
  });

  it('writes the same events when only some states of the failed attempt were stored', () => {
    const batch = [bid('a', 10), click('b', 12), bid('c', 13)];
    const first = selectForLake(batch, new Map(), 0);
    const seen = new Map([[first.states[1].tx_id, first.states[1]]]);
    expect(ids(selectForLake(batch, seen, 0).events)).toEqual(ids(first.events));
  });

  it('keeps other types of an auction once each', () => {
    const { written, seen } = runBatches([[bid('a', 1), click('a', 2)], [click('a', 3), bid('a', 4)]]);
    expect(ids(written)).toEqual(['bid:a:1', 'click:a:2']);
    expect(seen.get('a')).toMatchObject({ bid_seq: fence('1'), click_seq: fence('2') });
  });
});
