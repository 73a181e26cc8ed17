/**
 * Bench `generate`: `sdp generate` at its defaults (batch size, concurrency, rate) against a local
 * platform started for the run (perf/support/platform-process.ts), as a user runs it: a separate
 * process, timed by itself. Figures: events/s sent (goal ≥ 5,000), requests, events per request.
 */
import type { SendResult } from '../local/send';
import { PlatformProcess } from './support/platform-process';
import { progress, type BenchResult } from './support/report';
import { runSdp } from './support/sdp';


export const generateDefaults = {
  /** Auctions generated (about 1.75 events each, resends included). */
  auctions: 20_000,
  /** Shards of the events stream. */
  shards: 2,
};
export type GenerateOptions = typeof generateDefaults;

export const GENERATE_GOAL_EVENTS_PER_SECOND = 5000;

export async function runGenerate(options: GenerateOptions): Promise<BenchResult> {
  progress(`starting the local platform (${options.shards} shards)`);
  const platform = await PlatformProcess.start({ shards: options.shards });
  try {
    progress(`sdp generate --auctions ${options.auctions} (every other option at its default)`);
    const { stdout } = await runSdp(['generate', '--auctions', String(options.auctions), '--url', platform.outputs.UrlForAPI, '--json']);
    const summary = JSON.parse(stdout) as { events: number; sent: SendResult & { seconds: number } };
    const { sent } = summary;
    return {
      bench: 'generate',
      figures: [
        { key: 'events_per_second', label: 'events sent per second', value: sent.events / sent.seconds, unit: 'events/s', goal: { op: '>=', target: GENERATE_GOAL_EVENTS_PER_SECOND } },
        { key: 'events', label: 'events sent (resends included)', value: sent.events, unit: 'events' },
        { key: 'seconds', label: 'time to send them', value: sent.seconds, unit: 's' },
        { key: 'requests', label: 'requests', value: sent.requests, unit: 'requests', note: `${sent.retries} retried` },
        { key: 'events_per_request', label: 'events per request', value: sent.events / sent.requests, unit: 'events' },
      ],
      details: { auctions: options.auctions, shards: options.shards },
    };
  } finally {
    await platform.stop();
  }
}
