// The REST API and the ingest Lambda behind one POST route per declared stream (the stack's
// pipelines, lib/stack-pipeline.ts: /<stream route> each), which put events on the
// stream; one function serves them all, finding its stream by the resource path. Those routes require an API key, metered by a usage plan (per-key throttling and a monthly quota).
// Request bodies may be gzip or deflate compressed (API Gateway decompresses them) and reach the
// Lambdas as the exact bytes sent, base64-encoded (every media type is binary): see requestBodies.
import { RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ACCEPTED_CONTENT_CODINGS } from '../lambdas/commons/body';
import { settings, streams } from '../schemas/resources';
import { grantPutRecords } from './data-stream';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';
import { stackPipeline } from './stack-pipeline';

export interface IngestionApiProps {
  readonly eventsStream: kinesis.IStream;
  /** Steady-state requests per second of each method of the stage, for all clients together. @default 1000 */
  readonly throttlingRateLimit?: number;
  /** @default 2000 */
  readonly throttlingBurstLimit?: number;
  /** Name of the API key the stack creates for ingestion clients. @default 'sdp-ingestion' */
  readonly apiKeyName?: string;
  /** Requests per second each API key may make to the ingestion routes (usage plan). @default 1000 */
  readonly apiKeyRateLimit?: number;
  /** Burst each API key may make (usage plan). @default 2000 */
  readonly apiKeyBurstLimit?: number;
  /** Requests each API key may make per month before API Gateway answers 429 (usage plan quota). @default 100_000_000 */
  readonly apiKeyMonthlyQuota?: number;
  /**
   * Create the account-wide role API Gateway needs to write access logs. Turn off when the
   * account already has one. @default true
   */
  readonly cloudWatchRole?: boolean;
  readonly functionProps?: Partial<HandlerFunctionProps>;
  /** Overrides for the REST API (applied last). */
  readonly restApiProps?: Partial<apigw.RestApiProps>;
}

/** The content codings API Gateway decompresses (developer guide, "Content codings supported by API Gateway"). */
const ACCEPTED_CODINGS = ACCEPTED_CONTENT_CODINGS.join(', ');

// How request bodies reach the Lambdas.
//
// - Compressed bodies: "The client can submit an API request with a compressed payload and an
//   appropriate Content-Encoding header for API Gateway to decompress [...] before passing the
//   request to the integration endpoint." "If the specified coding isn't supported or the supplied
//   payload isn't compressed with specified coding, API Gateway returns the 415 Unsupported Media
//   Type error response." And of minimumCompressionSize: "If the payload size is smaller than this
//   value, compression or decompression are not applied on the payload. Setting it to zero allows
//   compression for any payload size." (API Gateway developer guide, "Payload compression for REST
//   APIs", "Call an API method with a compressed payload", "Enable payload compression".) So 0:
//   a compressed body of any size is decompressed before the Lambda sees it (and answers are
//   compressed for clients that ask with Accept-Encoding). The handlers cap the decoded size at
//   MAX_BODY_BYTES (413).
// - Bytes, not text: "A text payload is a UTF-8-encoded JSON string. A binary payload is anything
//   other than a text payload." and, for Lambda proxy integrations, "Your API's binaryMediaTypes
//   configuration is a list of content types that your API treats as binary data [...] */* includes
//   all content types." (ibid., "Working with binary media types for REST APIs"). With */* every
//   body reaches the Lambda base64-encoded (isBase64Encoded true), byte for byte, so the handlers
//   decode it strictly in its declared charset (lambdas/commons/body.ts) instead of receiving text
//   API Gateway decoded. Answers are unchanged: a proxy Lambda's answer is passed as text unless it
//   sets isBase64Encoded itself (ibid., "Return binary media from a Lambda proxy integration").
// - No request validator or model: the handlers validate (zod) and name each bad field; a JSON
//   schema model would also see a compressed or non-UTF-8 body before the handlers could answer it.
const requestBodies: Pick<apigw.RestApiProps, 'binaryMediaTypes' | 'minCompressionSize'> = {
  binaryMediaTypes: ['*/*'],
  minCompressionSize: Size.bytes(0),
};

