/**
 * Every Step Functions definition in the template checked by asl-validator (the Amazon States
 * Language's JSON schema and its rules: transitions, terminal states, payload templates, ARNs),
 * after the template's intrinsic functions are resolved as CloudFormation would in us-east-1.
 */
import { synthesize, type Json } from './synth';
// asl-validator ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: Json, options?: { checkPaths: boolean; checkArn: boolean }) => { isValid: boolean; errorsText(separator?: string): string };

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'SdpStack',
};

/** CloudFormation's intrinsic functions, resolved with placeholder names and ARNs for the template's own resources. */
function resolver(template: Json): (value: Json) => string {
  const service = (type: string) => type.split('::')[1].toLowerCase();
  const resolve = (v: Json): string => {
    if (typeof v === 'string') return v;
    if (v.Ref !== undefined) return PSEUDO[v.Ref] ?? v.Ref.toLowerCase();
    if (v['Fn::GetAtt']) {
      const [logicalId, attribute] = v['Fn::GetAtt'] as [string, string];
      const type = template.Resources[logicalId]?.Type ?? 'AWS::Unknown::Thing';
      if (attribute !== 'Arn') return `${logicalId}-${attribute}`;
      const kind = type === 'AWS::Lambda::Function' ? 'function:' : '';
      return `arn:aws:${service(type)}:us-east-1:123456789012:${kind}${logicalId}`;
    }
    if (v['Fn::Join']) return (v['Fn::Join'][1] as Json[]).map(resolve).join(v['Fn::Join'][0]);
    if (v['Fn::FindInMap']) {
      const [map, key, attribute] = (v['Fn::FindInMap'] as Json[]).map(resolve);
      return String(template.Mappings[map][key][attribute]);
    }
    throw new Error(`unresolved intrinsic function ${JSON.stringify(v)}`);
  };
  return resolve;
}

describe('Step Functions definitions (asl-validator)', () => {
  const template = synthesize({ bundling: false }).template.toJSON() as Json;
  const resolve = resolver(template);
  const machines = Object.entries(template.Resources as Record<string, Json>).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');

  it('the stack has its state machines', () => {
    expect(machines.map(([logicalId]) => logicalId)).toEqual([expect.stringMatching(/^RetrainingStateMachine/)]);
  });

  it.each(machines.map(([logicalId, r]) => [logicalId, r]))('%s is valid Amazon States Language', (_id, resource) => {
    const definition = JSON.parse(resolve(resource.Properties.DefinitionString));
    const result = aslValidator(definition, { checkPaths: true, checkArn: true });
    expect(result.isValid ? '' : result.errorsText('\n')).toBe('');
  });

  it('the check finds what it should: a Next to a missing state is refused', () => {
    const [, resource] = machines[0];
    const definition = JSON.parse(resolve(resource.Properties.DefinitionString));
    definition.States[definition.StartAt].Next = 'NoSuchState';
    expect(aslValidator(definition, { checkPaths: true, checkArn: true }).isValid).toBe(false);
  });
});
