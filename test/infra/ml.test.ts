/** The bid-win model in AWS: the retraining state machine's steps and schedule, its training set SQL, the serverless endpoint config, the predictions routes and output, and their IAM. */
import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { SdpStack } from '../../lib/sdp-stack';
import { placeholders, RUN_BOUNDS, XGBOOST_VERSION } from '../../lib/retraining';
import { CATEGORICAL_FIELDS, CATEGORY_PRICE, FEATURE_DIM, MISSING } from '../../lambdas/ml/features';
import { EXECUTION_START_SQL, sqlIsHoldout, trainingSetSelect } from '../../lambdas/retraining/training-set';
import { gateStep } from '../../lambdas/retraining/steps';
import { synthesize, type Json, type Statement } from './synth';
import { settings } from '../../schemas/resources';

let stack: SdpStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;
let definition: Json;

/** Template values as text: Ref and GetAtt as ${...}, Fn::Join joined, FindInMap as ${FindInMap:<map>}. */
function render(v: Json): string {
  if (typeof v === 'string') return v;
  if (v.Ref) return `\${${v.Ref}}`;
  if (v['Fn::GetAtt']) return `\${${v['Fn::GetAtt'].join('.')}}`;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as Json[]).map(render).join(v['Fn::Join'][0]);
  if (v['Fn::FindInMap']) return `\${FindInMap:${v['Fn::FindInMap'][0]}}`;
  return JSON.stringify(v);
}

beforeAll(() => {
  ({ stack, template } = synthesize({ bundling: false }));
  resources = template.toJSON().Resources;
  const sm = resources[id(stack.retraining!.stateMachine)];
  definition = JSON.parse(render(sm.Properties.DefinitionString));
});

const id = (c: IConstruct): string => stack.getLogicalId(c.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const actions = (s: Statement): string[] => [s.Action].flat();
const resourcesOf = (s: Statement): string[] => [s.Resource].flat().map(render);
const same = (a: Json, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b);

function roleStatements(role: IConstruct): Statement[] {
  const ref = { Ref: id(role) };
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Json[]).some((r) => same(r, ref)))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}
/** Resources on which a role's statements allow an action (IAM actions are case-insensitive). */
const resourcesFor = (statements: Statement[], action: string): string[] =>
  statements.filter((s) => s.Effect === 'Allow' && actions(s).some((a) => a.toLowerCase() === action.toLowerCase())).flatMap(resourcesOf);

/** The state names in the order an execution that deploys visits them first (Next, Default, first Choice rule, Catch). */
function pathOf(states: Record<string, Json>, start: string): string[] {
  const seen: string[] = [];
  let name: string | undefined = start;
  while (name && !seen.includes(name)) {
    seen.push(name);
    const s: Json = states[name];
    name = s.Next ?? (s.Type === 'Choice' ? s.Choices[0].Next : undefined);
  }
  return seen;
}

