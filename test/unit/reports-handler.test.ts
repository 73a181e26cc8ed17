/**
 * The generic reports handler over dynalite holding aggregate rows in contract 1's layout (key
 * `group` = groupKey(aggregation, values), `period`): adtech's campaign report keeps its shape, and
 * telemetry's per-device report sums counts and totals, takes minima and maxima, derives the mean,
 * rolls up, and answers sliding windows; bad group keys and window parameters are 400 naming the field.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { testDynalite } from '../support/dynalite';
import { combinePipelines } from '../../schemas/pipeline';
import { usePipeline } from '../../schemas/active-pipeline';
import { groupKey } from '../../schemas/aggregates';
import adtech from '../../pipelines/adtech';
import telemetry from '../../pipelines/telemetry';
import { handler } from '../../lambdas/reports/handler';

const TABLE = 'aggregates-contract-1';
const T0 = 1_700_000_040; // a minute boundary (epoch seconds)

const rows: Record<string, unknown>[] = [
  // campaigns: two minutes of campaign 42, one of campaign 43
  { group: groupKey('campaigns', [42]), period: T0, aggregation: 'campaigns', campaign_item_id: 42, bids: 4, impressions: 2, clicks: 1, late_events: 0, revision: 3, updated_at: 1 },
  { group: groupKey('campaigns', [42]), period: T0 + 60, aggregation: 'campaigns', campaign_item_id: 42, bids: 1, impressions: 0, clicks: 0, late_events: 2, revision: 1, updated_at: 1 },
  { group: groupKey('campaigns', [43]), period: T0, aggregation: 'campaigns', campaign_item_id: 43, bids: 9, impressions: 9, clicks: 9, late_events: 0, revision: 1, updated_at: 1 },
  // devices: d-1 temp over minutes 0, 1, 3 (2 empty); a row with only a late event (no min/max yet)
  { group: groupKey('devices', ['d-1', 'temp']), period: T0, aggregation: 'devices', device_id: 'd-1', metric: 'temp', readings: 2, total: 30, minimum: 10, maximum: 20, late_events: 0, revision: 2, updated_at: 1 },
  { group: groupKey('devices', ['d-1', 'temp']), period: T0 + 60, aggregation: 'devices', device_id: 'd-1', metric: 'temp', readings: 3, total: 15, minimum: -5, maximum: 12, late_events: 1, revision: 3, updated_at: 1 },
  { group: groupKey('devices', ['d-1', 'temp']), period: T0 + 180, aggregation: 'devices', device_id: 'd-1', metric: 'temp', readings: 1, total: 40, minimum: 40, maximum: 40, late_events: 0, revision: 1, updated_at: 1 },
  { group: groupKey('devices', ['d-2', 'temp']), period: T0, aggregation: 'devices', device_id: 'd-2', metric: 'temp', readings: 0, total: 0, late_events: 1, revision: 1, updated_at: 1 },
];

const db = testDynalite('sdp-reports-', async (client) => {
  await client.send(new CreateTableCommand({
    TableName: TABLE,
    KeySchema: [{ AttributeName: 'group', KeyType: 'HASH' }, { AttributeName: 'period', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'group', AttributeType: 'S' }, { AttributeName: 'period', AttributeType: 'N' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
  await DynamoDBDocumentClient.from(client).send(new BatchWriteCommand({ RequestItems: { [TABLE]: rows.map((Item) => ({ PutRequest: { Item } })) } }));
});

beforeAll(() => {
  const endpoint = (db.client.config.endpoint as unknown as () => Promise<{ hostname: string; port: number }>);
  return endpoint().then((e) => {
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: `http://${e.hostname}:${e.port}`, AGGREGATES_TABLE_NAME: TABLE,
    });
    usePipeline(combinePipelines([adtech, telemetry]));
  });
});

async function get(resource: string, pathParameters: Record<string, string>, query: Record<string, string> = {}) {
  const res = await handler({ resource, path: resource, pathParameters, queryStringParameters: query } as unknown as APIGatewayProxyEvent);
  return { status: res.statusCode, body: JSON.parse(res.body) };
}
const DEVICE = '/reports/devices/{device_id}/{metric}';
const CAMPAIGN = '/reports/campaigns/{campaign_item_id}';

describe('adtech campaign report (contract 1 rows)', () => {
  it('answers the totals, rates and per-window rows in today\'s shape', async () => {
    const { status, body } = await get(CAMPAIGN, { campaign_item_id: '42' });
    expect(status).toBe(200);
    expect(body).toEqual({
      campaign_item_id: 42, bids: 5, impressions: 2, clicks: 1, late_events: 2, ctr: 0.5, win_rate: 0.4,
      periods: [
        { period: T0, bids: 4, impressions: 2, clicks: 1, late_events: 0, ctr: 0.5, win_rate: 0.5 },
        { period: T0 + 60, bids: 1, impressions: 0, clicks: 0, late_events: 2, ctr: null, win_rate: 0 },
      ],
    });
    expect(Object.keys(body)).toEqual(['campaign_item_id', 'bids', 'impressions', 'clicks', 'late_events', 'ctr', 'win_rate', 'periods']);
  });

  it('answers zero counts for a campaign with nothing counted', async () => {
    expect((await get(CAMPAIGN, { campaign_item_id: '7' })).body).toEqual({ campaign_item_id: 7, bids: 0, impressions: 0, clicks: 0, late_events: 0, ctr: null, win_rate: null, periods: [] });
  });

  it('rolls up per day', async () => {
    const { body } = await get(`${CAMPAIGN}/period`, { campaign_item_id: '42' });
    expect(body).toMatchObject({ campaign_item_id: 42, period: 'DAYS', timezone: 'UTC', bids: 5 });
    expect(body.rows).toEqual([{ period: Math.floor(T0 / 86400) * 86400, period_start: expect.any(String), bids: 5, impressions: 2, clicks: 1, late_events: 2, ctr: 0.5, win_rate: 0.4 }]);
  });

  it('refuses a bad campaign id naming the field and its limits', async () => {
    const { status, body } = await get(CAMPAIGN, { campaign_item_id: '-1' });
    expect(status).toBe(400);
    expect(body).toMatchObject({ field: 'campaign_item_id', error: `campaign_item_id must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got "-1"` });
  });
});

describe('telemetry device report (two group fields, min and max)', () => {
  it('sums counts and totals, takes the least minimum and the greatest maximum, derives the mean', async () => {
    const { status, body } = await get(DEVICE, { device_id: 'd-1', metric: 'temp' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ device_id: 'd-1', metric: 'temp', readings: 6, total: 85, minimum: -5, maximum: 40, late_events: 1, mean: 14.166667 });
    expect(body.periods.map((p: { period: number; mean: number }) => [p.period, p.mean])).toEqual([[T0, 15], [T0 + 60, 5], [T0 + 180, 40]]);
  });

  it('answers null minima and maxima, and a null mean, where no reading counted', async () => {
    const { body } = await get(DEVICE, { device_id: 'd-2', metric: 'temp' });
    expect(body).toMatchObject({ readings: 0, total: 0, minimum: null, maximum: null, late_events: 1, mean: null });
    expect((await get(DEVICE, { device_id: 'nobody', metric: 'temp' })).body).toEqual({ device_id: 'nobody', metric: 'temp', readings: 0, total: 0, minimum: null, maximum: null, late_events: 0, mean: null, periods: [] });
  });

  it('rolls minima and maxima up by min and max, not by adding', async () => {
    const { body } = await get(`${DEVICE}/period`, { device_id: 'd-1', metric: 'temp' }, { period: 'HOURS' });
    expect(body.rows).toHaveLength(1);
    expect(body.rows[0]).toMatchObject({ readings: 6, total: 85, minimum: -5, maximum: 40, mean: 14.166667 });
  });

  it('answers sliding windows of 2 minutes every minute, each whole, empty minutes included', async () => {
    const { status, body } = await get(DEVICE, { device_id: 'd-1', metric: 'temp' }, { window: '120', step: '60' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ device_id: 'd-1', metric: 'temp', window: 120, step: 60, readings: 6 });
    expect(body.windows.map((w: Record<string, number>) => [w.start, w.end, w.readings, w.minimum, w.maximum, w.mean])).toEqual([
      [T0 - 60, T0 + 60, 2, 10, 20, 15],
      [T0, T0 + 120, 5, -5, 20, 9],
      [T0 + 60, T0 + 180, 3, -5, 12, 5],
      [T0 + 120, T0 + 240, 1, 40, 40, 40],
      [T0 + 180, T0 + 300, 1, 40, 40, 40],
    ]);
  });

  it('bounds window starts by from/to, reading past `to` so the last window is whole', async () => {
    const { body } = await get(DEVICE, { device_id: 'd-1', metric: 'temp' }, { window: '180', step: '60', from: String(T0), to: String(T0 + 61) });
    expect(body.windows.map((w: Record<string, number>) => [w.start, w.readings, w.total])).toEqual([[T0, 5, 45], [T0 + 60, 4, 55]]);
  });

  it.each([
    [{ window: '90', step: '60' }, 'window'],
    [{ window: '120', step: '0' }, 'step'],
    [{ window: '120' }, 'step'],
    [{ step: '60' }, 'window'],
    [{ window: 'x', step: '60' }, 'window'],
    [{ window: '60', step: '60', from: 'yesterday' }, 'from'],
    [{ window: '60', step: '60', from: '0', to: '99999999' }, 'step'],
  ])('answers 400 naming the parameter for %j', async (query, field) => {
    const { status, body } = await get(DEVICE, { device_id: 'd-1', metric: 'temp' }, query as Record<string, string>);
    expect(status).toBe(400);
    expect(body.field).toBe(field);
  });

  it('refuses an empty device id naming the field', async () => {
    const { status, body } = await get(DEVICE, { device_id: '  ', metric: 'temp' });
    expect(status).toBe(400);
    expect(body.field).toBe('device_id');
  });

  it('answers 404 for a resource no aggregation serves', async () => {
    expect((await get('/reports/nothing/{x}', { x: '1' })).status).toBe(404);
  });
});
