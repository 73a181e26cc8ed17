// The DynamoDB tables the aggregator keeps its state in, built from the definitions in schemas/resources.ts.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tables, type TableDef } from '../schemas/resources';

export interface StateTablesProps {
  /** @default RemovalPolicy.RETAIN: aggregates are the platform's product */
  readonly removalPolicy?: RemovalPolicy;
  readonly txStateProps?: Partial<dynamodb.TableProps>;
  readonly aggregatesProps?: Partial<dynamodb.TableProps>;
  readonly aggregatorJournalProps?: Partial<dynamodb.TableProps>;
}

export class StateTables extends Construct {
  /** Per-auction join state, expired by TTL. */
  public readonly txState: dynamodb.Table;
  /** One row per (campaign, window). */
  public readonly aggregates: dynamodb.Table;
  /** The aggregator's per-shard journal and dead-letter evidence, expired by TTL. */
  public readonly aggregatorJournal: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTablesProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.txState = tableFrom(this, 'TxState', tables.txState, removalPolicy, props.txStateProps);
    this.aggregates = tableFrom(this, 'Aggregates', tables.aggregates, removalPolicy, props.aggregatesProps);
    this.aggregatorJournal = tableFrom(this, 'AggregatorJournal', tables.aggregatorJournal, removalPolicy, props.aggregatorJournalProps);
  }
}

/** A DynamoDB table from its definition in schemas/resources.ts: on demand, encrypted, with PITR. */
export function tableFrom(
  scope: Construct,
  id: string,
  def: TableDef,
  removalPolicy: RemovalPolicy,
  overrides: Partial<dynamodb.TableProps> = {},
): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    partitionKey: attribute(def.partitionKey),
    sortKey: def.sortKey && attribute(def.sortKey),
    timeToLiveAttribute: def.ttlAttribute,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy,
    ...overrides,
  });
}

function attribute(key: { name: string; type: 'S' | 'N' }): dynamodb.Attribute {
  const type = key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
  return { name: key.name, type };
}
