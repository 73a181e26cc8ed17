/**
 * AWS's CloudFormation linter (cfn-lint, ../shared/tools/cfn-lint/run) over the synthesized template,
 * for every region the stack says it supports, with its tables on demand (the default) and
 * provisioned with auto scaling (-c sdp:tableCapacity=provisioned); and the stack's refusal of any
 * other region.
 * The linter is required: a missing one fails the test (CI installs what it needs, .ci/run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { SdpStack } from '../../lib/sdp-stack';
import { SUPPORTED_REGIONS } from '../../lib/regions';
import { tableCapacity } from '../../schemas/resources';
import { synthesize, type Json } from './synth';

const CFN_LINT = join(__dirname, '..', '..', '..', 'shared', 'tools', 'cfn-lint', 'run');

/**
 * Findings acknowledged, by rule, with the reason. W3005 ("dependency already enforced by a GetAtt")
 * is CDK's own: every L2 function DependsOn its role's policy as well as referring to the role.
 */
const ACKNOWLEDGED: Record<string, string> = {
  W3005: "CDK's L2 Function adds DependsOn for its role and policy besides the GetAtt of the role",
};

interface Finding {
  Rule: { Id: string };
  Message: string;
  Location: { Path: (string | number)[] };
}

describe.each([
  ['tables on demand', {}],
  ['tables provisioned', { [tableCapacity.context]: 'provisioned' }],
])('cfn-lint, %s', (_mode, context) => {
  let dir: string;
  let findings: Finding[];

  beforeAll(() => {
    if (!existsSync(CFN_LINT)) throw new Error(`cfn-lint not found at ${CFN_LINT}: the shared tools must be beside the project`);
    const { template } = synthesize({ bundling: false, context });
    dir = mkdtempSync(join(tmpdir(), 'sdp-cfn-lint-'));
    const file = join(dir, 'SdpStack.template.json');
    writeFileSync(file, JSON.stringify(template.toJSON()));
    let out: string;
    try {
      out = execFileSync(CFN_LINT, ['--format', 'json', '--regions', ...SUPPORTED_REGIONS, '--', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      // cfn-lint exits non-zero when it finds anything; its JSON is still on stdout.
      const e = err as { stdout?: string; stderr?: string };
      if (!e.stdout?.trim().startsWith('[')) throw new Error(`cfn-lint failed to run: ${e.stderr ?? err}`);
      out = e.stdout;
    }
    findings = JSON.parse(out) as Finding[];
  }, 300_000);

  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it(`finds nothing but acknowledged rules in any supported region (${SUPPORTED_REGIONS.length})`, () => {
    const open = findings.filter((f) => !(f.Rule.Id in ACKNOWLEDGED)).map((f) => `${f.Rule.Id} ${f.Message} at ${f.Location.Path.join('/')}`);
    expect(open).toEqual([]);
  });
});

describe('supported regions', () => {
  it('are stated once and leave out the China regions (no CloudFront origin access control there)', () => {
    expect(SUPPORTED_REGIONS).toContain('us-east-1');
    expect(SUPPORTED_REGIONS.filter((r) => r.startsWith('cn-'))).toEqual([]);
  });

  it('an env-agnostic stack carries a CloudFormation rule refusing any other region', () => {
    const rules = (synthesize({ bundling: false }).template.toJSON() as Json).Rules;
    const assertion = rules.SupportedRegion.Assertions[0];
    expect(assertion.Assert).toEqual({ 'Fn::Contains': [[...SUPPORTED_REGIONS], { Ref: 'AWS::Region' }] });
    expect(assertion.AssertDescription).toContain('us-east-1');
  });

  it('a stack for a region outside the list is refused at synth, naming the supported ones', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(() => new SdpStack(app, 'InChina', { env: { region: 'cn-north-1' } })).toThrow(/does not deploy to cn-north-1 \(.*OriginAccessControl.*\); supported regions: .*us-east-1/);
    expect(() => new SdpStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Ok', { env: { region: 'eu-west-1' } })).not.toThrow();
  });
});
