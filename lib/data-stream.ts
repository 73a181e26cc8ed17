// A Kinesis data stream of the platform (events, aggregates), encrypted at rest with KMS, and the producer grant it needs.
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface DataStreamProps {
  /** Shard count; may be a token (e.g. a CfnParameter's valueAsNumber). @default 1 */
  readonly shardCount?: number;
  /** @default 24 hours, the retention included in the shard price */
  readonly retentionPeriod?: Duration;
  /**
   * A customer managed key, when compliance requires one. It costs a key per month plus KMS
   * calls that grow with producers and consumers. @default the AWS managed key aws/kinesis
   */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Overrides for the stream (applied last). */
  readonly streamProps?: Partial<kinesis.StreamProps>;
}

export class DataStream extends Construct {
  public readonly stream: kinesis.Stream;

  constructor(scope: Construct, id: string, props: DataStreamProps = {}) {
    super(scope, id);
    this.stream = new kinesis.Stream(this, 'Stream', {
      streamMode: kinesis.StreamMode.PROVISIONED,
      shardCount: props.shardCount ?? 1,
      retentionPeriod: props.retentionPeriod ?? Duration.hours(24),
      encryption: props.encryptionKey ? kinesis.StreamEncryption.KMS : kinesis.StreamEncryption.MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...props.streamProps,
    });
  }
}

/**
 * Lets a producer put records on a stream and nothing else. Unlike `stream.grantWrite`, it grants
 * no kinesis:ListShards and, with a customer managed key, only kms:GenerateDataKey (grantWrite
 * would add the wildcard actions kms:ReEncrypt* and kms:GenerateDataKey*).
 */
export function grantPutRecords(stream: kinesis.IStream, grantee: iam.IGrantable): iam.Grant {
  stream.encryptionKey?.grant(grantee, 'kms:GenerateDataKey');
  return stream.grant(grantee, 'kinesis:PutRecord', 'kinesis:PutRecords');
}

/** The retention of a stream defined in this app, in seconds (its CfnStream's hours; Kinesis' default, 24 h, when unset). */
export function streamRetentionSeconds(stream: kinesis.IStream): number {
  const cfn = stream.node.defaultChild;
  const hours = cfn instanceof kinesis.CfnStream ? cfn.retentionPeriodHours : undefined;
  if (hours !== undefined && Token.isUnresolved(hours)) throw new Error("the events stream's retention must be a number known at synth");
  return (hours ?? 24) * 3600;
}
