/**
 * A pipeline file for the infra tests: telemetry's readings aggregated per device and metric over a
 * declared period of five minutes (300 s), not the 60 s every shipped pipeline declares.
 */
import { count, definePipeline, sum } from '../../../schemas/pipeline';
import { readingSchema } from '../../../pipelines/telemetry';

export default definePipeline({
  name: 'five_minute',
  description: 'readings per device, metric and five minutes',
  streams: {
    reading: { schema: readingSchema, identity: ['device_id', 'event_id'], partitionKey: 'device_id', eventTime: 'timestamp', lakeTable: 'readings' },
  },
  aggregations: {
    devices: { stream: 'reading', groupBy: ['device_id', 'metric'], periodSeconds: 300, measures: { readings: count(), total: sum('value') } },
  },
});