/** API Gateway's 415 (unsupported content coding, or a body not in its coding), naming the accepted codings as the local API server does. */
const UNSUPPORTED_MEDIA_TYPE: apigw.GatewayResponseOptions = {
  type: apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE,
  statusCode: '415',
  responseHeaders: { 'Accept-Encoding': `'${ACCEPTED_CODINGS}'` },
  templates: {
    'application/json': JSON.stringify({
      error: `the body's content-encoding is not supported, or the body is not encoded with it; accepted content codings: ${ACCEPTED_CODINGS}`,
    }),
  },
};

export class IngestionApi extends Construct {
  /** The platform's REST API; other constructs add their routes to it. */
  public readonly restApi: apigw.RestApi;
  public readonly ingestFunction: HandlerFunction;
  public readonly accessLogGroup: logs.LogGroup;
  /** Meters the ingestion clients' keys on the API's stage: throttling and a monthly quota per key. */
  public readonly usagePlan: apigw.UsagePlan;
  /** The key the stack creates; its value is generated by API Gateway and never in the template. */
  public readonly apiKey: apigw.IApiKey;

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
      description: 'sdp: event ingestion and reports',
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
      ...requestBodies,
      ...props.restApiProps,
    });
    this.restApi.addGatewayResponse('UnsupportedMediaType', UNSUPPORTED_MEDIA_TYPE);

    const integration = new apigw.LambdaIntegration(this.ingestFunction.lambdaFunction);
    const { streams: declared } = stackPipeline(this).pipeline;
    for (const stream of declared) {
      this.restApi.root.resourceForPath(stream.route).addMethod('POST', integration, { apiKeyRequired: true });
    }

    this.usagePlan = this.restApi.addUsagePlan('UsagePlan', {
      name: `${Stack.of(this).stackName}-ingestion`,
      description: 'sdp ingestion clients: per-key throttling and monthly quota',
      throttle: { rateLimit: props.apiKeyRateLimit ?? 1000, burstLimit: props.apiKeyBurstLimit ?? 2000 },
      quota: { limit: props.apiKeyMonthlyQuota ?? 100_000_000, period: apigw.Period.MONTH },
      apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
    });
    // No value given: API Gateway generates one, so the key is never in the template or the repo.
    this.apiKey = new apigw.ApiKey(this, 'ApiKey', {
      apiKeyName: props.apiKeyName ?? 'sdp-ingestion',
      description: `sdp ingestion client key (x-api-key on POST ${declared.map((st) => st.route).join(', ')})`,
      enabled: true,
    });
    this.usagePlan.addApiKey(this.apiKey);

    acknowledgeApiFindings(this.restApi);
  }
}

function acknowledgeApiFindings(api: apigw.RestApi): void {
  const validations = Validations.of(api);
  validations.acknowledge({
    id: 'AwsSolutions-APIG2',
    reason: 'Request bodies are validated in the Lambda handlers (zod), which answer 400 naming each bad field; an API Gateway model would only duplicate that with worse messages, and would judge bodies before the handlers decode their charset.',
  });
  validations.acknowledge({
    id: 'AwsSolutions-APIG3',
    reason: 'No WAF yet: request rates are bounded by the stage throttling and, on ingestion, by the usage plan (per-key throttling and monthly quota); a web ACL with IP rate rules is not built.',
  });
  validations.acknowledge({
    id: 'AwsSolutions-APIG4',
    reason: 'No authorizer: ingestion requires an API key, which identifies and meters a client (usage plan) but is not authorization; the reports are read-only aggregates left open for the console. An IAM or Lambda authorizer is not built.',
  });
  validations.acknowledge({
    id: 'AwsSolutions-COG4',
    reason: 'No Cognito user pool: ingestion clients are servers, not users with sign-ins; they present an API key (metering, not authorization), and the reports are open.',
  });
  const role = api.node.tryFindChild('CloudWatchRole');
  if (role) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The account-level role API Gateway needs to write access logs; AWS maintains this service policy.',
    });
  }
}
