/**
 * The reports API as the benchmarks read it: a campaign's totals (GET /reports/campaigns/{id}), and
 * how they compare with the ground truth a load generator kept (events it had accepted, per campaign).
 */
import type { Counts } from '../../pipelines/adtech/workload';

export interface Report extends Counts {
  campaign_item_id: number;
}

export async function readReport(base: string, campaign: number): Promise<Report> {
  const res = await fetch(`${base}${campaign}`);
  if (res.status !== 200) throw new Error(`GET report ${campaign} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Report;
}

export interface TruthDiff {
  /** Events the truth has that the reports do not count. */
  lost: number;
  /** Events the reports count beyond the truth. */
  extra: number;
  /** The campaigns that differ, with both sides. */
  campaigns: { campaign: number; truth: Counts; report: Counts }[];
}

const KINDS = ['bids', 'impressions', 'clicks'] as const;

/** Compares reports with the truth, counter by counter: every missing count is lost, every surplus extra. Pure. */
export function diffTruth(truth: ReadonlyMap<number, Counts>, reports: readonly Report[]): TruthDiff {
  const byCampaign = new Map(reports.map((r) => [r.campaign_item_id, r]));
  const out: TruthDiff = { lost: 0, extra: 0, campaigns: [] };
  for (const campaign of new Set([...truth.keys(), ...byCampaign.keys()])) {
    const t = truth.get(campaign) ?? { bids: 0, impressions: 0, clicks: 0 };
    const r = byCampaign.get(campaign) ?? { bids: 0, impressions: 0, clicks: 0 };
    let differs = false;
    for (const k of KINDS) {
      out.lost += Math.max(0, t[k] - r[k]);
      out.extra += Math.max(0, r[k] - t[k]);
      differs ||= t[k] !== r[k];
    }
    if (differs) out.campaigns.push({ campaign, truth: { bids: t.bids, impressions: t.impressions, clicks: t.clicks }, report: { bids: r.bids, impressions: r.impressions, clicks: r.clicks } });
  }
  return out;
}
