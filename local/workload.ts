/**
 * Generated ad-tech traffic with its ground truth, for tests and benchmarks: auctions whose bids,
 * impressions and clicks arrive out of order and are sometimes resent, and the exact counts per
 * campaign (and per window) that the platform must report for them. Deterministic for a seed.
 */
import type { EventType } from '../schemas/events';

export interface WorkloadOptions {
  auctions: number;
  campaigns?: number;
  /** First campaign id; campaigns are firstCampaign .. firstCampaign + campaigns - 1. */
  firstCampaign?: number;
  impressionRate?: number;
  clickRate?: number;
  /** Share of events sent a second time. */
  resendRate?: number;
  /** Share of auctions whose events arrive in a shuffled order (an impression before its bid). */
  reorderRate?: number;
  /** Event times are spread over this many ms before `now`. */
  timeSpreadMs?: number;
  now?: number;
  seed?: number;
}

export interface WorkloadEvent {
  type: EventType;
  body: Record<string, unknown>;
}

export interface Counts {
  bids: number;
  impressions: number;
  clicks: number;
}

export interface Workload {
  /** In send order, resends included. */
  events: WorkloadEvent[];
  /** Distinct events per campaign: what the reports must show. */
  truth: Map<number, Counts>;
  /** Distinct events sent, by type. */
  totals: Counts;
}

/** mulberry32: a small, fast, seedable PRNG. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateWorkload(options: WorkloadOptions): Workload {
  const rnd = random(options.seed ?? 1);
  const campaigns = options.campaigns ?? 5;
  const firstCampaign = options.firstCampaign ?? 1;
  const impressionRate = options.impressionRate ?? 0.5;
  const clickRate = options.clickRate ?? 0.2;
  const resendRate = options.resendRate ?? 0.05;
  const reorderRate = options.reorderRate ?? 0.1;
  const spread = options.timeSpreadMs ?? 60_000;
  const now = options.now ?? Date.now();
  const runId = Math.floor(rnd() * 2 ** 32).toString(36);

  const truth = new Map<number, Counts>();
  const totals: Counts = { bids: 0, impressions: 0, clicks: 0 };
  const events: WorkloadEvent[] = [];
  for (let i = 0; i < options.auctions; i++) {
    const tx_id = `${runId}-${i}`;
    const campaign = firstCampaign + Math.floor(rnd() * campaigns);
    const t = Math.floor(now - rnd() * spread);
    const price = 10 + Math.floor(rnd() * 190);
    const auction: WorkloadEvent[] = [
      { type: 'bid', body: { tx_id, app_uid: `u${Math.floor(rnd() * 1e6)}`, campaign_item_id: campaign, domain: `site${Math.floor(rnd() * 50)}.example`, creative_id: `cr${Math.floor(rnd() * 20)}`, creative_category: `cat${Math.floor(rnd() * 8)}`, win_price: price, timestamp: t } },
    ];
    const counts = truth.get(campaign) ?? { bids: 0, impressions: 0, clicks: 0 };
    counts.bids++;
    totals.bids++;
    if (rnd() < impressionRate) {
      auction.push({ type: 'impression', body: { tx_id, win_price: Math.floor(price * 0.8), timestamp: t + 50 } });
      counts.impressions++;
      totals.impressions++;
      if (rnd() < clickRate) {
        auction.push({ type: 'click', body: { tx_id, timestamp: t + 2000 } });
        counts.clicks++;
        totals.clicks++;
      }
    }
    truth.set(campaign, counts);
    if (rnd() < reorderRate) auction.reverse();
    for (const e of auction) {
      events.push(e);
      if (rnd() < resendRate) events.push({ type: e.type, body: { ...e.body } });
    }
  }
  return { events, truth, totals };
}
