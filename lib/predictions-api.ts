// The serving side of the bid-win model on the platform's REST API: POST /predictions (the predict Lambda, which calls SageMaker runtime InvokeEndpoint on the model endpoint) and GET /models/current (the deployed model's registry record, with its serving figures read from CloudWatch).
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import { LambdaIntegration } from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { lakeBucket, modelEndpoint, modelRegistry } from '../schemas/resources';
import { servingEnv } from '../schemas/serving';
import { grantLakeObjects } from './data-lake';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';

/** Paths under the API's base URL. */
export const PREDICTIONS_PATH = 'predictions';
export const CURRENT_MODEL_PATH = 'models/current';

export interface PredictionsApiProps {
  readonly restApi: apigw.RestApi;
  /** The lake bucket, which holds the model registry (models/). */
  readonly lakeBucket: s3.Bucket;
  /** Name of the SageMaker endpoint the retraining state machine deploys to. @default modelEndpoint.name */
  readonly endpointName?: string;
  /**
   * Require the API key (x-api-key, metered by the ingestion usage plan) on POST /predictions.
   * @default true: predictions are a product API whose every call is a billed SageMaker
   * invocation, so callers are identified and throttled per key like ingestion clients. GET
   * /models/current stays open, like the reports: a small read of one S3 object.
   */
  readonly apiKeyRequired?: boolean;
  readonly predictFunctionProps?: Partial<HandlerFunctionProps>;
  readonly modelsFunctionProps?: Partial<HandlerFunctionProps>;
}

export class PredictionsApi extends Construct {
  public readonly predictFunction: HandlerFunction;
  public readonly modelsFunction: HandlerFunction;
  public readonly predictionsResource: apigw.Resource;
  public readonly currentModelResource: apigw.Resource;
  /** ARN of the endpoint predict may invoke (and nothing else). */
  public readonly endpointArn: string;

  constructor(scope: Construct, id: string, props: PredictionsApiProps) {
    super(scope, id);
    const endpointName = props.endpointName ?? modelEndpoint.name;
    this.endpointArn = Stack.of(this).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: endpointName.toLowerCase() });

    this.predictFunction = new HandlerFunction(this, 'Predict', {
      handlerName: 'predict',
      // A serverless endpoint may cold-start (seconds); API Gateway gives up at 29 s anyway.
      timeout: Duration.seconds(29),
      ...props.predictFunctionProps,
      environment: { [modelEndpoint.env]: endpointName, ...props.predictFunctionProps?.environment },
    });
    iam.Grant.addToPrincipal({
      grantee: this.predictFunction.lambdaFunction,
      actions: ['sagemaker:InvokeEndpoint'],
      resourceArns: [this.endpointArn],
    });

    this.modelsFunction = new HandlerFunction(this, 'Models', {
      handlerName: 'models',
      ...props.modelsFunctionProps,
      environment: {
        [lakeBucket.env]: props.lakeBucket.bucketName,
        // The serving figures' sources: the endpoint's metrics and the predict function's (lambdas/models/cloudwatch-figures.ts).
        [modelEndpoint.env]: endpointName,
        [servingEnv.predictFunctionName]: this.predictFunction.lambdaFunction.functionName,
        ...props.modelsFunctionProps?.environment,
      },
    });
    // The Service Authorization Reference lists no resource type for cloudwatch:GetMetricData, and
    // "If the column has no value, you must specify all resources ("*") to which the policy
    // applies in the Resource element of your policy statement."
    iam.Grant.addToPrincipal({
      grantee: this.modelsFunction.lambdaFunction,
      actions: ['cloudwatch:GetMetricData'],
      resourceArns: ['*'],
    });
    Validations.of(this.modelsFunction.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData supports no resource-level permissions (the Service Authorization Reference lists no resource type for it); the function reads only the serving metrics of the model endpoint and of the predict function with it.',
    });
    // models/ only (list, so a missing current.json is a 404 rather than a 403).
    grantLakeObjects(props.lakeBucket, this.modelsFunction.lambdaFunction, ['list', 'read'], [modelRegistry.prefix.replace(/\/$/, '')]);

    this.predictionsResource = props.restApi.root.addResource(PREDICTIONS_PATH);
    this.predictionsResource.addMethod('POST', new LambdaIntegration(this.predictFunction.lambdaFunction), {
      apiKeyRequired: props.apiKeyRequired ?? true,
    });
    this.currentModelResource = props.restApi.root.resourceForPath(CURRENT_MODEL_PATH);
    this.currentModelResource.addMethod('GET', new LambdaIntegration(this.modelsFunction.lambdaFunction));
  }
}
