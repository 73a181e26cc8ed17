/**
 * The seed's user journey as a load: a virtual user posts a bid, then (when the auction is won) an
 * impression for the same tx_id, then (sometimes) a click. Each journey's choices come from a seeded
 * PRNG (lambdas/commons/random.ts) when it starts, so a run is repeatable by seed whatever the
 * scheduling. Requests answered 429/503 or not answered are resent after their Retry-After, like a
 * client honouring it; an event counts in the ground truth (per campaign) once it is accepted (2xx),
 * and as failed when the client gives up on it, so "zero lost" is checked against every event a user
 * meant to send.
 */
import { random } from '../../lambdas/commons/random';
import type { Counts } from '../../pipelines/adtech/workload';
import type { Recorder } from './intervals';
import type { JsonPoster } from './post';
import { sleep } from './stats';

export interface JourneyMix {
  campaigns: number;
  firstCampaign: number;
  /** Share of bids that win (followed by an impression). */
  winRate: number;
  /** Share of impressions followed by a click. */
  clickRate: number;
  seed: number;
}

export interface JourneyPlan {
  campaign: number;
  steps: { type: 'bid' | 'impression' | 'click'; body: string }[];
}

/** A repeatable sequence of journeys for a seed. */
export function journeyPlanner(mix: JourneyMix, runId: string): () => JourneyPlan {
  const rnd = random(mix.seed);
  let n = 0;
  return () => {
    const tx_id = `${runId}-${n++}`;
    const campaign = mix.firstCampaign + Math.floor(rnd() * mix.campaigns);
    const price = 10 + Math.floor(rnd() * 190);
    const steps: JourneyPlan['steps'] = [
      {
        type: 'bid',
        body: JSON.stringify({ tx_id, app_uid: `u${Math.floor(rnd() * 1e6)}`, campaign_item_id: campaign, domain: `site${Math.floor(rnd() * 50)}.example`, creative_id: `cr${Math.floor(rnd() * 20)}`, creative_category: `cat${Math.floor(rnd() * 8)}`, win_price: price }),
      },
    ];
    const won = rnd() < mix.winRate;
    const clicked = rnd() < mix.clickRate;
    if (won) {
      steps.push({ type: 'impression', body: JSON.stringify({ tx_id, win_price: Math.max(1, Math.floor(price * 0.8)) }) });
      if (clicked) steps.push({ type: 'click', body: JSON.stringify({ tx_id }) });
    }
    return { campaign, steps };
  };
}

/** Requests per journey on average: a bid, an impression when won, a click when clicked. */
export const requestsPerJourney = (mix: Pick<JourneyMix, 'winRate' | 'clickRate'>) => 1 + mix.winRate + mix.winRate * mix.clickRate;

export class Journeys {
  /** Accepted events per campaign: what the reports must show. */
  readonly truth = new Map<number, Counts>();
  /** Events given up on after maxAttempts (the journey stops there). */
  failedEvents = 0;
  started = 0;
  completed = 0;
  inFlight = 0;
  /** Requests resent after a 429/503 or no answer. */
  retries = 0;
  private durations: number[] = [];

  constructor(
    private readonly poster: JsonPoster,
    private readonly recorder: Recorder,
    private readonly next: () => JourneyPlan,
    private readonly maxAttempts = 30,
  ) {}

  /** Runs one journey to its end: every step accepted, or one given up on. */
  async run(): Promise<void> {
    const plan = this.next();
    const started = performance.now();
    this.started++;
    this.inFlight++;
    try {
      for (const step of plan.steps) {
        if (!(await this.send(step.type, step.body))) return;
        const counts = this.truth.get(plan.campaign) ?? this.truth.set(plan.campaign, { bids: 0, impressions: 0, clicks: 0 }).get(plan.campaign)!;
        counts[step.type === 'bid' ? 'bids' : step.type === 'impression' ? 'impressions' : 'clicks']++;
      }
      this.completed++;
      this.durations.push(performance.now() - started);
    } finally {
      this.inFlight--;
    }
  }

  /** Journey durations (first POST to last answer, resends included) since the previous call. */
  takeDurations(): number[] {
    const out = this.durations;
    this.durations = [];
    return out;
  }

  /** Accepted events so far, all campaigns. */
  acceptedEvents(): number {
    let n = 0;
    for (const c of this.truth.values()) n += c.bids + c.impressions + c.clicks;
    return n;
  }

  private async send(type: string, body: string): Promise<boolean> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const answer = await this.poster.post(`/${type}`, body);
      this.recorder.record(answer.status, answer.ms, answer.error);
      if (answer.status >= 200 && answer.status < 300) return true;
      // Another 4xx will not change on a resend.
      if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) break;
      if (attempt < this.maxAttempts) {
        this.retries++;
        await sleep((answer.retryAfterSeconds ?? 1) * 1000);
      }
    }
    this.failedEvents++;
    return false;
  }
}
