/** Settings from the environment: defaults, and nonsense refused with the variable's name. */
import { readSetting } from '../../schemas/resources';

describe('readSetting', () => {
  it('falls back to the default when unset or empty', () => {
    expect(readSetting('lakeBatchingWindowSeconds', {})).toBe(30);
    expect(readSetting('reportsBatchingWindowSeconds', { REPORTS_BATCHING_WINDOW_SECONDS: '' })).toBe(0);
  });

  it('takes 0 where the default is 0 (no batching window), and only there', () => {
    expect(readSetting('reportsBatchingWindowSeconds', { REPORTS_BATCHING_WINDOW_SECONDS: '0' })).toBe(0);
    expect(readSetting('reportsBatchingWindowSeconds', { REPORTS_BATCHING_WINDOW_SECONDS: '5' })).toBe(5);
    expect(() => readSetting('lakeBatchingWindowSeconds', { LAKE_BATCHING_WINDOW_SECONDS: '0' })).toThrow('LAKE_BATCHING_WINDOW_SECONDS must be a positive number, got "0"');
  });

  it('refuses negative and non-numeric values, naming the variable', () => {
    expect(() => readSetting('reportsBatchingWindowSeconds', { REPORTS_BATCHING_WINDOW_SECONDS: '-1' })).toThrow('REPORTS_BATCHING_WINDOW_SECONDS must be a non-negative number, got "-1"');
    expect(() => readSetting('aggregationPeriodSeconds', { AGGREGATION_PERIOD_SECONDS: 'soon' })).toThrow('AGGREGATION_PERIOD_SECONDS must be a positive number, got "soon"');
  });
});
