/**
 * The AWS regions sdp deploys to, stated once: the README lists them and the stack refuses any other
 * (a synth-time error when the stack's region is known, a CloudFormation rule when it is not).
 * A region is supported when every service the stack uses is there:
 * - SageMaker's built-in XGBoost image has a registry account there (retraining.ts's map);
 * - CloudFront's origin access control exists there (cfn-lint E3006: not in the China regions,
 *   whose CloudFront is a separate partition's service).
 * What only a deploy settles: SageMaker Serverless Inference's own regional availability, which
 * AWS documents as a list of its own; a region on this list without it fails at CreateEndpoint.
 */
import { XGBOOST_REGISTRY_ACCOUNTS } from './retraining';

/** Regions left out, with the reason. */
export const UNSUPPORTED_REGIONS: Readonly<Record<string, string>> = {
  'cn-north-1': 'AWS::CloudFront::OriginAccessControl does not exist in the China regions',
  'cn-northwest-1': 'AWS::CloudFront::OriginAccessControl does not exist in the China regions',
};

export const SUPPORTED_REGIONS: readonly string[] = Object.keys(XGBOOST_REGISTRY_ACCOUNTS)
  .filter((region) => !(region in UNSUPPORTED_REGIONS))
  .sort();

export function unsupportedRegionMessage(region: string): string {
  const why = UNSUPPORTED_REGIONS[region];
  return `sdp does not deploy to ${region}${why ? ` (${why})` : ''}; supported regions: ${SUPPORTED_REGIONS.join(', ')}`;
}
