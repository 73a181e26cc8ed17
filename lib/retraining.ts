// Scheduled retraining of the bid-win model in AWS: an EventBridge schedule starts a Step Functions state machine that builds the training set with Athena (UNLOAD as libsvm, the shared featurizer's encoding), trains SageMaker's built-in XGBoost (pinned image), applies the quality gate, and deploys to a serverless endpoint (create or update, waiting for InService; replaced configs deleted).
//
// Idle cost, on purpose near zero. Serverless inference bills per request (compute time at the
// configured memory, per ms, plus data processed) and nothing while idle: no instance runs between
// predictions. For comparison, the smallest real-time instance (ml.t2.medium) runs all month, about
// $40/month (us-east-1, list price at the time of writing), whether or not anyone asks. The rest is
// per run: one ml.m5.large training job of a few minutes (≈ $0.115/hour, billed per second, so a
// 5-minute run ≈ $0.01), two Athena scans of parquet_bids and parquet_impressions ($5/TB scanned: 1 GB of Parquet ≈ $0.005
// each), a few dozen Step Functions state transitions ($0.025 per 1,000), two Lambda calls (the gate re-scores the deployed endpoint on up to 100,000 validation rows: about a hundred serverless inference requests per run) and
// the training sets, expired after `trainingSetExpiration`. The trade-off is the cold start: the
// first prediction after the endpoint has been idle waits seconds while a container starts.
import { ArnFormat, Aws, CfnMapping, Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { sqlTableName, tablePrefix } from '../schemas/lake';
import { lakeBucket, modelEndpoint, modelRegistry, settings } from '../schemas/resources';
import { EXECUTION_START_SQL, trainingSetSelect, unloadSql } from '../lambdas/retraining/training-set';
import { disposableBucket, grantLakeObjects } from './data-lake';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';

/**
 * What bounds each step of a retraining run, so that no run needs an execution timeout: a step past
 * its bound fails the run (a Task's TimeoutSeconds raises States.Timeout; the polling loops end in
 * EndpointNeverSettled), and a failed run is what the RetrainingFailed alarm counts. The Lambda
 * steps are bounded by their functions' timeouts, the SageMaker API calls answer at once. Step
 * Functions: "If something goes wrong and the TimeoutSeconds field isn't specified for an Activity or
 * Task state, an execution is stuck waiting for a response that will never come" (developer guide,
 * using timeouts to avoid stuck executions). A Parallel state cannot carry the bound for a whole run:
 * its fields are Branches, Parameters, ResultPath, ResultSelector, Retry and Catch, no TimeoutSeconds
 * (developer guide, Parallel workflow state).
 */
export const RUN_BOUNDS = {
  /** Each UNLOAD (Athena's own DML query timeout is 30 minutes by default). */
  unloadSeconds: 3600,
  /** The training job: its MaxRuntime (1 h) plus provisioning and the model upload. */
  trainingSeconds: 2 * 3600,
  /** DescribeEndpoint polls, a minute apart, while the endpoint is busy or deploying. */
  endpointPolls: 120,
} as const;

/** Prefix (in the training-set bucket) of the per-run training sets: `training/<execution>/train|validation/`, Athena's UNLOAD metadata under `training/_athena/`. */
export const TRAINING_PREFIX = 'training';
const MODELS_PREFIX = modelRegistry.prefix.replace(/\/$/, '');

/** SageMaker's built-in XGBoost, the version the state machine trains and serves with. */
export const XGBOOST_REPOSITORY = 'sagemaker-xgboost';
export const XGBOOST_VERSION = '1.7-1';

/**
 * The training job's XGBoost hyperparameters (the props may override them). test/infra/xgboost.test.ts
 * trains the real XGBoost 1.7.4 with these on the state machine's channels.
 */
export const RETRAINING_HYPERPARAMETERS: Readonly<Record<string, string>> = {
  objective: 'binary:logistic',
  eval_metric: 'auc',
  num_round: '200',
  early_stopping_rounds: '20',
  max_depth: '6',
  eta: '0.2',
  subsample: '0.8',
};

/**
 * The account of SageMaker's XGBoost 1.x images per region (the documented registry paths, the same
 * table the SageMaker Python SDK's image_uri_config/xgboost.json holds for 1.0-1 to 1.7-1).
 */
export const XGBOOST_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '510948584623',
  'ap-east-1': '651117190479',
  'ap-northeast-1': '354813040037',
  'ap-northeast-2': '366743142698',
  'ap-northeast-3': '867004704886',
  'ap-south-1': '720646828776',
  'ap-south-2': '628508329040',
  'ap-southeast-1': '121021644041',
  'ap-southeast-2': '783357654285',
  'ap-southeast-3': '951798379941',
  'ap-southeast-4': '106583098589',
  'ca-central-1': '341280168497',
  'ca-west-1': '190319476487',
  'cn-north-1': '450853457545',
  'cn-northwest-1': '451049120500',
  'eu-central-1': '492215442770',
  'eu-central-2': '680994064768',
  'eu-north-1': '662702820516',
  'eu-south-1': '978288397137',
  'eu-south-2': '104374241257',
  'eu-west-1': '141502667606',
  'eu-west-2': '764974769150',
  'eu-west-3': '659782779980',
  'il-central-1': '898809789911',
  'me-central-1': '272398656194',
  'me-south-1': '801668240914',
  'sa-east-1': '737474898029',
  'us-east-1': '683313688378',
  'us-east-2': '257758044811',
  'us-west-1': '746614075791',
  'us-west-2': '246618743249',
};

