// GET / on the REST API: the index of schemas/api-index.ts, answered by API Gateway itself (a mock
// integration with a static response template), so the index costs no Lambda invocation.
//
// API Gateway developer guide, "Mock integrations for REST APIs in API Gateway": "This feature
// enables API developers to generate API responses from API Gateway directly, without the need for
// an integration backend. [...] You can also use this feature to provision a landing page for your
// API, which can provide an overview of and navigation to your API." and "For a method with the
// mock integration to return a 200 response, configure the integration request body mapping
// template to return the following. {"statusCode": 200}"; also "Mock integrations aren't intended
// to support large response templates": the index is about 2 KB.
//
// The API treats every media type as binary (binaryMediaTypes */*: see ingestion-api.ts). Per
// "Content type conversions in API Gateway", a binary request with contentHandling CONVERT_TO_TEXT
// reaches the integration as a "Base64-encoded string", so the request mapping template applies;
// the integration response keeps contentHandling undefined, which passes the template's text on
// as is ("Binary data" for a binary Accept type, "UTF8-encoded string" for a text one).
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Validations } from 'aws-cdk-lib';
import { apiIndex } from '../schemas/api-index';

/** The response template: the index as JSON. Velocity treats `$` and `#` as code, so the index must hold neither. */
export function indexTemplate(consoleUrl: string): string {
  const text = JSON.stringify(apiIndex({ home: 'aws', consoleUrl }), null, 2);
  if (/[$#]/.test(text.replace(consoleUrl, ''))) throw new Error('the API index must not contain $ or # (Velocity syntax in a mapping template)');
  return text;
}

/** Adds GET / to the API's root resource, answering the index; `consoleUrl` is the live console's URL. */
export function addApiIndex(restApi: apigw.RestApi, consoleUrl: string): apigw.Method {
  const integration = new apigw.MockIntegration({
    passthroughBehavior: apigw.PassthroughBehavior.NEVER,
    contentHandling: apigw.ContentHandling.CONVERT_TO_TEXT,
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [
      {
        statusCode: '200',
        responseParameters: { 'method.response.header.Content-Type': "'application/json'" },
        responseTemplates: { 'application/json': indexTemplate(consoleUrl) },
      },
    ],
  });
  const method = restApi.root.addMethod('GET', integration, {
    methodResponses: [{ statusCode: '200', responseParameters: { 'method.response.header.Content-Type': true } }],
  });
  Validations.of(method).acknowledge({
    id: 'AwsSolutions-COG4',
    reason: 'GET / is a static index of the routes (an API Gateway mock, no backend, no data): open to anyone, like the reports, with no user pool to sign in to.',
  });
  return method;
}
