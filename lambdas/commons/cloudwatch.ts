/**
 * CloudWatch GetMetricData, built once per process, for the function that reads metrics (GET
 * /models/current's serving figures).
 *
 * @aws-sdk/client-cloudwatch is not a dependency of this package yet, so it is loaded by name when
 * first used: in Lambda, the Node.js 22 runtime provides AWS SDK v3 (all clients) to functions that
 * do not bundle it. When the package is added (same version as the other clients), this becomes
 * `import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch'` and the SDK
 * is bundled like the others.
 */
import type { GetMetricData, GetMetricDataInput, GetMetricDataOutput } from '../models/cloudwatch-figures';
import { quietSdkLogger, requestHandler } from './clients';

interface CloudWatchSdk {
  CloudWatchClient: new (config: object) => { send(command: unknown): Promise<unknown> };
  GetMetricDataCommand: new (input: GetMetricDataInput) => unknown;
}

let loaded: { client: InstanceType<CloudWatchSdk['CloudWatchClient']>; Command: CloudWatchSdk['GetMetricDataCommand'] } | undefined;

function load(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  // By a name in a variable, so the bundler leaves it to the runtime.
  const name = '@aws-sdk/client-cloudwatch';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require(name) as CloudWatchSdk;
  return (loaded = { client: new sdk.CloudWatchClient({ requestHandler: requestHandler(), logger: quietSdkLogger }), Command: sdk.GetMetricDataCommand });
}

export const getMetricData: GetMetricData = async (input) => {
  const { client, Command } = load();
  return (await client.send(new Command(input))) as GetMetricDataOutput;
};
