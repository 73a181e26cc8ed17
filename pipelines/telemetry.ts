/**
 * Device telemetry, the second shipped pipeline: what ad-tech does not exercise. Readings posted
 * to /reading, each identified by its device and its `event_id` (a resend is the same reading),
 * spread over shards by device, summed, minimised and maximised per device, metric and minute with no join:
 * `GET /reports/devices/{device_id}/{metric}` (the group key in the order of `groupBy`).
 */
import { z } from 'zod';
import { average, count, definePipeline, max, min, sum } from '../schemas/pipeline';
import { clientTimestamp, id, text } from '../schemas/fields';

export const readingSchema = z.object({
  event_id: id(),
  device_id: id(),
  metric: id(),
  value: z.number().finite('must be a finite number'),
  unit: text().optional(),
  timestamp: clientTimestamp.optional(),
});

export default definePipeline({
  name: 'telemetry',
  description: 'device telemetry: readings per device, metric and minute',
  streams: {
    reading: { schema: readingSchema, identity: ['device_id', 'event_id'], partitionKey: 'device_id', eventTime: 'timestamp', lakeTable: 'readings', description: 'one measured value of a device metric', example: { device_id: 'd1', event_id: 'e1', metric: 'cpu', value: 0.5 } },
  },
  aggregations: {
    devices: {
      stream: 'reading',
      groupBy: ['device_id', 'metric'],
      periodSeconds: 60,
      measures: { readings: count(), total: sum('value'), minimum: min('value'), maximum: max('value') },
      derived: { mean: average('total', 'readings') },
      description: 'per device, metric and minute: readings, their total, minimum, maximum and mean',
    },
  },
});
