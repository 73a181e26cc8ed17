// The reports Lambda and its routes on the platform's REST API: for each declared aggregation of the
// stack's pipelines, GET /reports/<route>/{<group field>}/... and the same with /period (contract 4 of
// issue 19). One function serves them all,
// finding its aggregation by the resource path.
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import { LambdaIntegration } from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { reportResource } from '../schemas/api-index';
import type { Pipeline } from '../schemas/pipeline';
import { settings, tables } from '../schemas/resources';
import { HandlerFunction, type HandlerFunctionProps } from './handler-function';
import { stackPipeline } from './stack-pipeline';

/** Path under the API's base URL where the first aggregation's reports live (UrlForReports): `reports/<route>`, or `reports` with none. */
export function reportsPath(pipeline: Pipeline): string {
  const first = pipeline.aggregations[0];
  return first ? `reports/${first.route}` : 'reports';
}

export interface ReportsApiProps {
  readonly restApi: apigw.RestApi;
  readonly aggregatesTable: dynamodb.ITable;
  /** The aggregator's window length overriding every declared period (the stack's AggregationPeriod; empty: as declared), which sliding windows are multiples of. @default each aggregation's declared period */
  readonly aggregationPeriodSeconds?: string;
  readonly functionProps?: Partial<HandlerFunctionProps>;
}

export class ReportsApi extends Construct {
  public readonly reportsFunction: HandlerFunction;
  /** Each aggregation's report resource (/reports/<route>/{...}), by aggregation name; its /period child is the roll-up route. */
  public readonly reportResources: Readonly<Record<string, apigw.Resource>>;

  constructor(scope: Construct, id: string, props: ReportsApiProps) {
    super(scope, id);

    this.reportsFunction = new HandlerFunction(this, 'Reports', {
      handlerName: 'reports',
      ...props.functionProps,
      environment: {
        [tables.aggregates.env]: props.aggregatesTable.tableName,
        ...(props.aggregationPeriodSeconds !== undefined && { [settings.aggregationPeriodSeconds.env]: props.aggregationPeriodSeconds }),
        ...props.functionProps?.environment,
      },
    });
    props.aggregatesTable.grantReadData(this.reportsFunction.lambdaFunction);

    const integration = new LambdaIntegration(this.reportsFunction.lambdaFunction);
    const resources: Record<string, apigw.Resource> = {};
    for (const aggregation of stackPipeline(this).pipeline.aggregations) {
      const resource = props.restApi.root.resourceForPath(reportResource(aggregation));
      resource.addMethod('GET', integration);
      resource.addResource('period').addMethod('GET', integration);
      resources[aggregation.name] = resource;
    }
    this.reportResources = resources;
  }
}
