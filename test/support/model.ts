/**
 * Deploys a small bid-win model straight into a running platform's registry (as a training that
 * passed the gate would): for tests of serving that need a model but not the training loop.
 */
import { emulatorS3Client } from '../../local/emulators';
import { registerModel, type ModelMetrics } from '../../lambdas/commons/model-registry';
import { featurize } from '../../lambdas/ml/features';
import { serializeModel, trainLogistic } from '../../lambdas/ml/logistic';
import { lakeBucket } from '../../schemas/resources';

/** Trains on 40 auctions of one campaign (won above a price of 100) and deploys the model; resolves with its version. */
export async function deploySmallModel(s3Endpoint: string): Promise<string> {
  const features = (price: number) => featurize({ campaign_item_id: 1, domain: 'a.example', creative_id: 'cr1', creative_category: 'cat1', bid_price: price });
  const prices = Array.from({ length: 40 }, (_, i) => 5 * i);
  const model = trainLogistic(prices.map(features), prices.map((p) => (p > 100 ? 1 : 0)), { seed: 1 });
  const metrics = { auc: 1, logLoss: 0.1, count: 40, positives: 19 } as unknown as ModelMetrics;
  await registerModel(emulatorS3Client(s3Endpoint), lakeBucket.name, serializeModel(model), {
    version: model.version,
    createdAt: model.createdAt,
    trainingRows: prices.length,
    holdoutRows: 0,
    trainingSeconds: 0,
    metrics,
    decision: { deploy: true, reason: 'deployed by a test', floor: 0 },
  });
  return model.version;
}
