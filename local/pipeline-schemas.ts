/**
 * The local check of schema evolution (schemas/pipeline-evolution.ts) at `sdp local` start: the
 * data dir records the schemas it holds data for in `pipeline-schemas.json`. A breaking change of
 * the pipeline run stops the start with what changed and what to do instead; an additive one (a
 * new optional field, stream, aggregation or measure) is recorded and taken at once. The file is
 * validated when read, like the other state files (state-check.ts): a damaged one stops the start.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pipeline } from '../schemas/pipeline';
import { checkEvolution, parsePipelineSchema, pipelineSchema, type PipelineSchema } from '../schemas/pipeline-evolution';
import { StateError } from './state-error';

export const PIPELINE_SCHEMAS_FILE = 'pipeline-schemas.json';

/** Checks `pipeline` against the data dir's schemas and records it; throws on a breaking change or a damaged file. */
export function checkPipelineSchemas(dataDir: string, pipeline: Pipeline): void {
  const path = join(dataDir, PIPELINE_SCHEMAS_FILE);
  let baseline: PipelineSchema | undefined;
  if (existsSync(path)) {
    try {
      baseline = parsePipelineSchema(JSON.parse(readFileSync(path, 'utf8')));
    } catch (err) {
      throw new StateError(path, `not the schemas of the data dir (${(err as Error).message})`, 'restore it, or delete the data dir to start afresh');
    }
  }
  const { next, changed } = checkEvolution(baseline, pipelineSchema(pipeline), path);
  if (!changed) return;
  // Written whole, then renamed: a crash leaves the old file or the new one, never half of one.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}
