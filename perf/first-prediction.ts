/**
 * Bench `first-prediction`: the README's ML walkthrough timed on a fresh platform, every setting at
 * its default: `sdp local` (what `npm start` runs) in a new data directory, `sdp generate --auctions
 * 20000 --rate 2000` (live traffic of the last 10 minutes), `sdp train` (no compaction: training
 * reads the auctions whose outcome is known, lambdas/ml/outcome.ts), then POST /predictions until it
 * answers 200. Figures: seconds from the start of `sdp local` to each step's end; the goal is the
 * first answered prediction within 300 s.
 */
import { rmSync } from 'node:fs';
import { waitFor } from '../local/wait';
import { startPlatform } from '../test/support/platform';
import { progress, type BenchResult } from './support/report';
import { runSdp } from './support/sdp';


export const firstPredictionDefaults = {
  /** Auctions `sdp generate` sends (the README's figure). */
  auctions: 20_000,
  /** Events/s `sdp generate` sends at (the README's figure). */
  rate: 2000,
};
export type FirstPredictionOptions = typeof firstPredictionDefaults;

export const FIRST_PREDICTION_GOAL_SECONDS = 300;

export async function runFirstPrediction(options: FirstPredictionOptions): Promise<BenchResult> {
  const started = performance.now();
  const since = () => (performance.now() - started) / 1000;
  progress('sdp local (a fresh data directory, default settings)');
  const platform = await startPlatform({ timeoutMs: FIRST_PREDICTION_GOAL_SECONDS * 1000 });
  const sdp = (args: string[]) => runSdp([...args, '--data-dir', platform.dataDir], { ...process.env, SDP_DATA_DIR: '' });
  try {
    const ready = since();
    progress(`sdp generate --auctions ${options.auctions} --rate ${options.rate}`);
    const generated = JSON.parse((await sdp(['generate', '--auctions', String(options.auctions), '--rate', String(options.rate), '--json'])).stdout) as { sent: { events: number } };
    const generateEnd = since();
    progress('sdp train');
    const trained = JSON.parse((await sdp(['train', '--json'])).stdout) as { auctions: number; metrics: { auc: number }; decision: { deploy: boolean; reason: string } };
    const trainEnd = since();
    progress('POST /predictions until it answers 200');
    const body = JSON.stringify({ campaignItemId: '3', domain: 'site1.example', creativeId: 'cr1', creativeCategory: 'cat1', winPrice: 120 });
    await waitFor(
      'POST /predictions to answer 200',
      async () => (await fetch(platform.outputs.UrlForPredictions!, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status === 200,
      60_000,
      100,
    );
    const first = since();
    return {
      bench: 'first-prediction',
      figures: [
        { key: 'first_prediction_s', label: 'sdp local start to the first answered POST /predictions', value: first, unit: 's', goal: { op: '<=', target: FIRST_PREDICTION_GOAL_SECONDS } },
        { key: 'ready_s', label: 'sdp local ready', value: ready, unit: 's' },
        { key: 'generated_s', label: 'sdp generate done', value: generateEnd, unit: 's', note: `${generated.sent.events} events` },
        { key: 'trained_s', label: 'sdp train done (it first waits for the lake writer)', value: trainEnd, unit: 's', note: `${trained.auctions} known auctions, held-out AUC ${trained.metrics.auc.toFixed(4)}` },
      ],
      details: { ...options, deployed: trained.decision.deploy, gate: trained.decision.reason },
    };
  } finally {
    await platform.stop();
    rmSync(platform.dataDir, { recursive: true, force: true });
  }
}
