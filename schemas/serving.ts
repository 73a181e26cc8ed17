/**
 * The deployed model's serving figures over a sliding window, as GET /models/current and the
 * console show them: one shape for both homes. In AWS they are read from CloudWatch (the SageMaker
 * endpoint's own metrics and the predict function's Lambda metrics, lambdas/models/cloudwatch-figures.ts);
 * locally the model server measures the same things at the same places (local/model-server.ts).
 *
 * What each figure means, in both homes:
 * - `requests`: InvokeEndpoint calls that reached the deployed model (SageMaker `Invocations`): one
 *   per POST /predictions that passed validation, whatever number of auctions it carried. A POST
 *   refused as bad input (400) never reaches the model and is not counted here (see `predict`).
 * - `errors.badInput`: calls the model answered 4xx (`Invocation4XXErrors`: a request it cannot
 *   score); `errors.modelFailures`: calls it answered 5xx (`Invocation5XXErrors`).
 * - `modelLatencyMs`: the time the model took to answer, as seen by the endpoint (`ModelLatency`).
 * - `predict`: the predict function (POST /predictions behind the API): every call, refused ones
 *   included (Lambda `Invocations`), and its run time (Lambda `Duration`).
 */
import { z } from 'zod';

/** The window the figures cover, ending now: the last 5 minutes. */
export const SERVING_WINDOW_SECONDS = 300;

/** p50 and p99 in milliseconds; null when nothing was measured in the window. */
const latencyMs = z.object({
  p50: z.number().nonnegative().nullable(),
  p99: z.number().nonnegative().nullable(),
});

const count = () => z.number().int().nonnegative();

export const servingFiguresSchema = z.object({
  /** Where the figures come from. */
  source: z.enum(['cloudwatch', 'local']),
  window: z.object({
    seconds: z.number().int().positive(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
  }),
  requests: count(),
  /** requests / window.seconds. */
  requestsPerSecond: z.number().nonnegative(),
  errors: z.object({ badInput: count(), modelFailures: count() }),
  modelLatencyMs: latencyMs,
  predict: z.object({ calls: count(), latencyMs }),
});

export type ServingFigures = z.infer<typeof servingFiguresSchema>;
export type LatencyFigures = z.infer<typeof latencyMs>;

/** What GET /models/current carries as `serving`: the figures, or why they could not be read. */
export const servingFieldSchema = z.union([servingFiguresSchema, z.object({ unavailable: z.string() })]);
export type ServingField = z.infer<typeof servingFieldSchema>;

/** The window ending at `to` (epoch ms). */
export function servingWindow(to: number, seconds = SERVING_WINDOW_SECONDS): ServingFigures['window'] {
  return { seconds, from: new Date(to - seconds * 1000).toISOString(), to: new Date(to).toISOString() };
}

/** Where the models function learns its figure sources (the endpoint's name is modelEndpoint.env). */
export const servingEnv = {
  /** The predict function's name: the FunctionName dimension of its Lambda metrics. */
  predictFunctionName: 'PREDICT_FUNCTION_NAME',
  /** Local platform only: the model server's figures (it stands in for CloudWatch there). */
  localFiguresUrl: 'SDP_LOCAL_SERVING_FIGURES_URL',
} as const;
