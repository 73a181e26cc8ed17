/**
 * Synthesizes the sdp app for the infra tests as bin/app.ts does (SdpStack + cdk-nag AwsSolutions,
 * cdk.json's context) into a temporary directory, and reads back the template and the validation report.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SdpStack } from '../../lib/sdp-stack';

// Template JSON is untyped; the tests give it shape where they assert on it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** An IAM policy statement as it appears in a synthesized template. */
export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}

/**
 * CDK's own BucketDeployment function (one per stack) copies the console's files into their bucket
 * with the grants CDK gives it: wildcard S3 actions on the asset and site buckets, CloudFront
 * invalidations on "*". The least-privilege checks are about the platform's own roles;
 * console-site.test.ts pins what this one may touch.
 */
export const isCdkDeploymentHandler = (logicalId: string): boolean => logicalId.startsWith('CustomCDKBucketDeployment');

/**
 * Every statement of the identity policies in a template (attached policies, managed policies,
 * roles' inline policies), but those of CDK's deployment function: what the platform's own roles may do.
 */
export function platformIdentityStatements(resources: Record<string, { Type: string; Properties: Json }>): Statement[] {
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  return [
    ...ofType('AWS::IAM::Policy')
      .filter(([logicalId]) => !isCdkDeploymentHandler(logicalId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement),
    ...ofType('AWS::IAM::ManagedPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement),
    ...ofType('AWS::IAM::Role').flatMap(([, r]) => ((r.Properties.Policies ?? []) as Json[]).flatMap((p) => p.PolicyDocument.Statement)),
  ];
}

export interface Violation {
  plugin: string;
  ruleName: string;
  severity: string;
  paths: string[];
}

export interface Synthesized {
  stack: SdpStack;
  template: Template;
  /** Findings left after acknowledgements, from every validation plugin. */
  violations: Violation[];
}

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: Array<{ ruleName: string; severity: string; violatingConstructs: Array<{ constructPath: string }> }>;
  }>;
}

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/**
 * `bundling: false` skips esbuild (assets become placeholders), for tests that only need the
 * template; `context` adds context values, as `cdk synth -c key=value` does.
 */
export function synthesize(options: { bundling?: boolean; context?: Record<string, unknown> } = {}): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdp-infra-'));
  const context = { ...cdkJson.context, ...(options.bundling === false ? { 'aws:cdk:bundling-stacks': [] } : {}), ...options.context };
  const app = new App({ outdir, context });
  const stack = new SdpStack(app, 'SdpStack');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  // Unacknowledged cdk-nag errors make synth throw after it has written the template and the report.
  let synthError: unknown;
  try {
    app.synth();
  } catch (e) {
    synthError = e;
  }
  const templateFile = path.join(outdir, `${stack.artifactId}.template.json`);
  const reportFile = path.join(outdir, 'validation-report.json');
  if (!fs.existsSync(templateFile) || !fs.existsSync(reportFile)) throw synthError;

  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as ValidationReport;
  const violations = report.pluginReports.flatMap((p) =>
    p.violations.map((v) => ({
      plugin: p.pluginName,
      ruleName: v.ruleName,
      severity: v.severity,
      paths: v.violatingConstructs.map((c) => c.constructPath),
    })),
  );
  const template = Template.fromJSON(JSON.parse(fs.readFileSync(templateFile, 'utf8')));
  fs.rmSync(outdir, { recursive: true, force: true });
  return { stack, template, violations };
}