describe('retraining state machine', () => {
  it('runs training set → training → gate → deploy, in that order', () => {
    expect(pathOf(definition.States, definition.StartAt)).toEqual([
      'NameRun',
      'BuildTrainingSet',
      'EnoughAuctions',
      'TrainModel',
      'ApplyQualityGate',
      'GateDecision',
      'CreateModel',
      'CreateEndpointConfig',
      'StartPolling',
      'DescribeEndpoint',
      'EndpointState',
      'UpdateEndpoint',
      'WaitForEndpoint',
      'CountDeploymentPoll',
      'DescribeDeployment',
      'DeploymentState',
      'PromoteModel',
      'ReplacedConfig',
      'DeleteReplacedConfig',
      'Deployed',
    ]);
  });

  it('builds the training and validation sets with Athena UNLOAD (.sync) into training/<execution>/attempt-<redrive count>/', () => {
    const branches = definition.States.BuildTrainingSet.Branches as Json[];
    const queries = branches.map((b) => b.States[b.StartAt]);
    expect(queries.map((q) => q.Resource)).toEqual([
      'arn:${AWS::Partition}:states:::athena:startQueryExecution.sync',
      'arn:${AWS::Partition}:states:::athena:startQueryExecution.sync',
    ]);
    const destination = (split: string) => `s3://\${${id(stack.retraining!.trainingBucket)}}/training/{}/attempt-{}/unload/${split}/`;
    const channel = (split: string) => `s3://\${${id(stack.retraining!.trainingBucket)}}/training/{}/attempt-{}/${split}/`;
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // The SELECT names the execution's start (its {}) once per bound it sets: one argument each.
    const starts = (split: 'train' | 'validation') => '\\$\\$\\.Execution\\.StartTime, '.repeat(placeholders(trainingSetSelect({ knownBefore: EXECUTION_START_SQL, split })));
    expect(placeholders(trainingSetSelect({ knownBefore: EXECUTION_START_SQL, split: 'train' }))).toBeGreaterThan(0);
    expect(queries.map((q) => q.Parameters['QueryString.$'])).toEqual([
      expect.stringMatching(new RegExp(`^States\\.Format\\('UNLOAD \\( SELECT .* NOT \\(\\(from_base.*\\) TO \\\\'${escaped(destination('train'))}\\\\' WITH \\(format = \\\\'TEXTFILE\\\\'.*', ${starts('train')}\\$\\$\\.Execution\\.Name, \\$\\$\\.Execution\\.RedriveCount\\)$`)),
      expect.stringMatching(new RegExp(`^States\\.Format\\('UNLOAD \\( SELECT .* AND \\(from_base.*\\) TO \\\\'${escaped(destination('validation'))}\\\\' WITH .*', ${starts('validation')}\\$\\$\\.Execution\\.Name, \\$\\$\\.Execution\\.RedriveCount\\)$`)),
    ]);
    expect(queries[0].Parameters.WorkGroup).toBe(`\${${stack.getLogicalId(stack.retraining!.workGroup)}}`);
    // Each branch answers where it wrote (the UNLOAD, then the channel step's uncompressed copy);
    // the Parallel gathers the channels for the training job and the gate.
    const attemptOf = (uri: string) => `States.Format('${uri}', $$.Execution.Name, $$.Execution.RedriveCount)`;
    expect(queries.map((q) => q.ResultSelector)).toEqual(
      ['train', 'validation'].map((split) => ({ 'unloadUri.$': attemptOf(destination(split)), 'channelUri.$': attemptOf(channel(split)) })),
    );
    expect(definition.States.BuildTrainingSet).toMatchObject({
      ResultSelector: { 'trainUri.$': '$[0].channelUri', 'validationUri.$': '$[1].channelUri', 'auctions.$': 'States.MathAdd($[0].copied.rows, $[1].copied.rows)' },
      ResultPath: '$.sets',
    });
  });

  it('trains only on at least RETRAIN_MIN_NEW_AUCTIONS auctions: an idle stack\'s run ends without a SageMaker job (nor a failure)', () => {
    const choice = definition.States.EnoughAuctions;
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([{ Variable: '$.sets.auctions', NumericGreaterThanEquals: settings.retrainMinNewAuctions.default, Next: 'TrainModel' }]);
    expect(definition.States[choice.Default]).toMatchObject({ Type: 'Succeed' });
  });

  it('has no execution timeout: every step is bounded, so a run that hangs ends FAILED (the RetrainingFailed alarm reads ExecutionsFailed only)', () => {
    const sm = resources[id(stack.retraining!.stateMachine)].Properties;
    expect(definition.TimeoutSeconds).toBeUndefined();
    expect(JSON.stringify(sm)).not.toMatch(/TimeoutSeconds\\?":\s*21600/);
    const s = definition.States;
    // The polls count from 0, one per wait of a loop, and both loops stop at the bound.
    expect(s.StartPolling).toMatchObject({ Type: 'Pass', Result: { n: 0 }, ResultPath: '$.polls', Next: 'DescribeEndpoint' });
    for (const count of [s.CountIdlePoll, s.CountDeploymentPoll]) expect(count).toMatchObject({ Parameters: { 'n.$': 'States.MathAdd($.polls.n, 1)' }, ResultPath: '$.polls' });
    expect(s.EndpointNeverSettled).toMatchObject({ Type: 'Fail', Error: 'EndpointNeverSettled' });
    expect(s.WaitForEndpoint.Seconds).toBe(60);
    // Each long step has its TimeoutSeconds (States.Timeout fails the run); the Lambda steps end at their functions' timeouts.
    const unloads = (s.BuildTrainingSet.Branches as Json[]).map((b) => b.States[b.StartAt]);
    for (const u of unloads) expect(u.TimeoutSeconds).toBe(RUN_BOUNDS.unloadSeconds);
    expect(s.TrainModel.TimeoutSeconds).toBe(RUN_BOUNDS.trainingSeconds);
    const functionTimeout = (fn: IConstruct) => resources[id(fn)].Properties.Timeout as number;
    const r = stack.retraining!;
    // Lambda tasks retry service errors up to 6 times: 7 attempts at most, each up to the function's timeout.
    const lambdaStep = (fn: IConstruct) => 7 * functionTimeout(fn);
    const bound = RUN_BOUNDS.unloadSeconds + lambdaStep(r.channelsFunction.lambdaFunction) + RUN_BOUNDS.trainingSeconds +
      lambdaStep(r.gateFunction.lambdaFunction) + RUN_BOUNDS.endpointPolls * 60 + lambdaStep(r.promoteFunction.lambdaFunction);
    expect(bound / 3600).toBeLessThan(8);
  });

  it('a redriven execution, which keeps its name and reruns only what failed, writes and trains under names of its own', () => {
    // UNLOAD refuses a destination that has data, and training job names are unique (failed jobs' too).
    const s = definition.States;
    const unloads = (s.BuildTrainingSet.Branches as Json[]).map((b) => b.States[b.StartAt].Parameters['QueryString.$']);
    for (const q of unloads) expect(q).toContain('$$.Execution.RedriveCount');
    expect(s.TrainModel.Parameters['TrainingJobName.$']).toBe("States.Format('sdp-bid-win-{}-attempt-{}', $$.Execution.Name, $$.Execution.RedriveCount)");
  });

  it('UNLOADs text with no compression property (Athena: gzip for TEXTFILE), then writes each channel uncompressed', () => {
    const branches = definition.States.BuildTrainingSet.Branches as Json[];
    for (const b of branches) expect(b.States[b.StartAt].Parameters['QueryString.$']).toMatch(/WITH \(format = \\'TEXTFILE\\'\)', \$/);
    expect(branches.map((b) => pathOf(b.States, b.StartAt))).toEqual([
      ['UnloadTrainingSet', 'DecompressTrainingSet'],
      ['UnloadValidationSet', 'DecompressValidationSet'],
    ]);
    for (const b of branches) {
      const step = b.States[pathOf(b.States, b.StartAt)[1]];
      expect(step.Parameters).toEqual({ 'unloadUri.$': '$.unloadUri', 'channelUri.$': '$.channelUri' });
      // The branch's output: the UNLOAD state's {unloadUri, channelUri} and the copy's figures (rows: auctions).
      expect(step.ResultPath).toBe('$.copied');
    }
    // File mode reads the files as they are: CompressionType None ("used only in Pipe input mode").
    expect(definition.States.TrainModel.Parameters.InputDataConfig.map((c: Json) => c.CompressionType)).toEqual(['None', 'None']);
    // The channels step reads the UNLOADs and writes the channels, nothing else of the training sets.
    const sets = `\${${id(stack.retraining!.trainingBucket)}.Arn}`;
    const st = roleStatements(stack.retraining!.channelsFunction.role);
    expect(resourcesFor(st, 's3:GetObject')).toEqual([`${sets}/training/*/unload/*`]);
    expect(resourcesFor(st, 's3:PutObject').sort()).toEqual([`${sets}/training/*/train/*`, `${sets}/training/*/validation/*`]);
  });

  it('encodes the auctions as features.ts does: same field texts, missing marker, hash, dimension and held-out split', () => {
    const sql = trainingSetSelect({ knownBefore: EXECUTION_START_SQL, split: 'train' });
    for (const field of [...CATEGORICAL_FIELDS, CATEGORY_PRICE]) expect(sql).toContain(`'${field}=' || coalesce(nullif(CAST(`);
    expect(sql).toContain(`'${MISSING}'`);
    expect(sql).toContain(`from_base(substr(to_hex(md5(to_utf8(`);
    expect(sql).toContain(`% ${FEATURE_DIM})`);
    // The known auctions (lambdas/ml/outcome.ts): bids 5 minutes before the execution's start, won by an impression within ±5 minutes.
    expect(sql).toContain('FROM parquet_bids');
    const start = "CAST(from_iso8601_timestamp('{}') AS timestamp)";
    expect(sql).toContain(`SELECT tx_id, event_time FROM parquet_impressions WHERE dt >= CAST(CAST(${start} - INTERVAL '30' DAY - INTERVAL '5' MINUTE AS DATE) AS VARCHAR)`);
    expect(sql).toContain(") i ON i.tx_id = b.tx_id AND i.event_time BETWEEN b.event_time - INTERVAL '5' MINUTE AND b.event_time + INTERVAL '5' MINUTE");
    expect(sql).toContain(`event_time <= ${start} - INTERVAL '5' MINUTE`);
    // The last 30 days of bids only, and only the date partitions that can hold them.
    expect(sql).toContain(`dt >= CAST(CAST(${start} - INTERVAL '30' DAY AS DATE) AS VARCHAR)`);
    expect(sql).toContain(`event_time > ${start} - INTERVAL '30' DAY`);
    expect(sqlIsHoldout()).toBe(`(from_base(substr(to_hex(md5(to_utf8(tx_id))), 1, 8), 16) % ${FEATURE_DIM}) < ${0.2 * FEATURE_DIM}`);
    // Label = won; nothing known only after the auction is a feature.
    expect(sql).toContain('IF(won, 1, 0) AS label');
    expect(sql).not.toMatch(/clearing_price|clicked|impression_time|click_time/);
  });

  it('trains the built-in XGBoost at a pinned version, binary:logistic with AUC, on libsvm channels', () => {
    const trainState = definition.States.TrainModel;
    expect(trainState.Resource).toBe('arn:${AWS::Partition}:states:::sagemaker:createTrainingJob.sync');
    expect(trainState.Parameters.AlgorithmSpecification.TrainingImage).toBe(
      `\${FindInMap:RetrainingXgboostImageAccounts${trainState.Parameters.AlgorithmSpecification.TrainingImage.match(/RetrainingXgboostImageAccounts(\w*)\}/)[1]}}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}/sagemaker-xgboost:${XGBOOST_VERSION}`,
    );
    expect(XGBOOST_VERSION).toBe('1.7-1');
    expect(trainState.Parameters.HyperParameters).toMatchObject({ objective: 'binary:logistic', eval_metric: 'auc' });
    expect(trainState.Parameters.InputDataConfig.map((c: Json) => [c.ChannelName, c.ContentType, c.DataSource.S3DataSource['S3Uri.$']])).toEqual([
      ['train', 'text/libsvm', '$.sets.trainUri'],
      ['validation', 'text/libsvm', '$.sets.validationUri'],
    ]);
    expect(trainState.ResultSelector['finalMetrics.$']).toBe('$.FinalMetricDataList');
    // The model is served by the same image.
    expect(definition.States.CreateModel.Parameters.PrimaryContainer.Image).toBe(trainState.Parameters.AlgorithmSpecification.TrainingImage);
    // The region map has us-east-1's documented registry account.
    const maps = template.toJSON().Mappings;
    const map = Object.entries(maps).find(([k]) => k.startsWith('RetrainingXgboostImageAccounts'))![1] as Json;
    expect(map['us-east-1']).toEqual({ account: '683313688378' });
  });

  it('deploys only when the gate says so', () => {
    const choice = definition.States.GateDecision;
    expect(choice.Choices).toEqual([{ Variable: '$.gate.deploy', BooleanEquals: true, Next: 'CreateModel' }]);
    expect(choice.Default).toBe('KeepCurrentModel');
    expect(definition.States.KeepCurrentModel.Type).toBe('Succeed');
  });

  it('creates a serverless endpoint config (memory 2048 MB, max concurrency 5)', () => {
    const state = definition.States.CreateEndpointConfig;
    expect(state.Resource).toBe('arn:${AWS::Partition}:states:::aws-sdk:sagemaker:createEndpointConfig');
    expect(state.Parameters.ProductionVariants).toEqual([
      { VariantName: 'AllTraffic', 'ModelName.$': '$.run.name', ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 } },
    ]);
  });

  it('creates the served model without network isolation, which serverless endpoints exclude; training keeps it', () => {
    // SageMaker Serverless Inference's feature exclusions list "VPC configuration and network isolation".
    expect(definition.States.CreateModel.Parameters.EnableNetworkIsolation).toBe(false);
    expect(definition.States.CreateEndpointConfig.Parameters.ProductionVariants.every((v: Json) => v.ServerlessConfig)).toBe(true);
    expect(definition.States.TrainModel.Parameters.EnableNetworkIsolation).toBe(true);
  });

  it('creates the endpoint when missing, updates it only when InService, and waits while it is busy', () => {
    const s = definition.States;
    expect(s.DescribeEndpoint.Catch).toEqual([{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.endpoint', Next: 'CreateEndpoint' }]);
    expect(s.EndpointState.Choices).toEqual([
      { Variable: '$.endpoint.status', StringEquals: 'InService', Next: 'UpdateEndpoint' },
      { Variable: '$.endpoint.status', StringEquals: 'Failed', Next: 'DeleteFailedEndpoint' },
      { Variable: '$.polls.n', NumericGreaterThanEquals: RUN_BOUNDS.endpointPolls, Next: 'EndpointNeverSettled' },
    ]);
    expect(s.EndpointState.Default).toBe('WaitForIdleEndpoint');
    expect(s.WaitForIdleEndpoint).toMatchObject({ Type: 'Wait', Next: 'CountIdlePoll' });
    expect(s.CountIdlePoll).toMatchObject({ Type: 'Pass', Next: 'DescribeEndpoint' });
    expect(s.CreateEndpoint.Next).toBe('WaitForEndpoint');
    expect(s.UpdateEndpoint.Next).toBe('WaitForEndpoint');
    expect(s.WaitForEndpoint).toMatchObject({ Type: 'Wait', Next: 'CountDeploymentPoll' });
    expect(s.CountDeploymentPoll).toMatchObject({ Type: 'Pass', Next: 'DescribeDeployment' });
    // Promoted only when InService with this run's config; a rolled-back update fails the run.
    expect(s.DeploymentState.Choices[0]).toEqual({
      And: [
        { Variable: '$.deployment.status', StringEquals: 'InService' },
        { Variable: '$.deployment.configName', StringEqualsPath: '$.run.name' },
      ],
      Next: 'PromoteModel',
    });
    expect(s.DeploymentState.Choices.map((c: Json) => c.Next)).toEqual(['PromoteModel', 'UpdateRolledBack', 'EndpointFailed', 'EndpointNeverSettled']);
    expect(s.DeploymentState.Default).toBe('WaitForEndpoint');
    // The config it replaced is deleted, never the one just deployed.
    expect(s.DeleteReplacedConfig.Parameters).toEqual({ 'EndpointConfigName.$': '$.endpoint.configName' });
  });

  it('is started by a daily EventBridge schedule', () => {
    const rule = resources[id(stack.retraining!.rule)];
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 day)');
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { Ref: id(stack.retraining!.stateMachine) } }),
    ]);
  });

  it('keeps the per-run training sets in their own bucket, where they expire (the lake never expires current files)', () => {
    const bucket = resources[id(stack.retraining!.trainingBucket)];
    expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ Id: 'expire-training-sets', ExpirationInDays: 7, Status: 'Enabled' }));
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    const lakeRules = resources[id(stack.dataLake.bucket)].Properties.LifecycleConfiguration.Rules as Json[];
    expect(lakeRules.filter((r) => r.ExpirationInDays !== undefined)).toEqual([]);
  });
});

