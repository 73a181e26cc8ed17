// The on-failure destination of a stream consumer: an encrypted, TLS-only SQS queue keeping what failed for 14 days.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** A dead-letter queue for the event source mappings of `consumer` (named in the cdk-nag reason). */
export function deadLetterQueue(scope: Construct, consumer: string, overrides: Partial<sqs.QueueProps> = {}): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: RemovalPolicy.RETAIN,
    ...overrides,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself a dead-letter queue: the on-failure destination of the ${consumer} event source mapping(s).`,
  });
  return queue;
}
