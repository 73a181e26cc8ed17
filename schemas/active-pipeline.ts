/**
 * The pipeline this process runs: every handler, the CDK stack and the local platform read it
 * here. A reference is a shipped pipeline's name (pipelines/index.ts) or a path to a pipeline
 * file (its default export, `definePipeline(...)`); several run side by side as one.
 *
 * Chosen by `usePipeline` (the CLI, the CDK app, and in a Lambda bundle the entry the stack
 * injects), else by SDP_PIPELINES (what the local platform gives its worker threads: a JSON array
 * of references), else the default (adtech).
 */
import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { combinePipelines, type Pipeline } from './pipeline';
import { DEFAULT_PIPELINES, SHIPPED_MODULES, SHIPPED_PIPELINES } from '../pipelines/index';

export const PIPELINES_ENV = 'SDP_PIPELINES';

let active: { pipeline: Pipeline; files: readonly string[] } | undefined;

/** The file a reference names: a shipped pipeline, or a path (from `cwd`) that must exist. */
export function pipelineFile(reference: string, cwd = process.cwd()): string {
  const shipped = SHIPPED_PIPELINES[reference];
  if (shipped) return shipped;
  const file = isAbsolute(reference) ? reference : resolve(cwd, reference);
  if (!existsSync(file)) throw new Error(`no pipeline ${reference}: not a shipped one (${Object.keys(SHIPPED_PIPELINES).join(', ')}) and no file ${file}`);
  return file;
}

function isPipeline(value: unknown): value is Pipeline {
  const p = value as Partial<Pipeline> | undefined;
  return typeof p?.name === 'string' && Array.isArray(p.streams) && Array.isArray(p.aggregations);
}

/** Loads pipeline files (each's default export) and combines them. */
export function loadPipelines(references: readonly string[], cwd = process.cwd()): { pipeline: Pipeline; files: string[] } {
  const files = references.map((r) => pipelineFile(r, cwd));
  const shipped = (file: string) => Object.keys(SHIPPED_PIPELINES).find((name) => SHIPPED_PIPELINES[name] === file);
  // A user's pipeline file is TypeScript: a process that does not run through tsx (the CLI's bundles) registers it to load one.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (files.some((f) => f.endsWith('.ts') && !shipped(f)) && !require.extensions['.ts']) require('tsx/cjs');
  const pipelines = files.map((file) => {
    const name = shipped(file);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = (name ? SHIPPED_MODULES[name]() : require(file)) as { default?: unknown };
    if (!isPipeline(loaded.default)) throw new Error(`${file} must \`export default definePipeline({...})\``);
    return loaded.default;
  });
  return { pipeline: combinePipelines(pipelines), files };
}

/** Makes `pipeline` the one this process runs (loaded from `files`, which worker threads load again). */
export function usePipeline(pipeline: Pipeline, files: readonly string[] = []): void {
  active = { pipeline, files };
}

/** The references the environment names, or the default. */
export function configuredPipelines(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env[PIPELINES_ENV];
  if (raw === undefined || raw === '') return [...DEFAULT_PIPELINES];
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((r) => typeof r === 'string')) {
    throw new Error(`${PIPELINES_ENV} must be a JSON array of pipeline names or files, got ${raw}`);
  }
  return parsed as string[];
}

export function activePipeline(): Pipeline {
  if (!active) {
    const loaded = loadPipelines(configuredPipelines());
    active = loaded;
  }
  return active.pipeline;
}

/** The files the active pipeline was loaded from (none when it was given as a value only). */
export function activePipelineFiles(): readonly string[] {
  activePipeline();
  return active!.files;
}

/** The environment a worker thread or child process needs to run the same pipeline. */
export function pipelineEnv(): Record<string, string> {
  activePipeline();
  return active!.files.length > 0 ? { [PIPELINES_ENV]: JSON.stringify(active!.files) } : {};
}
