// The live console deployed as a static site: console/ in a private bucket behind CloudFront, with
// a config.json naming the API it reads. The page needs no live stream: against a deployed API it
// polls the public read-only routes (reports, models/current), which answer any web origin.
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_CONTENT_SECURITY_POLICY, CONSOLE_DIR, consoleAggregations, type ConsoleConfig } from '../schemas/console';
import { activePipeline } from '../schemas/active-pipeline';

export interface ConsoleSiteProps {
  /** Base URL of the API the console reads, written to the site's config.json. */
  readonly apiBaseUrl: string;
  /** Where the site bucket's access logs go. */
  readonly accessLogsBucket: s3.IBucket;
}

export class ConsoleSite extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  public readonly deployment: s3deploy.BucketDeployment;
  /** https URL of the console page. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);

    this.bucket = new s3.Bucket(this, 'Files', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'console/',
      // Kept on stack deletion, as the platform's other buckets are; it holds only the console's files.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'sdp live console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
          comment: 'sdp console: the headers the local platform sends with it',
          securityHeadersBehavior: {
            contentSecurityPolicy: { contentSecurityPolicy: CONSOLE_CONTENT_SECURITY_POLICY, override: true },
            contentTypeOptions: { override: true },
            referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
            frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
            strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
          },
        }),
      },
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    this.deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      destinationBucket: this.bucket,
      sources: [
        s3deploy.Source.asset(CONSOLE_DIR, { exclude: ['tsconfig.json'] }),
        s3deploy.Source.jsonData('config.json', { apiBaseUrl: props.apiBaseUrl, aggregations: consoleAggregations(activePipeline()) } satisfies ConsoleConfig),
      ],
      distribution: this.distribution,
      distributionPaths: ['/*'],
    });

    const reasons: Record<string, string> = {
      'AwsSolutions-CFR1': 'The console is a public page of static files; every figure it shows comes from the API, which decides what a caller may read',
      'AwsSolutions-CFR2': 'Static files only: no form, no write and no query reaches an origin through this distribution, so a WAF has nothing to inspect',
      'AwsSolutions-CFR3': "The bucket behind the distribution logs every read to the lake's access-log bucket; CloudFront's standard logs would need ACLs that bucket refuses",
      'AwsSolutions-CFR4': 'The distribution uses the default cloudfront.net certificate (a custom domain is the deployer\'s choice), with which CloudFront sets the TLS policy',
    };
    Validations.of(this.distribution).acknowledge(...Object.entries(reasons).map(([ruleId, reason]) => ({ id: ruleId, reason })));
    acknowledgeDeploymentHandler(this.deployment, this.bucket);
  }
}

/**
 * BucketDeployment copies the files with a function CDK provides, one per stack; its role and
 * runtime are CDK's, scoped by CDK to the asset and the site buckets.
 */
function acknowledgeDeploymentHandler(deployment: s3deploy.BucketDeployment, siteBucket: s3.Bucket): void {
  const stack = Stack.of(deployment);
  const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!handler) return;
  const copies = 'CDK\'s deployment function reads the console files from the CDK asset bucket and writes them to the site bucket, which takes';
  const siteObjects = `${stack.getLogicalId(siteBucket.node.defaultChild as CfnElement)}.Arn`;
  Validations.of(handler).acknowledge(
    { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: "CDK's own deployment function, which only writes its logs with the AWS-managed basic execution policy" },
    { id: 'AwsSolutions-L1', reason: 'The runtime of the deployment function is chosen by the CDK release that synthesizes the stack, and moves with it' },
    ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: `${copies} these actions on those two buckets only (it prunes files a new version dropped)` })),
    { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]', reason: `${copies} reading objects of the CDK bootstrap asset bucket` },
    { id: `AwsSolutions-IAM5[Resource::<${siteObjects}>/*]`, reason: `${copies} writing and pruning every object of the site bucket` },
    { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'CloudFront invalidations (cloudfront:CreateInvalidation, GetInvalidation) that CDK grants on every distribution, after each copy of the files' },
  );
}
