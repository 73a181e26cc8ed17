/**
 * The metric the UnreadableData alarm reads (lib/observability.ts): the lake writer and compaction
 * both publish it, under one service dimension (`lake`), so one alarm reads one metric; nothing is
 * sent when nothing is unreadable, so a healthy or idle lake adds no custom-metric hours.
 */
import { unreadableDataMetric } from '../../schemas/resources';
import { captureEmf } from '../support/emf';

// The handler's own service: the shared metric must not carry it.
const emf = captureEmf({ POWERTOOLS_SERVICE_NAME: 'lake-writer' });

const emitUnreadableData = () =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('../../lambdas/commons/observability') as typeof import('../../lambdas/commons/observability')).emitUnreadableData;

it('publishes UnreadableData at once in namespace sdp, with only the shared service dimension', () => {
  emitUnreadableData()(3);
  expect(emf).toHaveLength(1);
  const record = emf[0] as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] } } & Record<string, unknown>;
  expect(record[unreadableDataMetric.name]).toBe(3);
  expect(record.service).toBe(unreadableDataMetric.service);
  expect(record._aws.CloudWatchMetrics[0].Namespace).toBe('sdp');
  expect(record._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
});

it('sends nothing when nothing is unreadable', () => {
  emf.length = 0;
  emitUnreadableData()(0);
  expect(emf).toHaveLength(0);
});
