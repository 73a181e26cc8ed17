/**
 * The deploy options (`cdk deploy -c sdp:…`) the stack reads are exactly those schemas/resources.ts
 * lists in deployOptions, which `sdp cost -c` accepts: a new option must be listed there (and so
 * priced), and a listed one must still be read. Each listed option refuses a value it cannot mean.
 */
import { Node } from 'constructs';
import { deployOptions } from '../../schemas/resources';
import { synthesize } from './synth';

describe('deploy options', () => {
  it('the stack reads exactly the sdp: context keys deployOptions lists', () => {
    const read = new Set<string>();
    const original = Node.prototype.tryGetContext;
    const spy = jest.spyOn(Node.prototype, 'tryGetContext').mockImplementation(function (this: Node, key: string) {
      if (key.startsWith('sdp:')) read.add(key);
      return original.call(this, key);
    });
    try {
      synthesize({ bundling: false, context: { 'sdp:tableCapacity': 'provisioned' } });
    } finally {
      spy.mockRestore();
    }
    expect([...read].sort()).toEqual(Object.keys(deployOptions).sort());
  });

  it.each(Object.keys(deployOptions))('%s refuses a value it cannot mean, at synth, naming itself', (key) => {
    expect(() => synthesize({ bundling: false, context: { [key]: 'sometimes' } })).toThrow(key);
  });
});
