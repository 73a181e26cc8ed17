/**
 * The run of a state machine that takes every Choice's Default (local/cost/workflow-path.ts): the
 * transitions `sdp cost` bills for a retraining run that does not train, and the functions it calls.
 */
import { defaultPath, parseDefinition } from '../../local/cost/workflow-path';

const machine = {
  StartAt: 'Name',
  States: {
    Name: { Type: 'Pass', Next: 'Build' },
    Build: {
      Type: 'Parallel',
      Next: 'Enough',
      Branches: [
        { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::athena:startQueryExecution.sync', Next: 'B' }, B: { Type: 'Task', Resource: '${Channels}', End: true } } },
        { StartAt: 'C', States: { C: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${Other}' }, End: true } } },
      ],
    },
    Enough: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericGreaterThanEquals: 10, Next: 'Train' }], Default: 'TooFew' },
    TooFew: { Type: 'Succeed' },
    Train: { Type: 'Task', Resource: '${Gate}', End: true },
  },
};

it("follows Next and each Choice's Default to the first terminal state, entering a Parallel's branches, counting its function calls and Athena queries", () => {
  expect(defaultPath(machine)).toEqual({ states: ['Name', 'Build', 'A', 'B', 'C', 'Enough', 'TooFew'], functionIds: ['Channels', 'Other'], athenaQueries: 1 });
});

it("reads a DefinitionString joined from strings and tokens, each token as ${LogicalId}", () => {
  const text = JSON.stringify(machine).split('${Channels}');
  const joined = { 'Fn::Join': ['', [text[0], { 'Fn::GetAtt': ['Channels', 'Arn'] }, text[1]]] };
  expect(defaultPath(parseDefinition(joined)).functionIds).toEqual(['Channels', 'Other']);
});

it('refuses a default path that loops (a wait loop is no run that ends)', () => {
  const loop = { StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 60, Next: 'Check' }, Check: { Type: 'Choice', Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Done' }], Default: 'Wait' }, Done: { Type: 'Succeed' } } };
  expect(() => defaultPath(loop)).toThrow(/loops back to Wait/);
});
