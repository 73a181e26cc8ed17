/**
 * The synth-time check of schema evolution (schemas/pipeline-evolution.ts): each pipeline file of
 * the active pipeline has a committed baseline beside it, `<name>.schema.json` (the shipped ones
 * in pipelines/), the schema of the data the deployed stacks have written. A breaking change stops
 * the synth with what changed and what to do instead; an additive change, or a missing baseline,
 * writes the baseline, which the user commits with the change.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { activePipelineFiles } from '../schemas/active-pipeline';
import type { Pipeline } from '../schemas/pipeline';
import { checkEvolution, parsePipelineSchema, pipelineSchema } from '../schemas/pipeline-evolution';

/** Where a pipeline file's baseline is. */
export function baselineFile(pipelineFile: string, pipeline: Pipeline): string {
  return join(dirname(pipelineFile), `${pipeline.name}.schema.json`);
}

/** Checks every pipeline file of the active pipeline against its baseline; returns the baselines written. Throws on a breaking change or a damaged baseline. */
export function checkPipelineBaselines(files: readonly string[] = activePipelineFiles()): string[] {
  const written: string[] = [];
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pipeline = (require(file) as { default: Pipeline }).default;
    const path = baselineFile(file, pipeline);
    let baseline;
    if (existsSync(path)) {
      try {
        baseline = parsePipelineSchema(JSON.parse(readFileSync(path, 'utf8')));
      } catch (err) {
        throw new Error(`${path}: not a pipeline schema baseline (${(err as Error).message}); restore it from version control`);
      }
    }
    const { next, changed } = checkEvolution(baseline, pipelineSchema(pipeline), path);
    if (changed) {
      writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`);
      written.push(path);
    }
  }
  return written;
}
