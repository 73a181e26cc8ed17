/** The pipelines the project ships, by the name `sdp local --pipeline <name>` and `-c sdp:pipelines=<names>` take, and the default. */
import { join } from 'node:path';

/** Set in the CLI's bundles (bin/sdp.js): the bin folder, beside which pipelines/ is (__dirname is the bundle's). */
declare const SDP_BIN_DIR: string | undefined;
const DIR = typeof SDP_BIN_DIR === 'string' ? join(SDP_BIN_DIR, '..', 'pipelines') : __dirname;

export const SHIPPED_PIPELINES: Readonly<Record<string, string>> = {
  adtech: join(DIR, 'adtech.ts'),
  telemetry: join(DIR, 'telemetry.ts'),
};

/** What runs when nothing says otherwise. */
export const DEFAULT_PIPELINES: readonly string[] = ['adtech'];

/**
 * The shipped pipelines' modules, required by name: a bundle (the CLI's, a Lambda's) holds them
 * compiled, so loading one needs no TypeScript loader (a file path is required as it is).
 */
export const SHIPPED_MODULES: Readonly<Record<string, () => { default?: unknown }>> = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  adtech: () => require('./adtech'),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  telemetry: () => require('./telemetry'),
};