describe('retraining IAM', () => {
  const sagemaker = (kind: string, name: string) => `arn:\${AWS::Partition}:sagemaker:\${AWS::Region}:\${AWS::AccountId}:${kind}/${name}`;

  it('the state machine acts on this endpoint and on its own runs\' jobs, models and configs only', () => {
    const st = roleStatements(stack.retraining!.stateMachine.role);
    expect(resourcesFor(st, 'sagemaker:CreateTrainingJob')).toEqual([sagemaker('training-job', 'sdp-bid-win-*')]);
    expect(resourcesFor(st, 'sagemaker:CreateModel')).toEqual([sagemaker('model', 'sdp-bid-win-*')]);
    expect(resourcesFor(st, 'sagemaker:CreateEndpointConfig')).toEqual([sagemaker('endpoint-config', 'sdp-bid-win-*')]);
    expect(resourcesFor(st, 'sagemaker:UpdateEndpoint').sort()).toEqual([sagemaker('endpoint', 'sdp-bid-win'), sagemaker('endpoint-config', 'sdp-bid-win-*')].sort());
    expect(resourcesFor(st, 'sagemaker:ListTags')).not.toContain('*');
    expect(resourcesFor(st, 'iam:PassRole')).toEqual([`\${${id(stack.retraining!.sageMakerRole)}.Arn}`]);
    expect(resourcesFor(st, 'athena:StartQueryExecution')).toEqual([
      `arn:\${AWS::Partition}:athena:\${AWS::Region}:\${AWS::AccountId}:workgroup/\${${stack.getLogicalId(stack.retraining!.workGroup)}}`,
    ]);
    const lake = `\${${id(stack.dataLake.bucket)}.Arn}`;
    const sets = `\${${id(stack.retraining!.trainingBucket)}.Arn}`;
    expect(resourcesFor(st, 's3:GetObject').sort()).toEqual([`${lake}/parquet/bids/*`, `${lake}/parquet/impressions/*`, `${sets}/training/*`].sort());
    expect(resourcesFor(st, 's3:PutObject')).toEqual([`${sets}/training/*`]);
    // Only X-Ray on "*".
    expect(st.filter((s) => resourcesOf(s).includes('*')).flatMap(actions).every((a) => a.startsWith('xray:'))).toBe(true);
  });

  it("SageMaker's role reads training/ and models/, writes models/, and writes its own log groups; no managed policy", () => {
    const role = stack.retraining!.sageMakerRole;
    expect(resources[id(role)].Properties.ManagedPolicyArns).toBeUndefined();
    const st = roleStatements(role);
    const lake = `\${${id(stack.dataLake.bucket)}.Arn}`;
    const sets = `\${${id(stack.retraining!.trainingBucket)}.Arn}`;
    expect(resourcesFor(st, 's3:GetObject').sort()).toEqual([`${lake}/models/*`, `${sets}/training/*`].sort());
    expect(resourcesFor(st, 's3:PutObject')).toEqual([`${lake}/models/*`]);
    expect(resourcesFor(st, 'logs:PutLogEvents').sort()).toEqual([
      'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/Endpoints/sdp-bid-win:*',
      'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/TrainingJobs:*',
    ]);
    // "*" only for cloudwatch:PutMetricData (AWS's minimum CreateTrainingJob policy lists it; it has no
    // resource-level permissions), held to SageMaker's namespaces.
    const anywhere = st.filter((s) => resourcesOf(s).includes('*'));
    expect(anywhere.map((s) => [actions(s), s.Condition])).toEqual([[['cloudwatch:PutMetricData'], { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } }]]);
    // No ECR reads: SageMaker pulls its built-in algorithm images with its own credentials.
    expect(st.flatMap(actions).filter((a) => a.startsWith('ecr:'))).toEqual([]);
  });

  it('the state machine may read the AwsDataCatalog its Athena queries name (as the policy Step Functions generates)', () => {
    const st = roleStatements(stack.retraining!.stateMachine.role);
    expect(definition.States.BuildTrainingSet.Branches.map((b: Json) => b.States[b.StartAt].Parameters.QueryExecutionContext.Catalog)).toEqual(['AwsDataCatalog', 'AwsDataCatalog']);
    expect(resourcesFor(st, 'athena:GetDataCatalog')).toEqual(['arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:datacatalog/AwsDataCatalog']);
  });

  it('no ML role grants a wildcard action', () => {
    const roles = [
      stack.retraining!.stateMachine.role,
      stack.retraining!.sageMakerRole,
      stack.retraining!.gateFunction.role,
      stack.retraining!.promoteFunction.role,
      stack.retraining!.channelsFunction.role,
      stack.predictionsApi!.predictFunction.role,
      stack.predictionsApi!.modelsFunction.role,
    ];
    expect(roles.flatMap(roleStatements).flatMap(actions).filter((a) => a.includes('*'))).toEqual([]);
  });

  it('promote touches the registry (models/) only; the gate also reads the runs\' validation channels', () => {
    const lake = `\${${id(stack.dataLake.bucket)}.Arn}`;
    const sets = `\${${id(stack.retraining!.trainingBucket)}.Arn}`;
    const s3Resources = (fn: IConstruct & { role: IConstruct }) =>
      roleStatements(fn.role).filter((s) => actions(s).some((a) => a.startsWith('s3:'))).flatMap(resourcesOf).sort();
    expect(s3Resources(stack.retraining!.promoteFunction)).toEqual([lake, `${lake}/models/*`]);
    expect(s3Resources(stack.retraining!.gateFunction)).toEqual([lake, `${lake}/models/*`, sets, `${sets}/training/*/validation/*`].sort());
    const gate = roleStatements(stack.retraining!.gateFunction.role);
    expect(resourcesFor(gate, 's3:GetObject').sort()).toEqual([`${lake}/models/*`, `${sets}/training/*/validation/*`].sort());
    expect(resourcesFor(gate, 's3:PutObject')).toEqual([`${lake}/models/*`]);
    // Listing the training sets only under a validation prefix.
    const list = gate.filter((s) => actions(s).includes('s3:ListBucket') && resourcesOf(s).includes(sets));
    expect(list.map((s) => s.Condition)).toEqual([{ StringLike: { 's3:prefix': ['training/*/validation/*'] } }]);
  });

  it('the gate may invoke this endpoint only (to re-score the deployed model); promote may not', () => {
    expect(resourcesFor(roleStatements(stack.retraining!.gateFunction.role), 'sagemaker:InvokeEndpoint')).toEqual([sagemaker('endpoint', 'sdp-bid-win')]);
    expect(resourcesFor(roleStatements(stack.retraining!.promoteFunction.role), 'sagemaker:InvokeEndpoint')).toEqual([]);
    const fn = resources[id(stack.retraining!.gateFunction.lambdaFunction)];
    expect(fn.Properties.Environment.Variables.MODEL_ENDPOINT_NAME).toBe('sdp-bid-win');
    expect(fn.Properties).toMatchObject({ Timeout: 300, MemorySize: 1024 });
    // This run's validation channel is passed to the gate.
    expect(definition.States.ApplyQualityGate.Parameters['validationUri.$']).toBe('$.sets.validationUri');
  });
});

