// The REST API and the ingest Lambda behind POST /bid, /impression, /click, which put events on the stream.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EVENT_TYPES } from '../schemas/events';
import { settings, streams } from '../schemas/resources';
import { grantPutRecords } from './data-stream';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';

export interface IngestionApiProps {
  readonly eventsStream: kinesis.IStream;
  /** Steady-state requests per second across the stage. @default 1000 */
  readonly throttlingRateLimit?: number;
  /** @default 2000 */
  readonly throttlingBurstLimit?: number;
  /**
   * Create the account-wide role API Gateway needs to write access logs. Turn off when the
   * account already has one. @default true
   */
  readonly cloudWatchRole?: boolean;
  readonly functionProps?: Partial<HandlerFunctionProps>;
  /** Overrides for the REST API (applied last). */
  readonly restApiProps?: Partial<apigw.RestApiProps>;
}

export class IngestionApi extends Construct {
  /** The platform's REST API; other constructs add their routes to it. */
  public readonly restApi: apigw.RestApi;
  public readonly ingestFunction: HandlerFunction;
  public readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: IngestionApiProps) {
    super(scope, id);
    this.ingestFunction = new HandlerFunction(this, 'Ingest', {
      handlerName: 'ingest',
      ...props.functionProps,
      environment: {
        [streams.events.env]: props.eventsStream.streamName,
        [settings.maxClockSkewSeconds.env]: String(settings.maxClockSkewSeconds.default),
        [settings.maxEventAgeSeconds.env]: String(settings.maxEventAgeSeconds.default),
        ...props.functionProps?.environment,
      },
    });
    grantPutRecords(props.eventsStream, this.ingestFunction.lambdaFunction);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'sdp: event ingestion and campaign reports',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: props.cloudWatchRole ?? true,
      deployOptions: {
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 1000,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 2000,
      },
      ...props.restApiProps,
    });

    const integration = new apigw.LambdaIntegration(this.ingestFunction.lambdaFunction);
    for (const type of EVENT_TYPES) {
      this.restApi.root.addResource(type).addMethod('POST', integration);
    }

    acknowledgeApiFindings(this.restApi);
  }
}

function acknowledgeApiFindings(api: apigw.RestApi): void {
  const validations = Validations.of(api);
  validations.acknowledge({
    id: 'AwsSolutions-APIG2',
    reason: 'Request bodies are validated in the Lambda handlers (zod), which answer 400 naming each bad field; an API Gateway model would only duplicate that with worse messages.',
  });
  validations.acknowledge({
    id: 'AwsSolutions-APIG3',
    reason: 'No WAF yet: throttling is set on the stage; a web ACL comes with the API-key/authorization issue.',
  });
  validations.acknowledge({
    id: 'AwsSolutions-APIG4',
    reason: 'No authorization yet: API keys and usage plans come in a later issue.',
  });
  validations.acknowledge({
    id: 'AwsSolutions-COG4',
    reason: 'No Cognito: clients are servers, not users; API keys and usage plans come in a later issue.',
  });
  const role = api.node.tryFindChild('CloudWatchRole');
  if (role) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The account-level role API Gateway needs to write access logs; AWS maintains this service policy.',
    });
  }
}
