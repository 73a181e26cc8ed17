// The reports Lambda and its routes GET /reports/campaigns/{campaign_item_id}[/period] on the platform's REST API.
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import { LambdaIntegration } from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tables } from '../schemas/resources';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';

/** Path under the API's base URL where campaign reports live. */
export const REPORTS_PATH = 'reports/campaigns';

export interface ReportsApiProps {
  readonly restApi: apigw.RestApi;
  readonly aggregatesTable: dynamodb.ITable;
  readonly functionProps?: Partial<HandlerFunctionProps>;
}

export class ReportsApi extends Construct {
  public readonly reportsFunction: HandlerFunction;
  /** The /reports/campaigns/{campaign_item_id} resource. */
  public readonly campaignResource: apigw.Resource;

  constructor(scope: Construct, id: string, props: ReportsApiProps) {
    super(scope, id);

    this.reportsFunction = new HandlerFunction(this, 'Reports', {
      handlerName: 'reports',
      ...props.functionProps,
      environment: {
        [tables.aggregates.env]: props.aggregatesTable.tableName,
        ...props.functionProps?.environment,
      },
    });
    props.aggregatesTable.grantReadData(this.reportsFunction.lambdaFunction);

    const integration = new LambdaIntegration(this.reportsFunction.lambdaFunction);
    this.campaignResource = props.restApi.root
      .resourceForPath(REPORTS_PATH)
      .addResource(`{${tables.aggregates.partitionKey.name}}`);
    this.campaignResource.addMethod('GET', integration);
    this.campaignResource.addResource('period').addMethod('GET', integration);
  }
}
