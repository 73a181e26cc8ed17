/**
 * A pipeline whose schema evolves with data in the lake (issue 19 item 4), on the telemetry
 * pipeline, through the API as a user evolves it: `sdp local` runs a pipeline file, readings are
 * posted, the platform stops; the file's reading stream gains an optional field, the platform
 * restarts on it, readings with the field are posted; then `sdp query` reads old and new rows
 * together (the new column null for the old rows, in Parquet and raw JSON) and the report counts
 * both. A breaking change is refused at the start, by `sdp local` itself, with what to do instead.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sendEvents } from '../../local/send';
import { PIPELINE_SCHEMAS_FILE } from '../../local/pipeline-schemas';
import { pollUntil, startPlatform, tempDataDir, type RunningPlatform } from '../support/platform';

const run = promisify(execFile);
const SDP = join(__dirname, '..', '..', 'bin', 'sdp.js');
const REPO = join(__dirname, '..', '..');

/** A telemetry pipeline file whose reading schema is `schema` (an expression over z and readingSchema). */
function pipelineFile(schema: string): string {
  return [
    `import { z } from ${JSON.stringify(require.resolve('zod'))};`,
    `import { count, definePipeline, max, min, sum } from ${JSON.stringify(join(REPO, 'schemas', 'pipeline'))};`,
    `import { readingSchema } from ${JSON.stringify(join(REPO, 'pipelines', 'telemetry'))};`,
    'void z;',
    'export default definePipeline({',
    "  name: 'telemetry',",
    `  streams: { reading: { schema: ${schema}, identity: ['device_id', 'event_id'], partitionKey: 'device_id', eventTime: 'timestamp', lakeTable: 'readings' } },`,
    "  aggregations: { devices: { stream: 'reading', groupBy: ['device_id', 'metric'], periodSeconds: 60, measures: { readings: count(), total: sum('value'), minimum: min('value'), maximum: max('value') } } },",
    '});',
    '',
  ].join('\n');
}

describe('a stream gains an optional field across a restart', () => {
  const dataDir = tempDataDir('sdp-evolution-');
  const file = join(dataDir, 'telemetry.ts');
  let platform: RunningPlatform | undefined;
  const sdp = (...args: string[]) => run(process.execPath, [SDP, ...args, '--data-dir', dataDir, '--json']).then((r) => JSON.parse(r.stdout) as Record<string, unknown>[]);
  const start = () => startPlatform({ dataDir, args: ['--pipeline', file] });
  const now = Date.now();
  const reading = (event_id: string, value: number, extra: Record<string, unknown> = {}) => ({ type: 'reading', body: { event_id, device_id: 'evolving', metric: 'temp', value, unit: 'C', timestamp: now, ...extra } });
  const report = async () => (await (await fetch(`${platform!.outputs.UrlForAPI}reports/devices/evolving/temp`)).json()) as { readings: number; total: number };
  const inLake = (table: string) => () => sdp('query', `SELECT event_id, value, firmware FROM ${table}_readings ORDER BY event_id`).catch(() => []);

  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('v1: readings posted, counted and in the lake', async () => {
    writeFileSync(file, pipelineFile('readingSchema'));
    platform = await start();
    await sendEvents(platform.outputs.UrlForAPI, [reading('e1', 20), reading('e2', 21), reading('e1', 20)]);
    await pollUntil('the v1 readings counted', report, (r) => r.readings === 2);
    await pollUntil('the v1 readings in the lake', () => sdp('query', 'SELECT count(*)::INT AS n FROM parquet_readings').catch(() => [{ n: 0 }]), (rows) => rows[0].n === 2);
    expect(JSON.parse(readFileSync(join(dataDir, PIPELINE_SCHEMAS_FILE), 'utf8')).streams.reading.fields.firmware).toBeUndefined();
    await platform.stop();
  }, 120_000);

  it('v2 after a restart: the new field taken at once; old and new rows queried together, the old ones null', async () => {
    writeFileSync(file, pipelineFile('readingSchema.extend({ firmware: z.string().optional() })'));
    platform = await start();
    expect(JSON.parse(readFileSync(join(dataDir, PIPELINE_SCHEMAS_FILE), 'utf8')).streams.reading.fields.firmware).toEqual({ kind: 'string', required: false });
    await sendEvents(platform.outputs.UrlForAPI, [reading('e3', 25, { firmware: '2.1' }), reading('e1', 99, { firmware: 'resend' })]);
    await pollUntil('the v2 reading counted', report, (r) => r.readings === 3);
    expect(await report()).toMatchObject({ readings: 3, total: 66 });
    const expected = [
      { event_id: 'e1', value: 20, firmware: null },
      { event_id: 'e2', value: 21, firmware: null },
      { event_id: 'e3', value: 25, firmware: '2.1' },
    ];
    expect(await pollUntil('old and new readings in parquet_readings', inLake('parquet'), (rows) => rows.length === 3)).toEqual(expected);
    expect(await pollUntil('old and new readings in raw_readings', inLake('raw'), (rows) => rows.length === 3)).toEqual(expected);
    // The aggregation's revision history, named after it: the highest revision is current.
    const latest = () => sdp('query', 'SELECT readings, total, minimum, maximum, period_seconds FROM parquet_devices ORDER BY revision DESC LIMIT 1').catch(() => []);
    expect(await pollUntil('the latest revision in parquet_devices', latest, (rows) => rows[0]?.readings === 3)).toEqual([{ readings: 3, total: 66, minimum: 20, maximum: 25, period_seconds: 60 }]);
    await platform.stop();
    platform = undefined;
  }, 120_000);

  it('a breaking change is refused by sdp local at start, naming it and what to do instead; the recorded schemas stay', async () => {
    const before = readFileSync(join(dataDir, PIPELINE_SCHEMAS_FILE), 'utf8');
    // v2 with `value` an integer now: data already written holds fractional values.
    const v3 = join(dataDir, 'telemetry-v3.ts');
    writeFileSync(v3, pipelineFile('readingSchema.extend({ value: z.number().int(), firmware: z.string().optional() })'));
    const failed = await run(process.execPath, [SDP, 'local', '--port', '0', '--data-dir', dataDir, '--pipeline', v3], { timeout: 60_000 }).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failed?.code).not.toBe(0);
    const stderr = failed?.stderr ?? '';
    expect(stderr).toMatch(/^sdp: .*pipeline-schemas\.json: .*stream reading: field value changed type from number to integer/);
    expect(stderr).toMatch(/adding optional fields .*declare a new stream/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(dataDir, PIPELINE_SCHEMAS_FILE), 'utf8')).toBe(before);
  }, 120_000);
});