export interface RetrainingProps {
  /** The lake: reads parquet/bids/ and parquet/impressions/, writes the registry under models/. */
  readonly lakeBucket: s3.Bucket;
  /** Glue database of the lake tables. @default 'sdp_lake' */
  readonly databaseName?: string;
  /** How often retraining runs. @default Schedule.rate(Duration.days(1)) */
  readonly schedule?: events.Schedule;
  /** The SageMaker endpoint it creates or updates; also the prefix of models, configs and jobs. @default modelEndpoint.name */
  readonly endpointName?: string;
  /** Held-out AUC a model must reach to be deployed. May be a token. @default settings.modelAucFloor.default */
  readonly aucFloor?: string;
  /**
   * A run trains only when its training set (train and validation) holds at least this many
   * auctions; with fewer it ends without a training job (an idle stack's daily run costs a few
   * state transitions and two Athena queries, not a job). @default settings.retrainMinNewAuctions.default
   */
  readonly minAuctions?: number;
  /** @default XGBOOST_VERSION ('1.7-1') */
  readonly xgboostVersion?: string;
  /** @default ml.m5.large */
  readonly trainingInstanceType?: ec2.InstanceType;
  /** XGBoost hyperparameters over the defaults (objective binary:logistic, eval_metric auc). */
  readonly hyperparameters?: Record<string, string>;
  /** Serverless endpoint memory. @default 2048 */
  readonly serverlessMemorySizeInMB?: number;
  /** Concurrent invocations the serverless endpoint serves before throttling. @default 5 */
  readonly serverlessMaxConcurrency?: number;
  /** Where the training-set bucket writes its server access logs. @default none (acknowledged) */
  readonly accessLogsBucket?: s3.IBucket;
  /** Per-run training sets are deleted after this. @default Duration.days(7) */
  readonly trainingSetExpiration?: Duration;
  /** Name of the Athena workgroup of the training-set queries. @default 'sdp-retraining' */
  readonly workGroupName?: string;
  readonly functionProps?: Partial<HandlerFunctionProps>;
}

