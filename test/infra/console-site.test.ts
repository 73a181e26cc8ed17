/**
 * The live console as a static site in SdpStack's template: a private, encrypted, TLS-only bucket
 * that logs its reads, behind CloudFront through origin access control, filled from console/ with
 * a config.json that names the stack's API, and its URL as the UrlForConsole output.
 */
import { readdirSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import type { SdpStack } from '../../lib/sdp-stack';
import { CONSOLE_CONTENT_SECURITY_POLICY, CONSOLE_DIR } from '../../schemas/console';
import { isCdkDeploymentHandler, synthesize, type Json } from './synth';

let stack: SdpStack;
let resources: Record<string, { Type: string; Properties: Json }>;
let outputs: Record<string, Json>;

beforeAll(() => {
  let template;
  ({ stack, template } = synthesize({ bundling: false }));
  ({ Resources: resources, Outputs: outputs } = template.toJSON());
});

const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

it('keeps the files in a private, encrypted bucket that logs its reads and refuses plain HTTP', () => {
  const bucketId = logicalId(stack.consoleSite.bucket);
  const bucket = resources[bucketId].Properties;
  expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
  expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
  expect(bucket.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logicalId(stack.dataLake.accessLogsBucket) }, LogFilePrefix: 'console/' });
  const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === bucketId)![1].Properties.PolicyDocument.Statement as Json[];
  expect(policy).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  // CloudFront alone reads it, as the distribution's service principal.
  expect(policy).toContainEqual(
    expect.objectContaining({ Effect: 'Allow', Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' }, Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } } }),
  );
});

it('serves index.html over HTTPS through origin access control', () => {
  const config = resources[logicalId(stack.consoleSite.distribution)].Properties.DistributionConfig;
  expect(config.DefaultRootObject).toBe('index.html');
  expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
  expect(config.Origins).toHaveLength(1);
  expect(config.Origins[0].DomainName).toEqual({ 'Fn::GetAtt': [logicalId(stack.consoleSite.bucket), 'RegionalDomainName'] });
  expect(config.Origins[0].OriginAccessControlId).toBeDefined();
  expect(ofType('AWS::CloudFront::OriginAccessControl')[0][1].Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
});

it('sends the headers the local platform sends with the page: its own scripts only, no referrer, no framing', () => {
  const config = resources[logicalId(stack.consoleSite.distribution)].Properties.DistributionConfig;
  const policy = resources[config.DefaultCacheBehavior.ResponseHeadersPolicyId.Ref].Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
  expect(policy.ContentSecurityPolicy).toEqual({ ContentSecurityPolicy: CONSOLE_CONTENT_SECURITY_POLICY, Override: true });
  expect(policy).toMatchObject({ ContentTypeOptions: { Override: true }, ReferrerPolicy: { ReferrerPolicy: 'no-referrer' }, FrameOptions: { FrameOption: 'DENY' } });
});

it("deploys console/ and a config.json naming the stack's API, then invalidates the distribution", () => {
  const deployments = ofType('Custom::CDKBucketDeployment');
  expect(deployments).toHaveLength(1);
  const deployment = deployments[0][1].Properties;
  expect(deployment.DestinationBucketName).toEqual({ Ref: logicalId(stack.consoleSite.bucket) });
  expect(deployment.DistributionId).toEqual({ Ref: logicalId(stack.consoleSite.distribution) });
  expect(deployment.DistributionPaths).toEqual(['/*']);
  expect(deployment.SourceObjectKeys).toHaveLength(2);
  // config.json is written at deploy time, with the API's URL filled in from the REST API and its stage.
  const markers = Object.values(deployment.SourceMarkers[1]);
  expect(markers).toContainEqual({ Ref: logicalId(stack.ingestionApi.restApi) });
  expect(markers).toContainEqual({ Ref: stack.getLogicalId(stack.ingestionApi.restApi.deploymentStage.node.defaultChild as CfnElement) });
  expect(readdirSync(CONSOLE_DIR)).toContain('index.html');
});

it('outputs the console URL', () => {
  expect(outputs.UrlForConsole.Value).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.consoleSite.distribution), 'DomainName'] }, '/']] });
});

it("lets CDK's deployment function touch only the asset bucket, the console's bucket and CloudFront invalidations", () => {
  const policies = ofType('AWS::IAM::Policy').filter(([logicalId]) => isCdkDeploymentHandler(logicalId));
  expect(policies).toHaveLength(1);
  const statements = policies[0][1].Properties.PolicyDocument.Statement as Json[];
  const site = { 'Fn::GetAtt': [logicalId(stack.consoleSite.bucket), 'Arn'] };
  const assetBucket = ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' }];
  const allowed = [site, { 'Fn::Join': ['', [site, '/*']] }, { 'Fn::Join': ['', assetBucket] }, { 'Fn::Join': ['', [...assetBucket, '/*']] }].map((r) => JSON.stringify(r));
  for (const statement of statements) {
    const actions = [statement.Action].flat() as string[];
    const targets = [statement.Resource].flat();
    if (actions.every((a) => a.startsWith('cloudfront:'))) {
      expect(actions.sort()).toEqual(['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation']);
      continue;
    }
    expect(actions.every((a) => a.startsWith('s3:'))).toBe(true);
    for (const target of targets) expect(allowed).toContain(JSON.stringify(target));
  }
});
