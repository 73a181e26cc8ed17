/**
 * `sdp cost` on provisioned tables (local/cost/table-capacity.ts and its use in bill.ts): the small
 * hand-made stack of cost-bill.test.ts with its table provisioned and auto scaled (target tracking
 * at 70 %, 1 to 4,000 units), priced by hand: capacity = units consumed per second ÷ the target,
 * whole units, at least the minimum (idle: the minimum), plus the alarms auto scaling keeps; the
 * maximum caps it with a warning; a table without auto scaling is billed at its fixed capacity.
 */
import { computeBill, costReport } from '../../local/cost/bill';
import { readInventory } from '../../local/cost/inventory';
import { dimensionCapacity } from '../../local/cost/table-capacity';
import type { CfnTemplate } from '../../local/cost/template';
import { roundMeasurements, smallTemplate } from '../support/cost-fixture';

const HOURS = 730;
const WCU_HOUR = 0.00065;
const RCU_HOUR = 0.00013;
const ALARM = 0.1;

/** The fixture with tx-state provisioned at 1 read and 1 write unit, each dimension scaled between `min` and `max` at `target` % (no policies: `target` undefined). */
function provisionedStack({ min = 1, max = 4000, target = 70 as number | undefined, scaled = true } = {}): CfnTemplate {
  const dimension = (name: 'Read' | 'Write') => ({
    [`${name}Target`]: {
      Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
      Properties: { ServiceNamespace: 'dynamodb', ScalableDimension: `dynamodb:table:${name}CapacityUnits`, ResourceId: { 'Fn::Join': ['', ['table/', { Ref: 'TxState' }]] }, MinCapacity: min, MaxCapacity: max },
    },
    ...(target === undefined
      ? {}
      : {
          [`${name}Policy`]: {
            Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
            Properties: {
              PolicyType: 'TargetTrackingScaling',
              ScalingTargetId: { Ref: `${name}Target` },
              TargetTrackingScalingPolicyConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: `DynamoDB${name}CapacityUtilization` }, TargetValue: target },
            },
          },
        }),
  });
  return {
    ...smallTemplate,
    Resources: {
      ...smallTemplate.Resources,
      TxState: { Type: 'AWS::DynamoDB::Table', Properties: { ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } } },
      ...(scaled ? { ...dimension('Read'), ...dimension('Write') } : {}),
    },
  };
}

const usdOf = (lines: { item: string; usd: number }[], text: string) => lines.filter((l) => l.item.includes(text)).reduce((s, l) => s + l.usd, 0);