export class Retraining extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly rule: events.Rule;
  /** The role SageMaker assumes to train and to serve: training/ and models/ in the lake, its log groups. */
  public readonly sageMakerRole: iam.Role;
  /** Per-run training sets (`training/<execution>/train|validation/`) and the UNLOADs' metadata; they expire. */
  public readonly trainingBucket: s3.Bucket;
  public readonly gateFunction: HandlerFunction;
  public readonly promoteFunction: HandlerFunction;
  /** Copies each split's UNLOAD output (gzip) to its training channel, uncompressed (lambdas/retraining/channels.ts). */
  public readonly channelsFunction: HandlerFunction;
  /** Workgroup of the training-set queries; its results stay in the lake under training/_athena/. */
  public readonly workGroup: athena.CfnWorkGroup;
  public readonly endpointName: string;
  /** The pinned XGBoost image the training job and the model use. */
  public readonly imageUri: string;

  constructor(scope: Construct, id: string, props: RetrainingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const bucket = props.lakeBucket;
    const databaseName = props.databaseName ?? 'sdp_lake';
    // The training set reads the bids and impressions (lambdas/ml/outcome.ts: known auctions).
    const tableNames = (['bids', 'impressions'] as const).map((t) => sqlTableName('parquet', t));
    const endpointName = (this.endpointName = (props.endpointName ?? modelEndpoint.name).toLowerCase());
    const sagemakerArn = (resource: string, name: string) => stack.formatArn({ service: 'sagemaker', resource, resourceName: name });
    // Every run's job, model and endpoint config is `<endpoint>-<execution name>`.
    const runArn = (resource: string) => sagemakerArn(resource, `${endpointName}-*`);
    const endpointArn = sagemakerArn('endpoint', endpointName);

    const accounts = new CfnMapping(this, 'XgboostImageAccounts', {
      mapping: Object.fromEntries(Object.entries(XGBOOST_REGISTRY_ACCOUNTS).map(([region, account]) => [region, { account }])),
    });
    this.imageUri = `${accounts.findInMap(Aws.REGION, 'account')}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${XGBOOST_REPOSITORY}:${props.xgboostVersion ?? XGBOOST_VERSION}`;
    const image = tasks.DockerImage.fromRegistry(this.imageUri);

    // Training sets are disposable copies of the lake, one per run: their own bucket, where they
    // expire, so the lake keeps its rule that current files never expire.
    this.trainingBucket = disposableBucket(this, 'TrainingSets', {
      accessLogsBucket: props.accessLogsBucket,
      accessLogsPrefix: 'training-sets/',
      expirationRuleId: 'expire-training-sets',
      expiration: props.trainingSetExpiration ?? Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
      unloggedReason: 'No access-log bucket was given: this bucket holds only per-run training sets, copies of the lake that expire, written and read by the retraining state machine and SageMaker.',
    });
    const scratch = this.trainingBucket;

    // --- SageMaker's role: read the training sets, write and read the model artifacts, write its logs.
    this.sageMakerRole = new iam.Role(this, 'SageMakerRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'sdp retraining: SageMaker training jobs and the bid-win model endpoint',
    });
    const logGroupArns = ['/aws/sagemaker/TrainingJobs', `/aws/sagemaker/Endpoints/${endpointName}`].map((name) =>
      stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    this.sageMakerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: logGroupArns,
      }),
    );
    // AWS's minimum CreateTrainingJob execution-role policy lists cloudwatch:PutMetricData (training
    // and endpoint containers publish their metrics with the role's credentials); it supports no
    // resource-level permission, so it is narrowed by namespace to SageMaker's own.
    this.sageMakerRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
      }),
    );
    Validations.of(this.sageMakerRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:PutMetricData supports no resource-level permissions; the statement is limited to the /aws/sagemaker/* namespaces by the cloudwatch:namespace condition.',
    });
    // No ECR statement, though the minimum policy lists the ECR reads: those are for images in the
    // account's own registry. "SageMaker uses its own SageMaker account credentials to pull and access
    // built-in algorithms" (API reference, AlgorithmSpecification), and the XGBoost image is one.
    Validations.of(this.sageMakerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/TrainingJobs:*]`,
      reason: 'Training jobs write one log stream per job into this AWS-named log group; stream names are only known when a job starts.',
    });
    Validations.of(this.sageMakerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/${endpointName}:*]`,
      reason: 'The endpoint writes one log stream per container into its AWS-named log group; stream names are only known at run time.',
    });

    // --- The gate and promote steps.
    const stepFunction = (fid: string, handlerName: string, extra: Partial<HandlerFunctionProps> = {}) =>
      new HandlerFunction(this, fid, {
        handlerName,
        timeout: Duration.seconds(30),
        ...extra,
        ...props.functionProps,
        environment: {
          POWERTOOLS_SERVICE_NAME: handlerName.replace('/', '-'),
          [lakeBucket.env]: bucket.bucketName,
          [settings.modelAucFloor.env]: props.aucFloor ?? String(settings.modelAucFloor.default),
          ...extra.environment,
          ...props.functionProps?.environment,
        },
      });
    // The gate re-scores the deployed endpoint on up to 100,000 validation rows (100 sequential
    // InvokeEndpoint calls of 1,000 lines): minutes at most, and the lines are held in memory.
    this.gateFunction = stepFunction('Gate', 'retraining/gate', {
      timeout: Duration.minutes(5),
      memorySize: 1024,
      environment: { [modelEndpoint.env]: endpointName },
    });
    this.promoteFunction = stepFunction('Promote', 'retraining/promote');
    // Streams each split through gunzip into a multipart upload: bound by S3 throughput, not memory.
    this.channelsFunction = stepFunction('Channels', 'retraining/channels', { timeout: Duration.minutes(15), memorySize: 1024 });
    // The registry: read the deployed record, write records and current.json.
    for (const fn of [this.gateFunction, this.promoteFunction]) {
      grantLakeObjects(bucket, fn.lambdaFunction, ['list', 'read', 'put'], [MODELS_PREFIX]);
    }
    // The gate also reads the runs' validation channels (training/<execution>/validation/; the
    // execution name is only known at run time) and invokes this endpoint, to re-score the deployed model.
    grantLakeObjects(this.trainingBucket, this.gateFunction.lambdaFunction, ['list', 'read'], [`${TRAINING_PREFIX}/*/validation`]);
    // The channels step reads the UNLOADs' output and writes the channels (multipart: put covers it).
    grantLakeObjects(this.trainingBucket, this.channelsFunction.lambdaFunction, ['list', 'read'], [`${TRAINING_PREFIX}/*/unload`]);
    grantLakeObjects(this.trainingBucket, this.channelsFunction.lambdaFunction, ['put'], [`${TRAINING_PREFIX}/*/train`, `${TRAINING_PREFIX}/*/validation`]);
    iam.Grant.addToPrincipal({ grantee: this.gateFunction.lambdaFunction, actions: ['sagemaker:InvokeEndpoint'], resourceArns: [endpointArn] });

    // --- Athena: its own workgroup, whose query metadata stays with the training sets, so the
    // state machine needs no access to the shared results bucket (other users' query results).
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName ?? 'sdp-retraining',
      description: 'sdp retraining: the training-set UNLOADs of the bid-win model',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: 100 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: `s3://${scratch.bucketName}/${TRAINING_PREFIX}/_athena/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: stack.account,
        },
      },
    });

    // --- The states.
    const execution = sfn.JsonPath.stringAt('$$.Execution.Name');
    // A redriven execution keeps its name and reruns only the states that failed (and only the
    // failed branches of a Parallel), so whatever a state creates that must be new (an UNLOAD's
    // empty destination, a training job's unique name) is also named after the attempt:
    // $$.Execution.RedriveCount, 0 on the first.
    const attempt = sfn.JsonPath.stringAt('$$.Execution.RedriveCount');
    const nameRun = new sfn.Pass(this, 'NameRun', {
      comment: 'Names of this run: model version = execution name; model and endpoint config = <endpoint>-<version>',
      parameters: {
        version: execution,
        name: sfn.JsonPath.format(`${endpointName}-{}`, execution),
        endpointName,
        outputUri: sfn.JsonPath.format(`s3://${bucket.bucketName}/${MODELS_PREFIX}/{}/`, execution),
      },
      resultPath: '$.run',
    });

    const unload = (sid: string, split: 'train' | 'validation') => {
      // UNLOAD's destination "must specify a location in Amazon S3 that has no data". Athena writes
      // text gzip-compressed: the UNLOAD goes under unload/, the channels step writes the channel.
      const destination = `s3://${scratch.bucketName}/${TRAINING_PREFIX}/{}/attempt-{}/unload/${split}/`;
      const channel = `s3://${scratch.bucketName}/${TRAINING_PREFIX}/{}/attempt-{}/${split}/`;
      const select = trainingSetSelect({ knownBefore: EXECUTION_START_SQL, split });
      return new sfn.CustomState(this, sid, {
        // The L2 AthenaStartQueryExecution task grants s3:GetObject and s3:CreateBucket on "*",
        // Glue create/delete actions and lakeformation:GetDataAccess; the same .sync integration as
        // a custom state lets the role below get only what these two queries need.
        stateJson: {
          Type: 'Task',
          Comment: `UNLOAD the ${split === 'train' ? 'training' : 'held-out (validation)'} auctions as libsvm lines`,
          Resource: `arn:${Aws.PARTITION}:states:::athena:startQueryExecution.sync`,
          Parameters: {
            'QueryString.$': sfn.JsonPath.format(
              // One line: the query is a string literal inside States.Format.
              unloadSql(select, destination).replace(/\s+/g, ' '),
              // States.Format fills each {} with the next argument: the SELECT's (the execution's
              // start, as often as the SELECT names it), then the destination's.
              ...Array.from({ length: placeholders(select) }, () => sfn.JsonPath.stringAt('$$.Execution.StartTime')),
              execution,
              attempt,
            ),
            WorkGroup: this.workGroup.ref,
            QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: databaseName },
          },
          // Bounded (RUN_BOUNDS): past it the state fails with States.Timeout, and so does the run.
          TimeoutSeconds: RUN_BOUNDS.unloadSeconds,
          // The branch's next state: where this attempt's UNLOAD wrote, and where its channel goes.
          ResultSelector: { 'unloadUri.$': sfn.JsonPath.format(destination, execution, attempt), 'channelUri.$': sfn.JsonPath.format(channel, execution, attempt) },
        },
      });
    };
    const decompress = (sid: string, split: 'train' | 'validation') =>
      new tasks.LambdaInvoke(this, sid, {
        comment: `The ${split === 'train' ? 'training' : 'validation'} channel: the UNLOAD's gzip text, uncompressed (SageMaker's XGBoost reads libsvm files as text)`,
        lambdaFunction: this.channelsFunction.lambdaFunction,
        payload: sfn.TaskInput.fromObject({ unloadUri: sfn.JsonPath.stringAt('$.unloadUri'), channelUri: sfn.JsonPath.stringAt('$.channelUri') }),
        payloadResponseOnly: true,
        // The branch's output: {unloadUri, channelUri} (where this attempt wrote the channel) and
        // what the step copied ({objects, bytes, rows}: rows are auctions).
        resultPath: '$.copied',
      });
    const buildTrainingSet = new sfn.Parallel(this, 'BuildTrainingSet', {
      comment: 'Training and validation channels of the known auctions (bids joined with impressions within 5 minutes), split by tx_id like isHoldout',
      resultSelector: {
        trainUri: sfn.JsonPath.stringAt('$[0].channelUri'),
        validationUri: sfn.JsonPath.stringAt('$[1].channelUri'),
        auctions: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$[0].copied.rows'), sfn.JsonPath.numberAt('$[1].copied.rows')),
      },
      resultPath: '$.sets',
    })
      .branch(unload('UnloadTrainingSet', 'train').next(decompress('DecompressTrainingSet', 'train')))
      .branch(unload('UnloadValidationSet', 'validation').next(decompress('DecompressValidationSet', 'validation')));

    const train = new ScopedTrainingJob(this, 'TrainModel', {
      // Training job names are unique in an account and region, failed jobs' too.
      trainingJobName: sfn.JsonPath.format(`${endpointName}-{}-attempt-{}`, execution, attempt),
      role: this.sageMakerRole,
      enableNetworkIsolation: true,
      algorithmSpecification: { trainingImage: image, trainingInputMode: tasks.InputMode.FILE },
      inputDataConfig: (['train', 'validation'] as const).map((channel) => ({
        channelName: channel,
        contentType: 'text/libsvm',
        // Uncompressed (the channels step gunzips Athena's output): "CompressionType is used only in
        // Pipe input mode. In File mode, leave this field unset or set it to None" (API reference, Channel).
        compressionType: tasks.CompressionType.NONE,
        dataSource: {
          s3DataSource: {
            s3DataType: tasks.S3DataType.S3_PREFIX,
            s3DataDistributionType: tasks.S3DataDistributionType.FULLY_REPLICATED,
            s3Location: new LakePrefixLocation(scratch, TRAINING_PREFIX, sfn.JsonPath.stringAt(`$.sets.${channel}Uri`)),
          },
        },
      })),
      outputDataConfig: { s3OutputLocation: new LakePrefixLocation(bucket, MODELS_PREFIX, sfn.JsonPath.stringAt('$.run.outputUri')) },
      resourceConfig: {
        instanceCount: 1,
        instanceType: props.trainingInstanceType ?? ec2.InstanceType.of(ec2.InstanceClass.M5, ec2.InstanceSize.LARGE),
        volumeSize: Size.gibibytes(10),
      },
      stoppingCondition: { maxRuntime: Duration.hours(1) },
      // The job's hour of training plus its provisioning and model upload (RUN_BOUNDS).
      taskTimeout: sfn.Timeout.duration(Duration.seconds(RUN_BOUNDS.trainingSeconds)),
      hyperparameters: { ...RETRAINING_HYPERPARAMETERS, ...props.hyperparameters },
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      resultSelector: {
        trainingJobName: sfn.JsonPath.stringAt('$.TrainingJobName'),
        modelArtifacts: sfn.JsonPath.stringAt('$.ModelArtifacts.S3ModelArtifacts'),
        finalMetrics: sfn.JsonPath.listAt('$.FinalMetricDataList'),
        trainingSeconds: sfn.JsonPath.numberAt('$.TrainingTimeInSeconds'),
        billableSeconds: sfn.JsonPath.numberAt('$.BillableTimeInSeconds'),
      },
      resultPath: '$.training',
    }, runArn('training-job'));

    const gate = new tasks.LambdaInvoke(this, 'ApplyQualityGate', {
      lambdaFunction: this.gateFunction.lambdaFunction,
      payload: sfn.TaskInput.fromObject({
        version: sfn.JsonPath.stringAt('$.run.version'),
        trainingJobName: sfn.JsonPath.stringAt('$.training.trainingJobName'),
        modelArtifacts: sfn.JsonPath.stringAt('$.training.modelArtifacts'),
        finalMetrics: sfn.JsonPath.listAt('$.training.finalMetrics'),
        validationUri: sfn.JsonPath.stringAt('$.sets.validationUri'),
        trainingSeconds: sfn.JsonPath.numberAt('$.training.trainingSeconds'),
        billableSeconds: sfn.JsonPath.numberAt('$.training.billableSeconds'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.gate',
    });

    const createModel = new ScopedCreateModel(this, 'CreateModel', {
      modelName: sfn.JsonPath.stringAt('$.run.name'),
      role: this.sageMakerRole,
      // Off: the model is served by a serverless endpoint, and SageMaker Serverless Inference lists
      // "VPC configuration and network isolation" among its feature exclusions (a model created with
      // network isolation never comes up on one). The training job above keeps its isolation.
      enableNetworkIsolation: false,
      primaryContainer: new tasks.ContainerDefinition({
        image,
        mode: tasks.Mode.SINGLE_MODEL,
        modelS3Location: new LakePrefixLocation(bucket, MODELS_PREFIX, sfn.JsonPath.stringAt('$.training.modelArtifacts')),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    }, runArn('model'));

    const createEndpointConfig = new tasks.CallAwsService(this, 'CreateEndpointConfig', {
      comment: 'Serverless inference: billed per request, nothing while idle',
      service: 'sagemaker',
      action: 'createEndpointConfig',
      iamAction: 'sagemaker:CreateEndpointConfig',
      iamResources: [runArn('endpoint-config')],
      parameters: {
        EndpointConfigName: sfn.JsonPath.stringAt('$.run.name'),
        ProductionVariants: [
          {
            VariantName: modelEndpoint.variantName,
            ModelName: sfn.JsonPath.stringAt('$.run.name'),
            ServerlessConfig: {
              MemorySizeInMB: props.serverlessMemorySizeInMB ?? 2048,
              MaxConcurrency: props.serverlessMaxConcurrency ?? 5,
            },
          },
        ],
      },
      resultPath: sfn.JsonPath.DISCARD,
    });

    const describe = (sid: string, resultPath: string) =>
      new tasks.CallAwsService(this, sid, {
        service: 'sagemaker',
        action: 'describeEndpoint',
        iamAction: 'sagemaker:DescribeEndpoint',
        iamResources: [endpointArn],
        parameters: { EndpointName: endpointName },
        resultSelector: {
          status: sfn.JsonPath.stringAt('$.EndpointStatus'),
          configName: sfn.JsonPath.stringAt('$.EndpointConfigName'),
        },
        resultPath,
      });
    const endpointCall = (sid: string, action: 'createEndpoint' | 'updateEndpoint') =>
      new tasks.CallAwsService(this, sid, {
        service: 'sagemaker',
        action,
        iamAction: `sagemaker:${action[0].toUpperCase()}${action.slice(1)}`,
        // Both resources: the endpoint, and the run's endpoint config it is pointed at.
        iamResources: [endpointArn, runArn('endpoint-config')],
        parameters: { EndpointName: endpointName, EndpointConfigName: sfn.JsonPath.stringAt('$.run.name') },
        resultPath: sfn.JsonPath.DISCARD,
      });

    // Before: is there an endpoint, and may it be updated now?
    const describeEndpoint = describe('DescribeEndpoint', '$.endpoint');
    const createEndpoint = endpointCall('CreateEndpoint', 'createEndpoint');
    const updateEndpoint = endpointCall('UpdateEndpoint', 'updateEndpoint');
    const deleteFailedEndpoint = new tasks.CallAwsService(this, 'DeleteFailedEndpoint', {
      comment: 'A Failed endpoint can be neither updated nor reused: delete it, then create it anew',
      service: 'sagemaker',
      action: 'deleteEndpoint',
      iamAction: 'sagemaker:DeleteEndpoint',
      iamResources: [endpointArn],
      parameters: { EndpointName: endpointName },
      resultPath: sfn.JsonPath.DISCARD,
    });
    // The two polling loops below (wait for the endpoint to be idle, then InService) share one
    // count of polls, started before the first DescribeEndpoint: past RUN_BOUNDS.endpointPolls the
    // run fails (EndpointNeverSettled) instead of polling on.
    const startPolling = new sfn.Pass(this, 'StartPolling', { result: sfn.Result.fromObject({ n: 0 }), resultPath: '$.polls' });
    const countPoll = (sid: string) =>
      new sfn.Pass(this, sid, { parameters: { n: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.polls.n'), 1) }, resultPath: '$.polls' });
    const tooManyPolls = sfn.Condition.numberGreaterThanEquals('$.polls.n', RUN_BOUNDS.endpointPolls);
    const neverSettled = new sfn.Fail(this, 'EndpointNeverSettled', {
      error: 'EndpointNeverSettled',
      cause: `The endpoint was neither InService nor Failed after ${RUN_BOUNDS.endpointPolls} polls a minute apart (see DescribeEndpoint); the run gives up`,
    });
    const waitForIdle = new sfn.Wait(this, 'WaitForIdleEndpoint', {
      comment: 'Never update while the endpoint is Creating, Updating, SystemUpdating, RollingBack or Deleting',
      time: sfn.WaitTime.duration(Duration.seconds(60)),
    });
    // DescribeEndpoint fails (ValidationException "Could not find endpoint") when there is none yet.
    describeEndpoint.addCatch(createEndpoint, { errors: [sfn.Errors.TASKS_FAILED], resultPath: '$.endpoint' });

    // After: wait for InService with THIS run's config (an update that fails rolls back to the old one).
    const waitForEndpoint = new sfn.Wait(this, 'WaitForEndpoint', { time: sfn.WaitTime.duration(Duration.seconds(60)) });
    const describeDeployment = describe('DescribeDeployment', '$.deployment');
    const promote = new tasks.LambdaInvoke(this, 'PromoteModel', {
      lambdaFunction: this.promoteFunction.lambdaFunction,
      payload: sfn.TaskInput.fromObject({
        version: sfn.JsonPath.stringAt('$.run.version'),
        endpointName,
        endpointConfigName: sfn.JsonPath.stringAt('$.run.name'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.promoted',
    });
    const deleteReplacedConfig = new tasks.CallAwsService(this, 'DeleteReplacedConfig', {
      service: 'sagemaker',
      action: 'deleteEndpointConfig',
      iamAction: 'sagemaker:DeleteEndpointConfig',
      iamResources: [runArn('endpoint-config')],
      parameters: { EndpointConfigName: sfn.JsonPath.stringAt('$.endpoint.configName') },
      resultPath: sfn.JsonPath.DISCARD,
    });
    const deployed = new sfn.Succeed(this, 'Deployed');

    const inService = sfn.Condition.stringEquals('$.deployment.status', 'InService');
    const ourConfig = sfn.Condition.stringEqualsJsonPath('$.deployment.configName', '$.run.name');
    const deployment = new sfn.Choice(this, 'DeploymentState')
      .when(sfn.Condition.and(inService, ourConfig), promote.next(
        new sfn.Choice(this, 'ReplacedConfig')
          .when(
            sfn.Condition.and(
              sfn.Condition.isPresent('$.endpoint.configName'),
              sfn.Condition.not(sfn.Condition.stringEqualsJsonPath('$.endpoint.configName', '$.run.name')),
            ),
            deleteReplacedConfig.next(deployed),
          )
          .otherwise(deployed),
      ))
      .when(inService, new sfn.Fail(this, 'UpdateRolledBack', {
        error: 'UpdateRolledBack',
        cause: 'The endpoint is InService with another endpoint config: the update failed and SageMaker rolled it back',
      }))
      .when(sfn.Condition.stringEquals('$.deployment.status', 'Failed'), new sfn.Fail(this, 'EndpointFailed', {
        error: 'EndpointFailed',
        cause: 'The endpoint failed to deploy the new model (see DescribeEndpoint FailureReason)',
      }))
      .when(tooManyPolls, neverSettled)
      .otherwise(waitForEndpoint);
    waitForEndpoint.next(countPoll('CountDeploymentPoll')).next(describeDeployment).next(deployment);
    createEndpoint.next(waitForEndpoint);
    updateEndpoint.next(waitForEndpoint);

    const endpointState = new sfn.Choice(this, 'EndpointState')
      .when(sfn.Condition.stringEquals('$.endpoint.status', 'InService'), updateEndpoint)
      .when(sfn.Condition.stringEquals('$.endpoint.status', 'Failed'), deleteFailedEndpoint.next(waitForIdle))
      .when(tooManyPolls, neverSettled)
      .otherwise(waitForIdle);
    waitForIdle.next(countPoll('CountIdlePoll')).next(describeEndpoint);
    describeEndpoint.next(endpointState);

    // Train only on enough auctions: an idle stack's run (an empty or tiny training set) ends here,
    // without a SageMaker job (billed per instance-second) and without failing on an empty channel.
    const minAuctions = props.minAuctions ?? settings.retrainMinNewAuctions.default;
    const enoughAuctions = new sfn.Choice(this, 'EnoughAuctions', { comment: `Train on at least ${minAuctions} auctions (RETRAIN_MIN_NEW_AUCTIONS)` })
      .when(sfn.Condition.numberGreaterThanEquals('$.sets.auctions', minAuctions), train)
      .otherwise(new sfn.Succeed(this, 'TooFewAuctions', { comment: 'No training job: the training set holds too few auctions; the deployed model stays' }));

    const decide = new sfn.Choice(this, 'GateDecision', { comment: 'Deploy only what the quality gate let through' })
      .when(sfn.Condition.booleanEquals('$.gate.deploy', true), createModel.next(createEndpointConfig).next(startPolling).next(describeEndpoint))
      .otherwise(new sfn.Succeed(this, 'KeepCurrentModel', { comment: 'The candidate is recorded in models/<version>/record.json, not deployed' }));

    train.next(gate).next(decide);
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'sdp: retrain the bid-win model and deploy it behind the quality gate',
      definitionBody: sfn.DefinitionBody.fromChainable(nameRun.next(buildTrainingSet).next(enoughAuctions)),
      // No execution timeout: a run past it would end TIMED_OUT, which the RetrainingFailed alarm
      // (ExecutionsFailed, one metric) would not see. Every step is bounded instead (RUN_BOUNDS), so
      // a run that hangs ends FAILED, naming the step and its cause, within hours (test/infra/ml.test.ts
      // adds the bounds up).
      tracingEnabled: true,
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason: 'No CloudWatch Logs for the executions: the Step Functions execution history keeps every state input, output and error for 90 days, and logging would need logs:CreateLogDelivery and its kin on Resource "*".',
    });
    this.grantStateMachine(bucket, databaseName, tableNames);

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'sdp: retrain the bid-win model',
      schedule: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      targets: [new targets.SfnStateMachine(this.stateMachine)],
    });
  }

  /** What the Athena custom states need (the L2 tasks grant their own): the workgroup, the bids and impressions tables, the lake prefixes. */
  private grantStateMachine(bucket: s3.Bucket, databaseName: string, tableNames: readonly string[]): void {
    const stack = Stack.of(this);
    const role = this.stateMachine.role;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
        resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroup.ref })],
      }),
    );
    // The policy Step Functions generates for Athena tasks includes athena:GetDataCatalog on the
    // catalog the query names (QueryExecutionContext.Catalog: AwsDataCatalog).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['athena:GetDataCatalog'],
        resources: [stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' })],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: databaseName }),
          ...tableNames.map((table) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${databaseName}/${table}` })),
        ],
      }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [bucket.bucketArn, this.trainingBucket.bucketArn] }));
    // Athena reads the bids and impressions and writes the UNLOADs (and their metadata) with the caller's credentials.
    grantLakeObjects(bucket, role, ['list', 'read'], (['bids', 'impressions'] as const).map((t) => tablePrefix('parquet', t).replace(/\/$/, '')));
    grantLakeObjects(this.trainingBucket, role, ['list', 'read', 'put'], [TRAINING_PREFIX]);

    const acknowledge = (resource: string, reason: string) =>
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    for (const kind of ['training-job', 'model', 'endpoint-config']) {
      acknowledge(
        `arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:${kind}/${this.endpointName}-*`,
        `Each run creates its own ${kind} named <endpoint>-<execution name>: names known only when the execution starts, all under this prefix.`,
      );
    }
    for (const fn of [this.gateFunction, this.promoteFunction, this.channelsFunction]) {
      const logicalId = stack.resolve((fn.lambdaFunction.node.defaultChild as lambda.CfnFunction).logicalId) as string;
      acknowledge(`<${logicalId}.Arn>:*`, 'LambdaInvoke grants the function and its versions (<arn>:*), so a qualified invoke works; it is still this one function.');
    }
    acknowledge('*', 'Active X-Ray tracing of the state machine needs xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets, which support no resource-level permissions.');
  }
}

/** A per-run S3 URI (a JSONPath) under one lake prefix; granting the task's role that prefix only. */
class LakePrefixLocation extends tasks.S3Location {
  constructor(
    private readonly bucket: s3.Bucket,
    private readonly prefix: string,
    private readonly uri: string,
  ) {
    super();
  }

  public bind(task: tasks.ISageMakerTask, opts: tasks.S3LocationBindOptions): tasks.S3LocationConfig {
    const access = [...(opts.forReading ? (['list', 'read'] as const) : []), ...(opts.forWriting ? (['put'] as const) : [])];
    grantLakeObjects(this.bucket, task, access, [this.prefix]);
    return { uri: this.uri };
  }
}

/**
 * The L2 SageMaker tasks grant their actions on `<resource>/*` and sagemaker:ListTags on "*" when
 * the job or model name is a JSONPath; our names all start with `<endpoint>-`, so narrow them to that.
 */
function narrowToRunResources(policies: iam.PolicyStatement[] | undefined, arn: string): void {
  if (!policies) return;
  policies.forEach((s, i) => {
    if (s.actions.every((a) => a.startsWith('sagemaker:')) && s.resources.some((r) => r === '*' || r.endsWith('/*'))) {
      policies[i] = new iam.PolicyStatement({ actions: s.actions, resources: [arn] });
    }
  });
}

class ScopedTrainingJob extends tasks.SageMakerCreateTrainingJob {
  constructor(scope: Construct, id: string, props: tasks.SageMakerCreateTrainingJobProps, jobArn: string) {
    super(scope, id, props);
    narrowToRunResources(this.taskPolicies, jobArn);
  }
}

class ScopedCreateModel extends tasks.SageMakerCreateModel {
  constructor(scope: Construct, id: string, props: tasks.SageMakerCreateModelProps, modelArn: string) {
    super(scope, id, props);
    narrowToRunResources(this.taskPolicies, modelArn);
  }
}

/** The `{}` placeholders States.Format fills in a template. */
export function placeholders(template: string): number {
  return template.split('{}').length - 1;
}
