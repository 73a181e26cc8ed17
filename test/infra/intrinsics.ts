/**
 * CloudFormation's intrinsic functions in a synthesized template resolved as CloudFormation would
 * in us-east-1, with placeholder names and ARNs for the template's own resources: what outside
 * checkers (asl-validator, botocore) need in place of Ref, Fn::GetAtt, Fn::Join and Fn::FindInMap.
 */
import type { Json } from './synth';

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'SdpStack',
};

export function intrinsicsResolver(template: Json): (value: Json) => string {
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

/** The definitions of the template's state machines, by logical id, their intrinsic functions resolved. */
export function stateMachineDefinitions(template: Json): [logicalId: string, definition: Json][] {
  const resolve = intrinsicsResolver(template);
  return Object.entries(template.Resources as Record<string, Json>)
    .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map(([logicalId, r]) => [logicalId, JSON.parse(resolve(r.Properties.DefinitionString))]);
}
