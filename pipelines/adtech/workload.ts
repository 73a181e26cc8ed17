/**
 * Generated ad-tech traffic with its ground truth, for tests and benchmarks: auctions whose bids,
 * impressions and clicks arrive out of order and are sometimes resent, and the exact counts per
 * campaign (and per window) that the platform must report for them. Deterministic for a seed.
 *
 * With `winModel: true` a bid wins (gets an impression) with a known probability, a function of
 * its features and price (see `WinWorld`), and the workload carries each auction's true win
 * probability, so `bayesOptimalAuc` gives the ceiling a bid-win model can reach.
 */
import type { EventType } from './events';
import type { AuctionFeatures } from '../../lambdas/ml/features';
import { auc, isHoldout } from '../../lambdas/ml/evaluate';
import { random } from '../../lambdas/commons/random';

export { random };

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
  /**
   * Wins follow a known function of the bid's features and price instead of `impressionRate`
   * (which is then ignored); the workload then has `world` and `auctions`. Campaigns default to
   * 50 here, and domains/creatives/categories to 200/40/8.
   */
  winModel?: boolean;
  domains?: number;
  creatives?: number;
  categories?: number;
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
  /** With `winModel`: the generated world, whose `winProbability` is the true P(win). */
  world?: WinWorld;
  /** With `winModel`: every auction (in generation order) with its features, true P(win) and outcome. */
  auctions?: LabeledAuction[];
}

export interface LabeledAuction {
  tx_id: string;
  features: AuctionFeatures;
  /** The true win probability. */
  p: number;
  won: 0 | 1;
}

/**
 * The ground truth of the win model: fixed for a seed,
 *   logit P(win) = a[campaign] + b[domain] + c[category] + k[category]·(price − PRICE_MID)/PRICE_SCALE
 * with each creative belonging to one category. Values it does not know contribute 0.
 */
export interface WinWorld {
  campaignIds: number[];
  domains: string[];
  creatives: string[];
  /** Category of each creative (same order as `creatives`). */
  creativeCategory: string[];
  categories: string[];
  campaignEffect: Map<string, number>;
  domainEffect: Map<string, number>;
  categoryEffect: Map<string, number>;
  categorySlope: Map<string, number>;
  winProbability(f: AuctionFeatures): number;
}

export const PRICE_MIN = 10;
export const PRICE_MAX = 199;
export const PRICE_MID = 105;
export const PRICE_SCALE = 50;

