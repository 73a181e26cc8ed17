/**
 * The S3 client, built once per process, for the functions that use the lake (its own module so
 * the others do not bundle it). Locally AWS_ENDPOINT_URL_S3 points it at s3rver, which needs
 * path-style addressing and checksums only where required.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { quietSdkLogger, requestHandler } from './clients';

let client: S3Client | undefined;

export function s3(): S3Client {
  return (client ??= new S3Client({
    requestHandler: requestHandler(),
    logger: quietSdkLogger,
    forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3),
    requestChecksumCalculation: 'WHEN_REQUIRED',
  }));
}
