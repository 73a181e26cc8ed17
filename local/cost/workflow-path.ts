/**
 * The run of a Step Functions state machine that takes every Choice's Default (its `otherwise`):
 * for the retraining state machine, the run of an idle stack, which ends at EnoughAuctions'
 * Default, TooFewAuctions, without training. Counts the state transitions it makes (Standard
 * workflows bill "per state transition": each state entered, a Parallel's branch states included)
 * and the Lambda functions its tasks invoke. Pure: reads the definition from the template.
 */
import type { Json } from './template';

export interface WorkflowPath {
  /** State names in the order entered (a Parallel's branches inline, after the Parallel). */
  states: string[];
  /** Logical ids of the Lambda functions invoked on the path, once per invocation. */
  functionIds: string[];
  /** Athena queries started on the path (each bills at least 10 MB scanned). */
  athenaQueries: number;
}

/**
 * A DefinitionString (a string, or an Fn::Join of strings and Ref/GetAtt tokens) as the state
 * machine's JSON, each token written as `${LogicalId}`.
 */
export function parseDefinition(definition: Json): Json {
  const render = (v: Json): string => {
    if (typeof v === 'string') return v;
    if (v?.Ref) return `\${${v.Ref}}`;
    if (v?.['Fn::GetAtt']) return `\${${v['Fn::GetAtt'][0]}}`;
    if (v?.['Fn::Join']) return (v['Fn::Join'][1] as Json[]).map(render).join(v['Fn::Join'][0]);
    return '';
  };
  return typeof definition === 'object' && definition !== null && !definition['Fn::Join'] && !definition.Ref ? definition : JSON.parse(render(definition));
}

/** The states entered by a run that takes every Choice's Default, from StartAt to its first terminal state. */
export function defaultPath(machine: Json): WorkflowPath {
  const states: string[] = [];
  const functionIds: string[] = [];
  let athenaQueries = 0;
  const walk = (graph: Json) => {
    let name: string | undefined = graph.StartAt;
    const seen = new Set<string>();
    while (name !== undefined) {
      // A Default that loops back (a wait loop) is not an idle run's path: stop rather than spin.
      if (seen.has(name)) throw new Error(`the default path loops back to ${name}`);
      seen.add(name);
      const state: Json = graph.States[name];
      if (!state) throw new Error(`no state ${name}`);
      states.push(name);
      if (state.Type === 'Parallel') for (const branch of state.Branches as Json[]) walk(branch);
      if (state.Type === 'Task') {
        // A Lambda task names its function as its Resource (payloadResponseOnly) or as lambda:invoke's FunctionName.
        const target = /:::lambda:invoke/.test(String(state.Resource)) ? state.Parameters?.FunctionName : state.Resource;
        const fn = /^\$\{([^}]+)\}$/.exec(String(target ?? ''));
        if (fn) functionIds.push(fn[1]);
        if (/:::athena:startQueryExecution/.test(String(state.Resource))) athenaQueries++;
      }
      if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true) return;
      name = state.Type === 'Choice' ? state.Default : state.Next;
    }
  };
  walk(machine);
  return { states, functionIds, athenaQueries };
}
