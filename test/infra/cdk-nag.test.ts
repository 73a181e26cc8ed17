/** cdk-nag AwsSolutions: the app synthesizes with no finding left, and every acknowledgement is needed and explained. */
import { Validations, type Acknowledgment } from 'aws-cdk-lib';
import { tableCapacity } from '../../schemas/resources';
import { synthesize, type Violation } from './synth';

it('leaves no unacknowledged error or warning in the validation report', () => {
  const { violations } = synthesize({ bundling: false });
  expect(violations).toEqual([]);
});

it('leaves none either with the tables provisioned (-c sdp:tableCapacity=provisioned)', () => {
  const { violations } = synthesize({ bundling: false, context: { [tableCapacity.context]: 'provisioned' } });
  expect(violations).toEqual([]);
});

describe('acknowledgements', () => {
  const acknowledged: Array<Acknowledgment & { path: string }> = [];
  let unacknowledged: Violation[];

  beforeAll(() => {
    // Record every acknowledgement and drop it, to see the findings each one hides.
    const spy = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(function (
      this: Validations,
      ...rules: Acknowledgment[]
    ) {
      const path = (this as unknown as { scope: { node: { path: string } } }).scope.node.path;
      acknowledged.push(...rules.map((r) => ({ ...r, path })));
    });
    try {
      unacknowledged = synthesize({ bundling: false }).violations;
    } finally {
      spy.mockRestore();
    }
  });

  it('each hides a finding that cdk-nag would otherwise report on that construct', () => {
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const ack of acknowledged) {
      const hidden = unacknowledged.filter(
        (v) => v.ruleName === ack.id && v.paths.some((p) => p === ack.path || p.startsWith(`${ack.path}/`)),
      );
      expect({ ack: `${ack.path}: ${ack.id}`, hides: hidden.length > 0 }).toEqual({
        ack: `${ack.path}: ${ack.id}`,
        hides: true,
      });
    }
  });

  it('each gives a specific reason', () => {
    for (const ack of acknowledged) {
      expect(ack.reason.length).toBeGreaterThan(40);
    }
  });
});
