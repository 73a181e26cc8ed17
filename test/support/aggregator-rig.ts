/**
 * The aggregator rig (local/aggregator-rig.ts) of one test file: started before its tests, stopped
 * after them. One per file: the handler's SDK clients exist once per process and point at one
 * rig's emulators.
 */
import { startAggregatorRig, type AggregatorRig } from '../../local/aggregator-rig';

export function aggregatorRigForFile(options: Parameters<typeof startAggregatorRig>[0]): AggregatorRig {
  let started: AggregatorRig | undefined;
  beforeAll(async () => {
    started = await startAggregatorRig(options);
  });
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as AggregatorRig, {
    get(_, key: keyof AggregatorRig) {
      if (!started) throw new Error('the aggregator rig is used before it started');
      const value = started[key];
      return typeof value === 'function' ? value.bind(started) : value;
    },
  });
}