describe('predictions API', () => {
  const methods = () =>
    ofType('AWS::ApiGateway::Method').map(([, m]) => m.Properties) as Json[];
  const pathOfResource = (logicalId: string): string => {
    const r = resources[logicalId];
    const parent = r.Properties.ParentId;
    const up = parent.Ref ? pathOfResource(parent.Ref) : '';
    return `${up}/${r.Properties.PathPart}`;
  };

  it('POST /predictions requires the API key and invokes predict; GET /models/current is open', () => {
    const routes = methods()
      .filter((m) => m.ResourceId.Ref)
      .map((m) => [m.HttpMethod, pathOfResource(m.ResourceId.Ref), m.ApiKeyRequired ?? false]);
    expect(routes).toContainEqual(['POST', '/predictions', true]);
    expect(routes).toContainEqual(['GET', '/models/current', false]);
  });

  it('predict may invoke the model endpoint only, named by MODEL_ENDPOINT_NAME', () => {
    const fn = resources[id(stack.predictionsApi!.predictFunction.lambdaFunction)];
    expect(fn.Properties.Environment.Variables.MODEL_ENDPOINT_NAME).toBe('sdp-bid-win');
    const st = roleStatements(stack.predictionsApi!.predictFunction.role);
    expect(resourcesFor(st, 'sagemaker:InvokeEndpoint')).toEqual([
      'arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/sdp-bid-win',
    ]);
    expect(st.flatMap(actions).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('models reads models/ of the lake only', () => {
    const fn = resources[id(stack.predictionsApi!.modelsFunction.lambdaFunction)];
    expect(fn.Properties.Environment.Variables.LAKE_BUCKET_NAME).toEqual({ Ref: id(stack.dataLake.bucket) });
    const st = roleStatements(stack.predictionsApi!.modelsFunction.role);
    const lake = `\${${id(stack.dataLake.bucket)}.Arn}`;
    expect(resourcesFor(st, 's3:GetObject')).toEqual([`${lake}/models/*`]);
    expect(resourcesFor(st, 's3:PutObject')).toEqual([]);
  });

  it("models reads the serving figures from CloudWatch: GetMetricData only, the endpoint and predict named in its environment", () => {
    const fn = resources[id(stack.predictionsApi!.modelsFunction.lambdaFunction)];
    expect(fn.Properties.Environment.Variables).toMatchObject({
      MODEL_ENDPOINT_NAME: 'sdp-bid-win',
      PREDICT_FUNCTION_NAME: { Ref: id(stack.predictionsApi!.predictFunction.lambdaFunction) },
    });
    expect(fn.Properties.Environment.Variables.SDP_LOCAL_SERVING_FIGURES_URL).toBeUndefined();
    const st = roleStatements(stack.predictionsApi!.modelsFunction.role);
    // GetMetricData has no resource type in the Service Authorization Reference: it cannot be scoped to a resource.
    expect(st.flatMap(actions).filter((a) => a.startsWith('cloudwatch:'))).toEqual(['cloudwatch:GetMetricData']);
    expect(resourcesFor(st, 'cloudwatch:GetMetricData')).toEqual(['*']);
    // Predict itself reads no metrics.
    expect(roleStatements(stack.predictionsApi!.predictFunction.role).flatMap(actions).filter((a) => a.startsWith('cloudwatch:'))).toEqual([]);
  });

  it('UrlForPredictions is the base URL + predictions', () => {
    const outputs = template.toJSON().Outputs;
    expect(render(outputs.UrlForPredictions.Value)).toBe(`${render(outputs.UrlForAPI.Value)}predictions`);
  });
});

describe('gate step', () => {
  const input = {
    version: 'v2',
    trainingJobName: 'sdp-bid-win-v2',
    modelArtifacts: 's3://lake/models/v2/sdp-bid-win-v2/output/model.tar.gz',
    finalMetrics: [{ MetricName: 'validation:auc', Value: 0.8 }, { MetricName: 'train:auc', Value: 0.9 }],
    trainingSeconds: 120,
  };
  const now = new Date('2026-01-01T00:00:00Z');

  it('deploys a first model that clears the floor, and records the validation AUC', () => {
    const r = gateStep(input, undefined, 0.6, now);
    expect(r.decision).toMatchObject({ deploy: true, floor: 0.6 });
    expect(r.metrics.auc).toBe(0.8);
  });

  it('without a re-score, refuses a model worse than the deployed one, saying the comparison is with the recorded AUC', () => {
    const r = gateStep(input, { version: 'v1', metrics: { auc: 0.85 } }, 0.6, now);
    expect(r.decision).toMatchObject({ deploy: false, currentAuc: 0.85, currentAucSource: 'recorded' });
    expect(r.decision.reason).toMatch(/as recorded for v1 on its own validation set/);
  });

  it('refuses when the job reported no validation AUC', () => {
    expect(gateStep({ ...input, finalMetrics: [] }, undefined, 0.6, now).decision.deploy).toBe(false);
  });
});
