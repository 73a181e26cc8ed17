/**
 * Bench `ml`: the bid-win model against the generated world's truth, in one run.
 * - Quality: a model trained (local trainer code: lambdas/ml) on the non-held-out part of
 *   `auctions` generated auctions with a known win function, evaluated on the held-out part
 *   (isHoldout by tx_id), against the Bayes-optimal AUC of the true P(win) on the same auctions.
 *   Goal: AUC ≥ 0.97 × Bayes-optimal. Log loss beside the true probabilities' log loss.
 * - Training time for those auctions (featurize + train). Goal: < 10 s for 1M.
 * - Prediction latency through the local API: the model registered as current in a running local
 *   platform, POST /predictions with autocannon (single requests), p50/p99.
 */
import { emulatorS3Client } from '../local/emulators';
import { performance } from 'node:perf_hooks';
import { registerModel } from '../lambdas/commons/model-registry';
import { featurize, type SparseVector } from '../lambdas/ml/features';
import { evaluate, isHoldout, logLoss } from '../lambdas/ml/evaluate';
import { serializeModel, trainLogistic } from '../lambdas/ml/logistic';
import { bayesOptimalAuc, generateWorkload } from '../local/workload';
import { lakeBucket } from '../schemas/resources';
import { cannon } from './support/load';
import { PlatformProcess } from './support/platform-process';
import { progress, type BenchResult, type Figure } from './support/report';

export const mlDefaults = {
  /** Generated auctions (training + held out). */
  auctions: 1_000_000,
  /** Seconds of prediction load. */
  seconds: 10,
  /** autocannon connections for the prediction load. */
  connections: 16,
  seed: 7,
};
export type MlOptions = typeof mlDefaults;

export async function runMl(options: MlOptions): Promise<BenchResult> {
  progress(`generating ${options.auctions.toLocaleString('en-US')} auctions with a known win function`);
  const workload = generateWorkload({ auctions: options.auctions, winModel: true, seed: options.seed, resendRate: 0, reorderRate: 0 });
  const auctions = workload.auctions!;
  const bayes = bayesOptimalAuc(workload);

  progress('featurizing and training');
  const started = performance.now();
  const train: { xs: SparseVector[]; ys: number[] } = { xs: [], ys: [] };
  const holdout: { xs: SparseVector[]; ys: number[]; p: number[] } = { xs: [], ys: [], p: [] };
  for (const a of auctions) {
    const x = featurize(a.features);
    if (isHoldout(a.tx_id)) {
      holdout.xs.push(x);
      holdout.ys.push(a.won ? 1 : 0);
      holdout.p.push(a.p);
    } else {
      train.xs.push(x);
      train.ys.push(a.won ? 1 : 0);
    }
  }
  const model = trainLogistic(train.xs, train.ys, { seed: options.seed });
  const trainingSeconds = (performance.now() - started) / 1000;
  const metrics = evaluate(model, holdout.xs, holdout.ys);
  const trueLogLoss = logLoss(holdout.p, holdout.ys);

  progress('starting a local platform for the prediction latency');
  const platform = await PlatformProcess.start({ log: () => {} });
  let latency;
  try {
    const s3 = emulatorS3Client(platform.outputs.S3Endpoint);
    await registerModel(s3, lakeBucket.name, serializeModel(model), {
      version: model.version,
      createdAt: model.createdAt,
      trainingRows: train.xs.length,
      holdoutRows: holdout.xs.length,
      trainingSeconds,
      metrics,
      decision: { deploy: true, reason: 'bench', floor: 0 },
    });
    let i = 0;
    const sample = auctions.slice(0, 1000);
    const bodyFor = () => {
      const f = sample[i++ % sample.length].features;
      return JSON.stringify({ campaignItemId: String(f.campaign_item_id), domain: f.domain, creativeId: f.creative_id, creativeCategory: f.creative_category, winPrice: f.bid_price });
    };
    await cannon({ url: platform.outputs.UrlForAPI, path: '/predictions', connections: options.connections, seconds: 2, bodyFor });
    progress(`prediction load: ${options.connections} connections for ${options.seconds} s`);
    latency = await cannon({ url: platform.outputs.UrlForAPI, path: '/predictions', connections: options.connections, seconds: options.seconds, bodyFor });
  } finally {
    await platform.stop();
  }

  const figures: Figure[] = [
    { key: 'auc', label: 'held-out AUC of the model', value: metrics.auc, unit: '', note: `${holdout.xs.length.toLocaleString('en-US')} held-out auctions` },
    { key: 'bayes_auc', label: 'Bayes-optimal AUC (true P(win))', value: bayes, unit: '' },
    { key: 'auc_ratio', label: 'model / Bayes-optimal AUC', value: metrics.auc / bayes, unit: '×', goal: { op: '>=', target: 0.97, text: '≥ 0.97 ×' } },
    { key: 'log_loss', label: 'held-out log loss', value: metrics.logLoss, unit: '', note: `true probabilities: ${trueLogLoss.toFixed(4)}` },
    { key: 'training_s', label: `training time, ${options.auctions.toLocaleString('en-US')} auctions`, value: trainingSeconds, unit: 's', goal: { op: '<', target: 10, text: '< 10 s (1M)' }, note: `featurize + train on ${train.xs.length.toLocaleString('en-US')}` },
    { key: 'predict_p50_ms', label: 'POST /predictions latency p50', value: latency.latencyP50, unit: 'ms', note: `${options.connections} connections, ${latency.medianPerSecond} req/s median` },
    { key: 'predict_p99_ms', label: 'POST /predictions latency p99', value: latency.latencyP99, unit: 'ms', note: `non-2xx ${latency.non2xx}` },
  ];
  return { bench: 'ml', figures, notes: [`model ${model.version}: ${serializeModel(model).length} bytes serialized`], details: { metrics: { ...metrics, calibration: undefined }, bayes, trainingSeconds, latency } };
}
