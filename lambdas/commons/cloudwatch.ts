/**
 * CloudWatch GetMetricData, built once per process, for the function that reads metrics (GET
 * /models/current's serving figures). Only that function imports this file, so only its bundle
 * carries the CloudWatch client.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { GetMetricData, GetMetricDataOutput } from '../models/cloudwatch-figures';
import { quietSdkLogger, requestHandler } from './clients';

let client: CloudWatchClient | undefined;

export const getMetricData: GetMetricData = async (input) => {
  client ??= new CloudWatchClient({ requestHandler: requestHandler(), logger: quietSdkLogger });
  return (await client.send(new GetMetricDataCommand(input))) as GetMetricDataOutput;
};
