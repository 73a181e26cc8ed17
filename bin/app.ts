#!/usr/bin/env node
// The CDK app: one env-agnostic SdpStack, checked against cdk-nag's AwsSolutions rules on every synth.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SdpStack } from '../lib/sdp-stack';
import { checkPipelineBaselines } from '../lib/pipeline-baselines';

const app = new App();
new SdpStack(app, 'SdpStack');
// Schemas evolve only additively: a breaking change stops the synth (lib/pipeline-baselines.ts).
for (const file of checkPipelineBaselines()) console.error(`wrote ${file}: commit it with the pipeline`);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