describe('a provisioned, auto-scaled table', () => {
  const inventory = readInventory(provisionedStack());

  it('is read from the template with its scaling range and target', () => {
    expect(inventory.tables).toEqual([
      expect.objectContaining({ name: 'tx-state', onDemand: false, provisioned: { rcu: 1, wcu: 1 }, scaling: { read: { min: 1, max: 4000, targetPercent: 70 }, write: { min: 1, max: 4000, targetPercent: 70 } } }),
    ]);
    expect(inventory.unpriced).toEqual([]);
  });

  it('bills the capacity its traffic needs at the target utilization, not request units', () => {
    // 10 events/s × 2 write units = 20 WCU/s consumed: 20 / 0.7 = 28.6, so 29 WCU; 10 RCU/s: 14.3, so 15 RCU.
    const bill = computeBill(inventory, roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 });
    expect(usdOf(bill.lines, 'tx-state: 29 WCU provisioned (auto scaling: 20.0 write units/s at 70 % target, 1 to 4000)')).toBeCloseTo(29 * WCU_HOUR * HOURS, 9); // $13.7605
    expect(usdOf(bill.lines, 'tx-state: 15 RCU provisioned (auto scaling: 10.0 read units/s at 70 % target, 1 to 4000)')).toBeCloseTo(15 * RCU_HOUR * HOURS, 9); // $1.4235
    expect(bill.lines.some((l) => /write units \(|read units \(/.test(l.item))).toBe(false);
    // Two target tracking policies, four alarms each.
    expect(usdOf(bill.lines, '8 alarms auto scaling keeps for 2 table scaling policies')).toBeCloseTo(0.8, 9);
    expect(bill.warnings).toEqual([]);
    expect(bill.assumptions.map((a) => a.what)).toEqual(expect.arrayContaining(['DynamoDB provisioned capacity', 'steady traffic']));
    expect(bill.assumptions.find((a) => a.what === 'DynamoDB provisioned capacity')?.value).toContain('70 % target utilization');
    expect(bill.assumptions.find((a) => a.what === 'steady traffic')?.value).toMatch(/throttled .* retries .* no event is lost or counted twice\. A batch still throttled after its 10 retries goes to its dead-letter queue .* replays it exactly once/);
  });

  it('costs 29 WCU + 15 RCU instead of 52.56 M write and 26.28 M read units on demand', () => {
    const onDemand = computeBill(readInventory(smallTemplate), roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 });
    const provisioned = computeBill(inventory, roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 });
    const dynamo = (b: typeof onDemand) => b.lines.filter((l) => l.service === 'DynamoDB').reduce((s, l) => s + l.usd, 0);
    expect(dynamo(onDemand)).toBeCloseTo(52.56 * 0.625 + 26.28 * 0.125, 9); // $36.135
    expect(dynamo(provisioned)).toBeCloseTo((29 * WCU_HOUR + 15 * RCU_HOUR) * HOURS, 9); // $15.184
  });

  it('idle: the minimum capacity of each dimension and the alarms', () => {
    const report = costReport(inventory, roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 }, { region: 'us-east-1', template: 'fixture', measurementsFile: 'fixture' });
    const onDemandIdle = 21.9 + 0.3 + 3 + 1; // the fixture's shards, alarms, dashboard and key
    expect(report.idleTotal).toBeCloseTo(onDemandIdle + (WCU_HOUR + RCU_HOUR) * HOURS + 8 * ALARM, 9); // + $0.5694 + $0.80
    expect(report.components.find((c) => c.item.startsWith('tx-state: 29 WCU'))?.idleUsd).toBeCloseTo(WCU_HOUR * HOURS, 9);
    expect(report.components.find((c) => c.item.startsWith('tx-state: 15 RCU'))?.idleUsd).toBeCloseTo(RCU_HOUR * HOURS, 9);
  });

  it('never goes below the scaling minimum', () => {
    const bill = computeBill(readInventory(provisionedStack({ min: 50 })), roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 });
    expect(bill.lines.map((l) => l.item)).toEqual(expect.arrayContaining([expect.stringMatching(/^tx-state: 50 WCU provisioned/), expect.stringMatching(/^tx-state: 50 RCU provisioned/)]));
  });

  it('stops at the scaling maximum, and warns that the rest is throttled', () => {
    // 1,000 events/s: 2,000 WCU/s consumed need 2,858 WCU at 70 %; the maximum is 2,000.
    const bill = computeBill(readInventory(provisionedStack({ max: 2000 })), roundMeasurements, { eventsPerSecond: 1000, eventsPerRequest: 100 });
    expect(usdOf(bill.lines, 'tx-state: 2000 WCU provisioned')).toBeCloseTo(2000 * WCU_HOUR * HOURS, 9);
    expect(usdOf(bill.lines, 'tx-state: 1429 RCU provisioned')).toBeCloseTo(1429 * RCU_HOUR * HOURS, 9);
    expect(bill.warnings.filter((w) => w.includes('maximum'))).toEqual([
      'tx-state: 2000 write units/s need 2858 write units at 70 % utilization, its auto scaling maximum is 2000: requests beyond are throttled and its stream consumers fall behind (raise -c sdp:maxTableCapacity)',
    ]);
  });
});

describe('a provisioned table without auto scaling', () => {
  it('is billed at its fixed capacity, with a warning when the traffic needs more', () => {
    const bill = computeBill(readInventory(provisionedStack({ scaled: false })), roundMeasurements, { eventsPerSecond: 10, eventsPerRequest: 10 });
    expect(usdOf(bill.lines, 'tx-state: 1 WCU provisioned (fixed: 20.0 write units/s used)')).toBeCloseTo(WCU_HOUR * HOURS, 9);
    expect(bill.lines.some((l) => l.item.includes('alarms auto scaling keeps'))).toBe(false);
    expect(bill.warnings).toEqual(expect.arrayContaining(['tx-state: 20.0 write units/s exceed its 1 provisioned write units (no auto scaling policy): requests beyond are throttled']));
  });
});

describe('the capacity of one dimension', () => {
  const scaling = { min: 1, max: 4000, targetPercent: 70 };
  it('rounds up to whole units, exactly at multiples of the target', () => {
    expect(dimensionCapacity(1, scaling, 7, 'write').units).toBe(10); // 7 / 0.7 = 10, not 11 from float error
    expect(dimensionCapacity(1, scaling, 7.01, 'write').units).toBe(11);
    expect(dimensionCapacity(1, scaling, 0, 'write').units).toBe(1);
  });

  it('without a target tracking policy stays at its capacity within the range', () => {
    expect(dimensionCapacity(5, { min: 1, max: 10 }, 100, 'read')).toMatchObject({ units: 5, shortfall: expect.stringContaining('no auto scaling policy') });
  });
});
