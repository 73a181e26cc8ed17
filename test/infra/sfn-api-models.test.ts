/**
 * Every SDK-integration task of the state machines checked against AWS's API models as botocore
 * has them (Debian python3-botocore, test/support/sfn_task_parameters.py): its Parameters validated
 * as a request of the operation (member names, nesting, types, enums, ranges of what the template
 * fixes; dynamic values stand in with values of their member's type), and every path of its
 * ResultSelector found in the output of the call whose answer the state receives.
 * The checker is required in CI (CI set): a missing botocore fails the test; elsewhere it is skipped
 * with a message.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { synthesize, type Json } from './synth';
import { stateMachineDefinitions } from './intrinsics';

const PYTHON = '/usr/bin/python3';
const CHECKER = join(__dirname, '..', 'support', 'sfn_task_parameters.py');
const MARKER = '<path>';

interface TaskCheck {
  state: string;
  service: string;
  operation: string;
  output_operation: string;
  parameters: Json;
  result_paths: string[];
}

/** What a .sync integration answers with: the description the service polls for. */
const SYNC_OUTPUT: Record<string, string> = {
  'sagemaker:CreateTrainingJob': 'DescribeTrainingJob',
  'athena:StartQueryExecution': 'GetQueryExecution',
};

const pascal = (action: string) => action[0].toUpperCase() + action.slice(1);

function withMarkers(value: Json): Json {
  if (Array.isArray(value)) return value.map(withMarkers);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => (k.endsWith('.$') ? [k.slice(0, -2), MARKER] : [k, withMarkers(v)])));
}

/** Every Task state calling an AWS API through Step Functions' optimized or AWS SDK integrations. */
function sdkTasks(states: Record<string, Json>): TaskCheck[] {
  return Object.entries(states).flatMap(([name, state]): TaskCheck[] => {
    if (state.Type === 'Parallel') return (state.Branches as Json[]).flatMap((b) => sdkTasks(b.States));
    if (state.Type !== 'Task') return [];
    const m = /^arn:aws:states:::(?:aws-sdk:)?([a-z0-9]+):(\w+)(\.sync|\.waitForTaskToken)?$/.exec(state.Resource);
    if (!m) return [];
    const [, service, action, sync] = m;
    const operation = pascal(action);
    const resultPaths = Object.entries((state.ResultSelector ?? {}) as Record<string, Json>)
      .filter(([k, v]) => k.endsWith('.$') && typeof v === 'string' && /^\$[.[]/.test(v))
      .map(([, v]) => v as string);
    return [{
      state: name,
      service,
      operation,
      output_operation: sync === '.sync' ? SYNC_OUTPUT[`${service}:${operation}`] ?? operation : operation,
      parameters: withMarkers(state.Parameters ?? {}),
      result_paths: resultPaths,
    }];
  });
}

function check(tasks: TaskCheck[]): { state: string; problem: string }[] {
  const run = spawnSync(PYTHON, [CHECKER], { input: JSON.stringify(tasks), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`the API-model checker failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const botocore = spawnSync(PYTHON, ['-c', 'import botocore'], { encoding: 'utf8' }).status === 0;
if (!botocore && process.env.CI) throw new Error('python3-botocore is required in CI (.ci/run installs it)');
const describeWithBotocore = botocore ? describe : describe.skip;
if (!botocore) console.warn('skipping the API-model checks: python3-botocore is not installed (apt-get install python3-botocore)');

describeWithBotocore('Step Functions tasks against AWS API models (botocore)', () => {
  const machines = stateMachineDefinitions(synthesize({ bundling: false }).template.toJSON());
  const tasks = machines.flatMap(([, definition]) => sdkTasks(definition.States));

  it('finds the SDK-integration tasks', () => {
    expect(tasks.map((t) => `${t.service}:${t.operation}`)).toEqual(
      expect.arrayContaining(['athena:StartQueryExecution', 'sagemaker:CreateTrainingJob', 'sagemaker:CreateModel', 'sagemaker:CreateEndpointConfig', 'sagemaker:DescribeEndpoint']),
    );
  });

  it('every task\'s Parameters are a valid request and its ResultSelector reads what the answer has', () => {
    expect(check(tasks)).toEqual([]);
  });

  it('the check refuses a misspelt member, a wrong type and a path the answer does not have (control)', () => {
    const endpointConfig = tasks.find((t) => t.operation === 'CreateEndpointConfig')!;
    const bad: TaskCheck[] = [
      { ...endpointConfig, state: 'Misspelt', parameters: { ...endpointConfig.parameters, EndpointConfigNam: 'x' }, result_paths: [] },
      { ...endpointConfig, state: 'WrongType', parameters: { ...endpointConfig.parameters, ProductionVariants: [{ ...endpointConfig.parameters.ProductionVariants[0], ServerlessConfig: { MemorySizeInMB: '2048', MaxConcurrency: 5 } }] }, result_paths: [] },
      { ...endpointConfig, state: 'NoSuchOutput', result_paths: ['$.EndpointConfigStatus'] },
    ];
    expect(check(bad).map((p) => p.state).sort()).toEqual(['Misspelt', 'NoSuchOutput', 'WrongType']);
  });
});
