// A Lambda function for one of the handlers in lambdas/: Node.js 22 on ARM64, bundled locally by esbuild, with its own log group and role.
import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { stackPipeline } from './stack-pipeline';

/** Namespace of the platform's Powertools metrics. */
export const METRICS_NAMESPACE = 'sdp';

export interface HandlerFunctionProps {
  /** Folder under lambdas/ holding handler.ts; also the Powertools service name. */
  readonly handlerName: string;
  readonly environment?: Record<string, string>;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Overrides for the function (applied last). */
  readonly functionProps?: Partial<nodejs.NodejsFunctionProps>;
}

export class HandlerFunction extends Construct {
  public readonly lambdaFunction: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Our own role instead of AWSLambdaBasicExecutionRole: it may write to this log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    this.logGroup.grantWrite(this.role);

    this.lambdaFunction = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(__dirname, '..', 'lambdas', props.handlerName, 'handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.handlerName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        // ESM from packages' ESM builds tree-shakes better; the banner gives CommonJS dependencies
        // their `require`, and modules that name files beside them (pipelines/index.ts) `__dirname`.
        format: nodejs.OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'module';import { fileURLToPath as __sdpPath } from 'url';const require = createRequire(import.meta.url);const __dirname = __sdpPath(new URL('.', import.meta.url));",
        // The stack's pipelines, registered before the handler's modules run (lib/stack-pipeline.ts).
        inject: [stackPipeline(this).injectFile],
        // Ship the pinned SDK the handlers are tested with (locally too), not the runtime's.
        bundleAwsSDK: true,
      },
      ...props.functionProps,
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
    });
    Validations.of(this.lambdaFunction).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 on purpose: the runtime the design pins, matching the local platform and the bundling target.',
    });
  }
}
