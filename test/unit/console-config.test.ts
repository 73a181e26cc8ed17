/**
 * The console's config.json lists the pipeline's aggregations (schemas/console.ts), as the local
 * platform serves it: telemetry's devices with its group fields, measures and derived mean.
 */
import { consoleRoutes } from '../../local/console-site';
import { CONSOLE_DIR } from '../../schemas/console';
import telemetry from '../../pipelines/telemetry';
import adtech from '../../pipelines/adtech';
import { combinePipelines } from '../../schemas/pipeline';

async function config(pipeline = telemetry): Promise<{ apiBaseUrl?: string; aggregations: { name: string }[] }> {
  const route = consoleRoutes(CONSOLE_DIR, pipeline).find((r) => r.resource === '/console/{file}')!;
  const answer = await route.handler({ path: '/console/config.json', pathParameters: { file: 'config.json' } } as never);
  return JSON.parse(answer.body);
}

it("serves config.json with the pipeline's aggregations and no API of its own", async () => {
  expect(await config()).toEqual({
    aggregations: [
      {
        name: 'devices',
        description: 'per device, metric and minute: readings, their total, minimum, maximum and mean',
        route: 'devices',
        periodSeconds: 60,
        groupBy: [{ name: 'device_id', kind: 'string' }, { name: 'metric', kind: 'string' }],
        measures: [
          { name: 'readings', kind: 'count', stream: 'reading' },
          { name: 'total', kind: 'sum', stream: 'reading', field: 'value' },
          { name: 'minimum', kind: 'min', stream: 'reading', field: 'value' },
          { name: 'maximum', kind: 'max', stream: 'reading', field: 'value' },
        ],
        derived: [{ name: 'mean', numerator: 'total', denominator: 'readings' }],
      },
    ],
  });
});

it('lists every aggregation of pipelines run side by side', async () => {
  expect((await config(combinePipelines([adtech, telemetry]))).aggregations.map((a) => a.name)).toEqual(['campaigns', 'devices']);
});
