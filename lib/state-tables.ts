// The DynamoDB tables the aggregator keeps its state in, built from the definitions in schemas/resources.ts, on demand or provisioned with auto scaling (tableCapacity).
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableCapacity, tables, type TableCapacityMode, type TableDef } from '../schemas/resources';
import { contextInteger } from './context';

/** How a table whose traffic grows with events is billed (schemas/resources.ts tableCapacity). */
export type TableCapacity = { readonly mode: 'on-demand' } | { readonly mode: 'provisioned'; readonly maxCapacity: number };

export interface StateTablesProps {
  /** @default RemovalPolicy.RETAIN: aggregates are the platform's product */
  readonly removalPolicy?: RemovalPolicy;
  readonly txStateProps?: Partial<dynamodb.TableProps>;
  readonly aggregatesProps?: Partial<dynamodb.TableProps>;
  readonly aggregatorJournalProps?: Partial<dynamodb.TableProps>;
  /** @default on demand */
  readonly capacity?: TableCapacity;
}

export class StateTables extends Construct {
  /** The aggregator's per-key state (a join's or an identity's), expired by TTL. */
  public readonly txState: dynamodb.Table;
  /** One row per (aggregation group, window): contract 1 of issue 19. */
  public readonly aggregates: dynamodb.Table;
  /** The aggregator's per-shard journal and dead-letter evidence, expired by TTL. */
  public readonly aggregatorJournal: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTablesProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.txState = tableFrom(this, 'TxState', tables.txState, removalPolicy, props.txStateProps, props.capacity);
    this.aggregates = tableFrom(this, 'Aggregates', tables.aggregates, removalPolicy, props.aggregatesProps, props.capacity);
    this.aggregatorJournal = tableFrom(this, 'AggregatorJournal', tables.aggregatorJournal, removalPolicy, props.aggregatorJournalProps, props.capacity);
  }
}

/**
 * A DynamoDB table from its definition in schemas/resources.ts: encrypted, with PITR, on demand, or
 * provisioned (`capacity`) from tableCapacity.minCapacity with target tracking auto scaling of its
 * reads and writes at tableCapacity.targetUtilizationPercent, up to the capacity's maximum.
 */
export function tableFrom(
  scope: Construct,
  id: string,
  def: TableDef,
  removalPolicy: RemovalPolicy,
  overrides: Partial<dynamodb.TableProps> = {},
  capacity: TableCapacity = { mode: 'on-demand' },
): dynamodb.Table {
  const provisioned = capacity.mode === 'provisioned';
  const table = new dynamodb.Table(scope, id, {
    partitionKey: attribute(def.partitionKey),
    sortKey: def.sortKey && attribute(def.sortKey),
    timeToLiveAttribute: def.ttlAttribute,
    billingMode: provisioned ? dynamodb.BillingMode.PROVISIONED : dynamodb.BillingMode.PAY_PER_REQUEST,
    ...(provisioned ? { readCapacity: tableCapacity.minCapacity, writeCapacity: tableCapacity.minCapacity } : {}),
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy,
    ...overrides,
  });
  if (capacity.mode === 'provisioned') {
    const range = { minCapacity: tableCapacity.minCapacity, maxCapacity: capacity.maxCapacity };
    // Application Auto Scaling's target tracking: it creates and manages the CloudWatch alarms that move the capacity.
    // The scalable targets name its service-linked role, which AWS makes on first use ("automatically created in your
    // AWS account when registering DynamoDB resources as scalable targets"): the template holds no role for it.
    for (const scalable of [table.autoScaleReadCapacity(range), table.autoScaleWriteCapacity(range)]) {
      scalable.scaleOnUtilization({ targetUtilizationPercent: tableCapacity.targetUtilizationPercent });
    }
  }
  return table;
}

/**
 * The table capacity a stack is deployed with: `-c sdp:tableCapacity=on-demand|provisioned`
 * (default on-demand) and, when provisioned, `-c sdp:maxTableCapacity=N` (default
 * tableCapacity.defaultMaxCapacity); synth fails with a line naming the value otherwise.
 */
export function tableCapacityFromContext(scope: Construct): TableCapacity {
  const mode: unknown = scope.node.tryGetContext(tableCapacity.context) ?? 'on-demand';
  if (!tableCapacity.modes.includes(mode as TableCapacityMode)) {
    throw new Error(`context ${tableCapacity.context} must be ${tableCapacity.modes.join(' or ')}, got ${JSON.stringify(mode)}`);
  }
  const max: unknown = scope.node.tryGetContext(tableCapacity.maxContext);
  if (mode === 'on-demand') {
    if (max !== undefined) throw new Error(`context ${tableCapacity.maxContext} applies only with ${tableCapacity.context}=provisioned (on-demand tables have no capacity to bound)`);
    return { mode: 'on-demand' };
  }
  const maxCapacity = contextInteger(scope, tableCapacity.maxContext, {
    byDefault: tableCapacity.defaultMaxCapacity,
    min: tableCapacity.minCapacity,
    max: tableCapacity.maxCapacityQuota,
    unit: 'capacity units',
    why: "DynamoDB's default table quota",
  });
  return { mode: 'provisioned', maxCapacity };
}

function attribute(key: { name: string; type: 'S' | 'N' }): dynamodb.Attribute {
  const type = key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
  return { name: key.name, type };
}
