/**
 * `-c sdp:tableCapacity=provisioned`: the tables whose traffic grows with events (tx-state,
 * aggregates, the aggregator's journal, lake-seen) on provisioned capacity with target tracking auto
 * scaling of reads and writes (70 %, from 1 unit to `-c sdp:maxTableCapacity`, default 4,000); the
 * default template unchanged (on demand); cdk-nag clean in both modes; bad context values refused at
 * synth with one line naming the value.
 */
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { SdpStack } from '../../lib/sdp-stack';
import { costReport } from '../../local/cost/bill';
import { readInventory } from '../../local/cost/inventory';
import { loadMeasurements, MEASUREMENTS_FILE } from '../../local/cost/measurements';
import type { CfnTemplate } from '../../local/cost/template';
import { tableCapacity } from '../../schemas/resources';
import { synthesize, type Json } from './synth';

const growing = (stack: SdpStack): Record<string, IConstruct> => ({
  'tx-state': stack.stateTables.txState,
  aggregates: stack.stateTables.aggregates,
  'aggregator-journal': stack.stateTables.aggregatorJournal,
  'lake-seen': stack.lakeWriter.lakeSeen,
});

const byDefault = synthesize({ bundling: false });

describe('by default (on demand)', () => {
  const { stack, template } = byDefault;
  const resources = template.toJSON().Resources as Record<string, Json>;

  it('bills every table per request and scales nothing', () => {
    const tablesOf = Object.values(resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
    expect(tablesOf.length).toBe(5);
    for (const t of tablesOf) {
      expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(t.Properties.ProvisionedThroughput).toBeUndefined();
    }
    expect(Object.values(resources).filter((r) => r.Type.startsWith('AWS::ApplicationAutoScaling::'))).toEqual([]);
    expect(Object.keys(growing(stack))).toHaveLength(4);
  });

  it('is the same template as -c sdp:tableCapacity=on-demand', () => {
    const explicit = synthesize({ bundling: false, context: { [tableCapacity.context]: 'on-demand' } }).template.toJSON();
    expect(explicit).toEqual(template.toJSON());
  });
});

describe('-c sdp:tableCapacity=provisioned', () => {
  const synthesized = synthesize({ bundling: false, context: { [tableCapacity.context]: 'provisioned' } });
  const { stack } = synthesized;
  const resources = synthesized.template.toJSON().Resources as Record<string, Json>;
  const logicalId = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const targetsOf = (tableId: string) => ofType('AWS::ApplicationAutoScaling::ScalableTarget').filter(([, r]) => JSON.stringify(r.Properties.ResourceId).includes(`"Ref":"${tableId}"`));

  it('leaves no cdk-nag finding', () => {
    expect(synthesized.violations).toEqual([]);
  });

  it.each(Object.keys(growing(stack)))('%s: provisioned from 1 read and 1 write unit, encrypted, with point-in-time recovery', (name) => {
    const table = resources[logicalId(growing(stack)[name])];
    expect(table.Properties.BillingMode ?? 'PROVISIONED').toBe('PROVISIONED');
    expect(table.Properties.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 1, WriteCapacityUnits: 1 });
    expect(table.Properties).toMatchObject({ SSESpecification: { SSEEnabled: true }, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
  });

  it.each(Object.keys(growing(stack)))('%s: reads and writes scale between 1 and 4,000 units, tracking 70 %% utilization', (name) => {
    const tableId = logicalId(growing(stack)[name]);
    const targets = targetsOf(tableId);
    expect(targets.map(([, t]) => t.Properties.ScalableDimension).sort()).toEqual(['dynamodb:table:ReadCapacityUnits', 'dynamodb:table:WriteCapacityUnits']);
    for (const [targetId, target] of targets) {
      expect(target.Properties).toMatchObject({ ServiceNamespace: 'dynamodb', MinCapacity: 1, MaxCapacity: 4000 });
      const policies = ofType('AWS::ApplicationAutoScaling::ScalingPolicy').filter(([, p]) => p.Properties.ScalingTargetId?.Ref === targetId);
      const metric = target.Properties.ScalableDimension.endsWith('ReadCapacityUnits') ? 'DynamoDBReadCapacityUtilization' : 'DynamoDBWriteCapacityUtilization';
      expect(policies.map(([, p]) => p.Properties)).toEqual([
        expect.objectContaining({
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: metric }, TargetValue: 70 },
        }),
      ]);
    }
  });

  it("keeps the compaction's job-leases table on demand (a few requests an hour, whatever the traffic)", () => {
    const leases = resources[logicalId(stack.compaction.leases)];
    expect(leases.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(targetsOf(logicalId(stack.compaction.leases))).toEqual([]);
  });

  it('sdp cost prices it: the four tables by capacity at 70 % from 1 unit, the alarms auto scaling keeps, less than on demand at 100 events/s', () => {
    const measurements = loadMeasurements(join(__dirname, '..', '..', MEASUREMENTS_FILE));
    const priced = (template: CfnTemplate) => {
      const inventory = readInventory(template);
      expect(inventory.unpriced).toEqual([]);
      return { inventory, report: costReport(inventory, measurements, { eventsPerSecond: 100, eventsPerRequest: 100 }, { region: 'us-east-1', template: 'synthesized', measurementsFile: MEASUREMENTS_FILE }) };
    };
    const { inventory, report } = priced(synthesized.template.toJSON() as CfnTemplate);
    const provisioned = inventory.tables.filter((t) => !t.onDemand);
    expect(provisioned.map((t) => t.name).sort()).toEqual(['aggregates', 'aggregator-journal', 'lake-seen', 'tx-state']);
    for (const t of provisioned) expect(t.scaling).toEqual({ read: { min: 1, max: 4000, targetPercent: 70 }, write: { min: 1, max: 4000, targetPercent: 70 } });
    expect(report.components.filter((c) => /^[a-z-]+: \d+ (WCU|RCU) provisioned/.test(c.item))).toHaveLength(8);
    expect(report.components.find((c) => c.item === '32 alarms auto scaling keeps for 8 table scaling policies')?.usd).toBeCloseTo(3.2, 9);
    expect(report.components.some((c) => c.service === 'DynamoDB' && / (write|read) units \(/.test(c.item) && !c.item.startsWith('job-leases'))).toBe(false);
    const onDemand = priced(byDefault.template.toJSON() as CfnTemplate).report;
    expect(report.byService.DynamoDB).toBeLessThan(onDemand.byService.DynamoDB / 2);
  });

  it('-c sdp:maxTableCapacity=N sets the maximum of every scalable target', () => {
    const bounded = synthesize({ bundling: false, context: { [tableCapacity.context]: 'provisioned', [tableCapacity.maxContext]: '250' } }).template.toJSON();
    const targets = Object.values(bounded.Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::ApplicationAutoScaling::ScalableTarget');
    expect(targets).toHaveLength(8);
    expect(new Set(targets.map((t) => t.Properties.MaxCapacity))).toEqual(new Set([250]));
  });
});

describe('context values refused at synth', () => {
  const build = (context: Record<string, unknown>) => () => new SdpStack(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }), 'SdpStack');

  it.each([
    [{ [tableCapacity.context]: 'fixed' }, 'context sdp:tableCapacity must be on-demand or provisioned, got "fixed"'],
    [{ [tableCapacity.context]: 'provisioned', [tableCapacity.maxContext]: '0' }, 'context sdp:maxTableCapacity must be a whole number of capacity units from 1 to 40000 (DynamoDB\'s default table quota), got "0"'],
    [{ [tableCapacity.context]: 'provisioned', [tableCapacity.maxContext]: 'lots' }, 'got "lots"'],
    [{ [tableCapacity.context]: 'provisioned', [tableCapacity.maxContext]: '2.5' }, 'got "2.5"'],
    [{ [tableCapacity.context]: 'provisioned', [tableCapacity.maxContext]: '50000' }, 'got "50000"'],
    [{ [tableCapacity.maxContext]: '100' }, 'context sdp:maxTableCapacity applies only with sdp:tableCapacity=provisioned'],
  ])('%j', (context, message) => {
    expect(build(context)).toThrow(message);
  });

  it('a number from cdk.json is accepted as well as a string from -c', () => {
    expect(build({ [tableCapacity.context]: 'provisioned', [tableCapacity.maxContext]: 100 })).not.toThrow();
  });
});
