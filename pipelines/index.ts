/** The pipelines the project ships, by the name `sdp local --pipeline <name>` and `-c sdp:pipelines=<names>` take, and the default. */
import { join } from 'node:path';

export const SHIPPED_PIPELINES: Readonly<Record<string, string>> = {
  adtech: join(__dirname, 'adtech.ts'),
  telemetry: join(__dirname, 'telemetry.ts'),
};

/** What runs when nothing says otherwise. */
export const DEFAULT_PIPELINES: readonly string[] = ['adtech'];
