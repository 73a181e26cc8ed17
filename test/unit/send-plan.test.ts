/** How the sender cuts events into requests (one type each, at most the batch size) and paces them. */
import { planRequests, requestBody } from '../../local/send-plan';
import { generateWorkload, type WorkloadEvent } from '../../pipelines/adtech/workload';

const workload = generateWorkload({ auctions: 2000, winModel: true, seed: 3, now: 1_700_000_000_000 });
const key = (e: WorkloadEvent) => `${e.type}:${JSON.stringify(e.body)}`;

describe('planRequests', () => {
  it('fills requests up to the batch size, one type each, sending every event exactly once', () => {
    const plan = planRequests(workload.events, { batchSize: 50 });
    for (const r of plan) {
      expect(r.events.length).toBeLessThanOrEqual(50);
      expect(r.events.every((e) => e.type === r.type)).toBe(true);
    }
    expect(plan.flatMap((r) => r.events).map(key).sort()).toEqual(workload.events.map(key).sort());
    // Mixed types no longer cut batches short: every request is full but the last of each type.
    const short = plan.filter((r) => r.events.length < 50);
    expect(short.length).toBeLessThanOrEqual(3);
    const perType = (['bid', 'impression', 'click'] as const).map((t) => Math.ceil(workload.events.filter((e) => e.type === t).length / 50));
    expect(plan.length).toBe(perType[0] + perType[1] + perType[2]);
  });

  it('sends everything at once without a rate, and keeps the order of events within a type', () => {
    const plan = planRequests(workload.events, { batchSize: 100 });
    expect(plan.every((r) => r.dueMs === 0)).toBe(true);
    for (const type of ['bid', 'impression', 'click'] as const) {
      expect(plan.filter((r) => r.type === type).flatMap((r) => r.events)).toEqual(workload.events.filter((e) => e.type === type));
    }
  });

  it('paces events evenly at the rate: by any time t, at most rate × t events are due', () => {
    const rate = 2000;
    const plan = planRequests(workload.events, { batchSize: 100, eventsPerSecond: rate, maxDelayMs: 100 });
    let due = 0;
    for (const [i, r] of plan.entries()) {
      if (i > 0) expect(r.dueMs).toBeGreaterThanOrEqual(plan[i - 1].dueMs);
      due += r.events.length;
      expect(due).toBeLessThanOrEqual(Math.floor((r.dueMs * rate) / 1000) + 1);
    }
    const last = plan.at(-1)!.dueMs;
    expect(last).toBeCloseTo(((workload.events.length - 1) * 1000) / rate, 0);
    // Spread over the run, not a burst per second: every 250 ms window holds about rate/4 events.
    for (let t = 0; t + 250 <= last; t += 250) {
      const inWindow = plan.filter((r) => r.dueMs >= t && r.dueMs < t + 250).reduce((n, r) => n + r.events.length, 0);
      expect(inWindow).toBeLessThanOrEqual(rate / 4 + 2 * 100);
      expect(inWindow).toBeGreaterThanOrEqual(rate / 4 - 2 * 100);
    }
  });

  it('holds no event longer than the longest delay when its type is slow to fill', () => {
    const rate = 1000;
    const plan = planRequests(workload.events, { batchSize: 100, eventsPerSecond: rate, maxDelayMs: 80 });
    const released = new Map(workload.events.map((e, i) => [e, (i * 1000) / rate]));
    for (const r of plan) for (const e of r.events) expect(r.dueMs - released.get(e)!).toBeLessThanOrEqual(80 + 1e-9);
    // Clicks are rare: at this rate they leave in small, timely batches rather than waiting for 100.
    expect(plan.filter((r) => r.type === 'click').every((r) => r.events.length < 100)).toBe(true);
  });

  it('keeps single events as objects at batch size 1, in their order', () => {
    const events = workload.events.slice(0, 10);
    const plan = planRequests(events, { batchSize: 1 });
    expect(plan.map((r) => r.events[0])).toEqual(events);
    expect(JSON.parse(requestBody(plan[0], 1))).toEqual(events[0].body);
    expect(JSON.parse(requestBody(planRequests(events, { batchSize: 5 })[0], 5))).toBeInstanceOf(Array);
  });
});
