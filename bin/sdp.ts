/**
 * The `sdp` command line: everything a user runs. Each command that works on the local platform
 * takes --data-dir (SDP_DATA_DIR, default .sdp/). User errors end with a one-line reason and a
 * non-zero exit, never a stack trace.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_SHARDS, LocalPlatform } from '../local/platform';

class UserError extends Error {}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be an integer from 0 to 65535');
  return n;
}

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'where the local platform keeps its data').env('SDP_DATA_DIR').default('.sdp');

const program = new Command('sdp')
  .description('sdp: a streaming data platform for ad-tech events (bids, impressions, clicks)')
  .showHelpAfterError();

program
  .command('local')
  .description('run the whole platform on this machine (emulated Kinesis, DynamoDB and S3; no AWS account)')
  .addOption(dataDirOption())
  .addOption(new Option('--port <port>', 'HTTP port of the local API').env('PORT').default(3000).argParser(port))
  .addOption(new Option('--shards <n>', 'shards of the events stream').default(DEFAULT_SHARDS).argParser(positiveInt('shards')))
  .addOption(new Option('--aggregation-period <seconds>', 'aggregation window length').env('AGGREGATION_PERIOD_SECONDS').argParser(positiveInt('aggregation period')))
  .addOption(new Option('--log-level <level>', 'handler log level').choices(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'))
  .option('--json', 'print the outputs as one JSON line once ready')
  .action(async (opts: { dataDir: string; port: number; shards: number; aggregationPeriod?: number; logLevel: string; json?: boolean }) => {
    const platform = new LocalPlatform({
      dataDir: opts.dataDir,
      port: opts.port,
      shards: opts.shards,
      aggregationPeriodSeconds: opts.aggregationPeriod,
      logLevel: opts.logLevel,
      log: opts.json ? (line) => process.stderr.write(`${line}\n`) : undefined,
    });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${signal}: stopping (finishing batches in progress)...\n`);
      await platform.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    let outputs;
    try {
      outputs = await platform.start();
    } catch (err) {
      throw new UserError(`could not start the local platform: ${(err as Error).message}`);
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(outputs)}\n`);
    } else {
      console.log('sdp is running locally. Outputs:');
      for (const [key, value] of Object.entries(outputs)) console.log(`  ${key.padEnd(18)} ${value}`);
      console.log(`Try: curl -s -XPOST ${outputs.UrlForAPI}bid -H 'content-type: application/json' -d '{"tx_id":"t1","app_uid":"u1","campaign_item_id":42}'`);
      console.log('Ctrl-C stops it; a restart resumes from where it stopped.');
    }
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`sdp: ${message}\n`);
  if (!(err instanceof UserError) && process.env.SDP_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
