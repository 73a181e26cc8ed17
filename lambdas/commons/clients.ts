/**
 * AWS SDK clients shared by the handlers, built once per process. In AWS they use the defaults;
 * locally the runtime points them at the emulators through the SDK's standard per-service
 * endpoint variables (AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL_DYNAMODB). Only the clients a
 * handler uses belong here: every import lands in every function's bundle.
 */
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** HTTP/1.1 with keep-alive: kinesalite cannot speak HTTP/2, and pooled sockets keep hot paths cheap. */
export function requestHandler(): NodeHttpHandler {
  return new NodeHttpHandler({
    httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
  });
}

/**
 * The SDK's default logger drops everything, yet its logger middleware still copies every request
 * and response through the schema's sensitive-data filter to hand them to `logger.info` (and, on
 * errors, `logger.error`): a tenth of the stream consumers' CPU in a profile. It calls those two
 * as `logger?.info?.(…)`, so a logger without them skips the copy; the rest is dropped as before.
 */
export const quietSdkLogger = { trace: () => {}, debug: () => {}, warn: () => {} } as unknown as NonNullable<KinesisClientConfig['logger']>;

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

export const kinesis = lazy(() => new KinesisClient({ requestHandler: requestHandler(), logger: quietSdkLogger }));

export const dynamo = lazy(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({ requestHandler: requestHandler(), logger: quietSdkLogger }), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);
