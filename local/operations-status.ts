/**
 * What the live console shows of the platform's operation besides the counts: health (components,
 * consumer lag), the latest dead letters, recent runs of each scheduled job and recent rejected
 * ingestion requests, and the deployed model (null before the first, so the console need not ask
 * GET /models/current, which answers 404 until then). Built from the same sources as GET /health,
 * `sdp dlq list`, `sdp jobs` and GET /models/current.
 */
import { deadLetterSummaries } from './dead-letters';
import { healthReport, type HealthReport, type HealthSources } from './health';
import { jobRuns, type JobRun } from './jobs';
import type { Rejection, RejectionLog } from './rejections';

const DEAD_LETTERS_SHOWN = 20;
const RUNS_SHOWN = 5;

export interface DeadLetterSummary {
  consumer: string;
  timestamp: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize: number;
  functionError: string;
}

export interface OperationsStatus {
  health: HealthReport;
  /** Newest first. */
  deadLetters: DeadLetterSummary[];
  deadLettersTotal: number;
  /** Per job, its latest runs, newest first. */
  jobs: Record<string, JobRun[]>;
  /** Newest first. */
  rejections: Rejection[];
  /** The deployed model's registry record with its serving figures (as GET /models/current answers), null while none is. */
  model: unknown;
}

export interface OperationsSources {
  dataDir: string;
  health: HealthSources;
  jobs: readonly string[];
  rejections: RejectionLog;
  /** The deployed model's registry record with its serving figures, or null; absent when no active pipeline declares a model. */
  model?: () => Promise<unknown>;
}

export async function operationsStatus(sources: OperationsSources): Promise<OperationsStatus> {
  const letters = deadLetterSummaries(sources.dataDir);
  return {
    health: await healthReport(sources.health),
    deadLetters: letters
      .slice(-DEAD_LETTERS_SHOWN)
      .reverse()
      .map(({ consumer, letter }) => ({
        consumer,
        timestamp: letter.timestamp,
        shardId: letter.KinesisBatchInfo.shardId,
        startSequenceNumber: letter.KinesisBatchInfo.startSequenceNumber,
        endSequenceNumber: letter.KinesisBatchInfo.endSequenceNumber,
        batchSize: letter.KinesisBatchInfo.batchSize,
        functionError: letter.responseContext.functionError,
      })),
    deadLettersTotal: letters.length,
    jobs: Object.fromEntries(sources.jobs.map((job) => [job, jobRuns(sources.dataDir, job).slice(-RUNS_SHOWN).reverse()])),
    rejections: sources.rejections.recent(),
    model: (await sources.model?.()) ?? null,
  };
}
