/**
 * The CloudFormation template `sdp cost` bills: a file given with --template, else the one
 * `npm run synth` wrote to cdk.out/ when it is newer than every source of the stack (bin/app.ts,
 * lib/, schemas/, lambdas/), else the stack synthesized here and now, in-process, offline and
 * without bundling the functions (the template is all the bill needs): about 5 s on a clean clone.
 * Given context values (`cdk synth -c key=value`, e.g. --table-capacity), it always synthesizes
 * with them: cdk.out/ may have been synthesized with others.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface CfnResource {
  Type: string;
  Properties?: Json;
}

export interface CfnTemplate {
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
  Resources: Record<string, CfnResource>;
}

export interface LoadedTemplate {
  template: CfnTemplate;
  /** Where it came from, for the report: a file path or "synthesized". */
  origin: string;
}

const STACK = 'SdpStack';

/** The newest modification time of the files under the given paths (recursively), ms. */
function newestMtime(paths: string[]): number {
  let newest = 0;
  const visit = (path: string) => {
    const s = statSync(path, { throwIfNoEntry: false });
    if (!s) return;
    if (s.isDirectory()) {
      for (const entry of readdirSync(path)) if (entry !== 'node_modules') visit(join(path, entry));
    } else newest = Math.max(newest, s.mtimeMs);
  };
  paths.forEach(visit);
  return newest;
}

export function parseTemplate(text: string, origin: string): CfnTemplate {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${origin} is not a JSON template: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || typeof (parsed as CfnTemplate).Resources !== 'object') throw new Error(`${origin} has no Resources: not a CloudFormation template`);
  return parsed as CfnTemplate;
}

/** The stack synthesized in-process (cdk.json's context and `context`, cdk-nag left out, functions not bundled). */
export function synthesizeTemplate(root: string, context: Record<string, string> = {}): CfnTemplate {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { SdpStack } = require(join(root, 'lib', 'sdp-stack')) as typeof import('../../lib/sdp-stack');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const outdir = mkdtempSync(join(tmpdir(), 'sdp-cost-'));
  try {
    const app = new App({ outdir, context: { ...cdkJson.context, ...context, 'aws:cdk:bundling-stacks': [] } });
    const stack = new SdpStack(app, STACK);
    app.synth();
    return parseTemplate(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8'), 'the synthesized template');
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The template to bill: --template, else synthesized with `context` when given, else a fresh cdk.out/, else synthesized. */
export function loadTemplate(root: string, file?: string, context?: Record<string, string>): LoadedTemplate {
  if (file && context) throw new Error(`a template file and context values (${Object.keys(context).join(', ')}): the template was synthesized with its own, give one or the other`);
  if (context) {
    const given = Object.entries(context).map(([k, v]) => `-c ${k}=${v}`).join(' ');
    return { template: synthesizeTemplate(root, context), origin: `synthesized now with ${given}` };
  }
  if (file) {
    if (!existsSync(file)) throw new Error(`no template at ${file}`);
    return { template: parseTemplate(readFileSync(file, 'utf8'), file), origin: file };
  }
  const synthesized = join(root, 'cdk.out', `${STACK}.template.json`);
  const built = statSync(synthesized, { throwIfNoEntry: false });
  const sources = ['bin/app.ts', 'lib', 'schemas', 'lambdas', 'cdk.json'].map((p) => join(root, p));
  if (built && built.mtimeMs >= newestMtime(sources)) {
    return { template: parseTemplate(readFileSync(synthesized, 'utf8'), synthesized), origin: 'cdk.out/SdpStack.template.json (npm run synth)' };
  }
  return { template: synthesizeTemplate(root), origin: built ? 'synthesized now (cdk.out/ is older than the sources)' : 'synthesized now (no cdk.out/)' };
}
