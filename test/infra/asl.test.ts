/**
 * Every Step Functions definition in the template checked by asl-validator (the Amazon States
 * Language's JSON schema and its rules: transitions, terminal states, payload templates, ARNs),
 * after the template's intrinsic functions are resolved as CloudFormation would in us-east-1.
 */
import { synthesize, type Json } from './synth';
import { stateMachineDefinitions } from './intrinsics';
// asl-validator ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: Json, options?: { checkPaths: boolean; checkArn: boolean }) => { isValid: boolean; errorsText(separator?: string): string };

describe('Step Functions definitions (asl-validator)', () => {
  const machines = stateMachineDefinitions(synthesize({ bundling: false }).template.toJSON());

  it('the stack has its state machines', () => {
    expect(machines.map(([logicalId]) => logicalId)).toEqual([expect.stringMatching(/^RetrainingStateMachine/)]);
  });

  it.each(machines)('%s is valid Amazon States Language', (_id, definition) => {
    const result = aslValidator(definition, { checkPaths: true, checkArn: true });
    expect(result.isValid ? '' : result.errorsText('\n')).toBe('');
  });

  it('the check finds what it should: a Next to a missing state is refused', () => {
    const definition = structuredClone(machines[0][1]);
    definition.States[definition.StartAt].Next = 'NoSuchState';
    expect(aslValidator(definition, { checkPaths: true, checkArn: true }).isValid).toBe(false);
  });
});