/** Standard normal from a uniform source (Box-Muller). */
function normal(rnd: () => number): number {
  const u = 1 - rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

export function makeWinWorld(options: { seed?: number; campaigns?: number; firstCampaign?: number; domains?: number; creatives?: number; categories?: number } = {}): WinWorld {
  // A stream of its own, so the world does not depend on how many auctions are drawn.
  const rnd = random(((options.seed ?? 1) ^ 0x5bd1e995) + 0x2545f491);
  const first = options.firstCampaign ?? 1;
  const campaignIds = Array.from({ length: options.campaigns ?? 50 }, (_, i) => first + i);
  const domains = Array.from({ length: options.domains ?? 200 }, (_, i) => `site${i}.example`);
  const categories = Array.from({ length: options.categories ?? 8 }, (_, i) => `cat${i}`);
  const creatives = Array.from({ length: options.creatives ?? 40 }, (_, i) => `cr${i}`);
  const creativeCategory = creatives.map((_, i) => categories[i % categories.length]);
  const campaignEffect = new Map(campaignIds.map((c) => [String(c), 0.8 * normal(rnd)]));
  const domainEffect = new Map(domains.map((d) => [d, 0.8 * normal(rnd)]));
  const categoryEffect = new Map(categories.map((c) => [c, -0.3 + 0.5 * normal(rnd)]));
  const categorySlope = new Map(categories.map((c) => [c, 0.4 + 1.6 * rnd()]));
  return {
    campaignIds, domains, creatives, creativeCategory, categories, campaignEffect, domainEffect, categoryEffect, categorySlope,
    winProbability(f: AuctionFeatures): number {
      const cat = f.creative_category ?? '';
      const z =
        (campaignEffect.get(String(f.campaign_item_id)) ?? 0) +
        (domainEffect.get(f.domain ?? '') ?? 0) +
        (categoryEffect.get(cat) ?? 0) +
        (categorySlope.get(cat) ?? 0) * ((f.bid_price - PRICE_MID) / PRICE_SCALE);
      return 1 / (1 + Math.exp(-z));
    },
  };
}

/** AUC of the true win probability on the held-out auctions (`isHoldout(tx_id, fraction)`): the ceiling for a model. */
export function bayesOptimalAuc(workload: Workload, fraction = 0.2): number {
  if (!workload.auctions) throw new Error('bayesOptimalAuc needs a workload generated with winModel: true');
  const held = workload.auctions.filter((a) => isHoldout(a.tx_id, fraction));
  return auc(held.map((a) => a.p), held.map((a) => a.won));
}


/** A click on a won auction, two seconds after its bid, counted in the truth. */
function addClick(auction: WorkloadEvent[], tx_id: string, t: number, counts: Counts, totals: Counts): void {
  auction.push({ type: 'click', body: { tx_id, timestamp: t + 2000 } });
  counts.clicks++;
  totals.clicks++;
}

/** An auction's events in send order: sometimes reversed (an impression before its bid), some resent. */
function send(auction: WorkloadEvent[], events: WorkloadEvent[], rnd: () => number, reorderRate: number, resendRate: number): void {
  if (rnd() < reorderRate) auction.reverse();
  for (const e of auction) {
    events.push(e);
    if (rnd() < resendRate) events.push({ type: e.type, body: { ...e.body } });
  }
}

/** The options both generators share, with their defaults, and this run's id (prefix of every tx_id). */
function sendingSettings(options: WorkloadOptions, rnd: () => number) {
  return {
    clickRate: options.clickRate ?? 0.2,
    resendRate: options.resendRate ?? 0.05,
    reorderRate: options.reorderRate ?? 0.1,
    spread: options.timeSpreadMs ?? 60_000,
    now: options.now ?? Date.now(),
    runId: Math.floor(rnd() * 2 ** 32).toString(36),
  };
}

export function generateWorkload(options: WorkloadOptions): Workload {
  if (options.winModel) return generateWinWorkload(options);
  const rnd = random(options.seed ?? 1);
  const campaigns = options.campaigns ?? 5;
  const firstCampaign = options.firstCampaign ?? 1;
  const impressionRate = options.impressionRate ?? 0.5;
  const { clickRate, resendRate, reorderRate, spread, now, runId } = sendingSettings(options, rnd);

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
      if (rnd() < clickRate) addClick(auction, tx_id, t, counts, totals);
    }
    truth.set(campaign, counts);
    send(auction, events, rnd, reorderRate, resendRate);
  }
  return { events, truth, totals };
}

function generateWinWorkload(options: WorkloadOptions): Workload {
  const rnd = random(options.seed ?? 1);
  const world = makeWinWorld(options);
  const { clickRate, resendRate, reorderRate, spread, now, runId } = sendingSettings(options, rnd);
  const nc = world.campaignIds.length;
  const nd = world.domains.length;
  const ncr = world.creatives.length;

  const truth = new Map<number, Counts>();
  const totals: Counts = { bids: 0, impressions: 0, clicks: 0 };
  const events: WorkloadEvent[] = [];
  const auctions: LabeledAuction[] = [];
  for (let i = 0; i < options.auctions; i++) {
    const tx_id = `${runId}-${i}`;
    const campaign = world.campaignIds[Math.floor(rnd() * nc)];
    const t = Math.floor(now - rnd() * spread);
    const price = PRICE_MIN + Math.floor(rnd() * (PRICE_MAX - PRICE_MIN + 1));
    const domain = world.domains[Math.floor(rnd() * nd)];
    const cr = Math.floor(rnd() * ncr);
    const features: AuctionFeatures = { campaign_item_id: campaign, domain, creative_id: world.creatives[cr], creative_category: world.creativeCategory[cr], bid_price: price };
    const p = world.winProbability(features);
    const auction: WorkloadEvent[] = [
      { type: 'bid', body: { tx_id, app_uid: `u${Math.floor(rnd() * 1e6)}`, campaign_item_id: campaign, domain, creative_id: features.creative_id, creative_category: features.creative_category, win_price: price, timestamp: t } },
    ];
    const counts = truth.get(campaign) ?? { bids: 0, impressions: 0, clicks: 0 };
    counts.bids++;
    totals.bids++;
    const won = rnd() < p ? 1 : 0;
    auctions.push({ tx_id, features, p, won });
    if (won) {
      // Second-price-like: the clearing price is at most the bid.
      const clearing = Math.max(1, Math.floor(price * (0.5 + 0.5 * rnd())));
      auction.push({ type: 'impression', body: { tx_id, win_price: clearing, timestamp: t + 50 } });
      counts.impressions++;
      totals.impressions++;
      if (rnd() < clickRate) addClick(auction, tx_id, t, counts, totals);
    }
    truth.set(campaign, counts);
    send(auction, events, rnd, reorderRate, resendRate);
  }
  return { events, truth, totals, world, auctions };
}
