/**
 * The pure logic of the load bench (perf/load.ts): interval summaries of request outcomes, the
 * capacity choice from a ramp, the comparison of reports with the generator's truth, and the
 * seeded journeys.
 */
import { capacityOf, type RampStep } from '../../perf/support/capacity';
import { summarise } from '../../perf/support/intervals';
import { journeyPlanner, requestsPerJourney } from '../../perf/support/journeys';
import { diffTruth } from '../../perf/support/reports';

const rule = { p99BoundMs: 250, minGrowth: 0.05 };
const step = (users: number, acceptedPerSecond: number, extra: Partial<RampStep> = {}): RampStep => ({
  users, acceptedPerSecond, seconds: 10, requests: acceptedPerSecond * 10, accepted: acceptedPerSecond * 10,
  rejected: 0, errors: 0, errorKinds: {}, clientErrors: 0, p50: 5, p95: 20, p99: 40, max: 60, ...extra,
});

describe('summarise', () => {
  it('classifies outcomes and takes latency percentiles of accepted requests only', () => {
    const outcomes = [
      ...Array.from({ length: 100 }, (_, i) => ({ status: 200, ms: i + 1 })),
      { status: 429, ms: 1 }, { status: 503, ms: 1 }, { status: 500, ms: 900 }, { status: 0, ms: 30_000, error: 'ECONNRESET' }, { status: 400, ms: 2 },
    ];
    const s = summarise(outcomes, 4);
    expect(s).toMatchObject({ requests: 105, accepted: 100, rejected: 2, errors: 2, clientErrors: 1, acceptedPerSecond: 25, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(s.errorKinds).toEqual({ '500': 1, ECONNRESET: 1 });
  });

  it('has no latency when nothing was accepted', () => {
    const s = summarise([{ status: 503, ms: 3 }], 1);
    expect(s.accepted).toBe(0);
    expect(s.p99).toBeNaN();
  });
});

describe('capacityOf', () => {
  it('keeps growing while each step beats the best by the minimum growth', () => {
    const v = capacityOf([step(5, 100), step(10, 190), step(20, 350)], rule);
    expect(v).toMatchObject({ final: false, best: 2, requestsPerSecond: 350 });
  });

  it('ends when the rate has not grown for two steps in a row, at the best step', () => {
    const v = capacityOf([step(5, 100), step(10, 190), step(20, 195), step(40, 192)], rule);
    expect(v).toMatchObject({ final: true, best: 2, requestsPerSecond: 195 });
    expect(v.reason).toMatch(/stopped growing: 2 steps up to 40 users/);
  });

  it('confirms a flat step with the next one: one slowed step does not end the ramp', () => {
    expect(capacityOf([step(5, 100), step(10, 190), step(20, 150)], rule)).toMatchObject({ final: false, best: 1 });
    expect(capacityOf([step(5, 100), step(10, 190), step(20, 150), step(40, 400)], rule)).toMatchObject({ final: false, best: 3, requestsPerSecond: 400 });
  });

  it('ends at the first flat step with no patience', () => {
    expect(capacityOf([step(5, 100), step(10, 190), step(20, 185)], { ...rule, patience: 0 })).toMatchObject({ final: true, best: 1 });
  });

  it('ends at the first step over the p99 bound, with errors or with backpressure; capacity is the step before', () => {
    expect(capacityOf([step(5, 100), step(10, 190, { p99: 300 })], rule)).toMatchObject({ final: true, best: 0, requestsPerSecond: 100 });
    expect(capacityOf([step(5, 100), step(10, 190, { errors: 1 })], rule).reason).toMatch(/1 errors at 10 users/);
    expect(capacityOf([step(5, 100), step(10, 190, { rejected: 3 })], rule).reason).toMatch(/rejected/);
  });

  it('has no capacity when the first step is already unhealthy', () => {
    const v = capacityOf([step(5, 100, { p99: 900 })], rule);
    expect(v).toMatchObject({ final: true, best: -1 });
    expect(v.requestsPerSecond).toBeNaN();
  });
});

describe('diffTruth', () => {
  it('counts missing events as lost and surplus as extra, per counter', () => {
    const truth = new Map([
      [1, { bids: 10, impressions: 5, clicks: 1 }],
      [2, { bids: 4, impressions: 2, clicks: 0 }],
    ]);
    const exact = diffTruth(truth, [
      { campaign_item_id: 1, bids: 10, impressions: 5, clicks: 1 },
      { campaign_item_id: 2, bids: 4, impressions: 2, clicks: 0 },
    ]);
    expect(exact).toEqual({ lost: 0, extra: 0, campaigns: [] });
    const off = diffTruth(truth, [
      { campaign_item_id: 1, bids: 9, impressions: 6, clicks: 1 },
      { campaign_item_id: 3, bids: 1, impressions: 0, clicks: 0 },
    ]);
    expect(off.lost).toBe(1 + 4 + 2);
    expect(off.extra).toBe(1 + 1);
    expect(off.campaigns.map((c) => c.campaign).sort()).toEqual([1, 2, 3]);
  });
});

describe('journeyPlanner', () => {
  const mix = { campaigns: 4, firstCampaign: 10, winRate: 0.5, clickRate: 0.2, seed: 7 };

  it('is repeatable by seed', () => {
    const a = journeyPlanner(mix, 'r');
    const b = journeyPlanner(mix, 'r');
    for (let i = 0; i < 50; i++) expect(a()).toEqual(b());
  });

  it('posts a bid, then an impression when won, then sometimes a click, all for one tx_id', () => {
    const next = journeyPlanner(mix, 'r');
    const plans = Array.from({ length: 20_000 }, next);
    for (const p of plans.slice(0, 200)) {
      expect(p.steps[0].type).toBe('bid');
      expect(p.steps.map((s) => s.type).join(',')).toMatch(/^bid(,impression(,click)?)?$/);
      expect(new Set(p.steps.map((s) => JSON.parse(s.body).tx_id)).size).toBe(1);
      expect(JSON.parse(p.steps[0].body).campaign_item_id).toBe(p.campaign);
      expect(p.campaign).toBeGreaterThanOrEqual(10);
      expect(p.campaign).toBeLessThan(14);
    }
    const requests = plans.reduce((n, p) => n + p.steps.length, 0) / plans.length;
    expect(requests).toBeCloseTo(requestsPerJourney(mix), 1);
  });
});
