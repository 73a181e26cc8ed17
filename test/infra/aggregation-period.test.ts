/**
 * In AWS each aggregation windows by the period its pipeline declares unless the deployer overrides
 * them all with the AggregationPeriod parameter: a pipeline declaring 300 s gets 300 s in the
 * aggregator and the reports with the parameter at its default (0), and AggregationPeriod=120 gives
 * 120 in both. The functions' AGGREGATION_PERIOD_SECONDS is resolved from the template as
 * CloudFormation would for a parameter value, then read by the handlers' own functions.
 */
import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import type { SdpStack } from '../../lib/sdp-stack';
import { periodSetting } from '../../lambdas/aggregator/aggregations';
import { periodOf } from '../../lambdas/aggregator/plan';
import { periodSecondsOf } from '../../lambdas/reports/handler';
import { aggregationOf } from '../../schemas/pipeline';
import { settings } from '../../schemas/resources';
import { synthesize, type Json } from './synth';
import fiveMinute from '../support/pipelines/five_minute';

const PIPELINE_FILE = path.join(__dirname, '..', 'support', 'pipelines', 'five_minute.ts');

let stack: SdpStack;
let template: Json;

beforeAll(() => {
  const synthesized = synthesize({ bundling: false, context: { 'sdp:pipelines': PIPELINE_FILE } });
  stack = synthesized.stack;
  template = synthesized.template.toJSON();
});

/** A template value as CloudFormation resolves it for a value of AggregationPeriod (Ref, Fn::If on the template's conditions, Fn::Equals). */
function resolve(value: Json, period: string): Json {
  if (typeof value !== 'object' || value === null) return value;
  if (value.Ref === 'AggregationPeriod') return period;
  if (value['Fn::Equals']) {
    const [a, b] = value['Fn::Equals'].map((v: Json) => resolve(v, period));
    return a === b;
  }
  if (value['Fn::If']) {
    const [condition, whenTrue, whenFalse] = value['Fn::If'];
    return resolve(template.Conditions[condition], period) ? resolve(whenTrue, period) : resolve(whenFalse, period);
  }
  throw new Error(`unexpected template value ${JSON.stringify(value)}`);
}

function periodEnv(fn: { lambdaFunction: { node: { defaultChild?: unknown } } }, period: string): NodeJS.ProcessEnv {
  const logicalId = stack.getLogicalId(fn.lambdaFunction.node.defaultChild as CfnElement);
  const raw = template.Resources[logicalId].Properties.Environment.Variables[settings.aggregationPeriodSeconds.env];
  return raw === undefined ? {} : { [settings.aggregationPeriodSeconds.env]: resolve(raw, period) };
}

it('AggregationPeriod: a number of seconds, default 0 (each aggregation as declared), at least 0', () => {
  expect(template.Parameters.AggregationPeriod).toMatchObject({ Type: 'Number', Default: 0, MinValue: 0 });
});

it.each([
  ['its default, 0', 300, '0'],
  ['120', 120, '120'],
])('with AggregationPeriod at %s, a pipeline declaring 300 s windows by %d s in the aggregator and the reports', (_, expected, period) => {
  const aggregation = aggregationOf(fiveMinute, 'devices');
  expect(aggregation.periodSeconds).toBe(300);
  const aggregatorEnv = periodEnv(stack.aggregator.aggregatorFunction, period);
  expect(periodOf(aggregation, { periodSeconds: periodSetting(aggregatorEnv) })).toBe(expected);
  expect(periodSecondsOf(aggregation, periodEnv(stack.reportsApi.reportsFunction, period))).toBe(expected);
});
