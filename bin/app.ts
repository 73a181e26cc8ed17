#!/usr/bin/env node
// The CDK app: one env-agnostic SdpStack, checked against cdk-nag's AwsSolutions rules on every synth.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SdpStack } from '../lib/sdp-stack';

const app = new App();
new SdpStack(app, 'SdpStack');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
