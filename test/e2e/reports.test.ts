/**
 * Reports over HTTP: time roll-ups in a zone (with their 400s), derived rates, and late events
 * counted apart from their window's counts; and, on a platform running adtech and telemetry side by
 * side (sdp local --pipeline adtech --pipeline telemetry), telemetry's readings posted to /reading
 * and reported per device and metric with minima, maxima, means, roll-ups and sliding windows.
 */
import { sendEvents } from '../../local/send';
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';

const DAY = 86_400_000;

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describe('time roll-ups', () => {
  let platform: RunningPlatform;
  const campaign = 5150;
  // A UTC midnight two days ago, and bids on both sides of it.
  const midnight = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
  const times = [midnight - 1, midnight, midnight + 1, midnight + 5 * 3_600_000];

  beforeAll(async () => {
    platform = await startPlatform({ env: { ALLOWED_LATENESS_SECONDS: String(8 * 24 * 3600) } });
    await sendEvents(
      platform.outputs.UrlForAPI,
      times.map((t, i) => ({ type: 'bid' as const, body: { tx_id: `r-${i}`, app_uid: 'u', campaign_item_id: campaign, timestamp: t } })),
    );
    await sendEvents(platform.outputs.UrlForAPI, [{ type: 'impression', body: { tx_id: 'r-1', win_price: 3, timestamp: midnight + 10 } }]);
    await pollUntil('all events counted', () => getJson(`${platform.outputs.UrlForReports}${campaign}`), (r) => r.body.bids === 4 && r.body.impressions === 1);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('sums per UTC day by default, with rates, ascending or descending', async () => {
    const { status, body } = await getJson(`${platform.outputs.UrlForReports}${campaign}/period`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ period: 'DAYS', timezone: 'UTC', bids: 4, impressions: 1, win_rate: 0.25 });
    expect(body.rows.map((r: any) => [r.period, r.bids, r.impressions, r.win_rate])).toEqual([
      [(midnight - DAY) / 1000, 1, 0, 0],
      [midnight / 1000, 3, 1, 0.333333],
    ]);
    const desc = await getJson(`${platform.outputs.UrlForReports}${campaign}/period?period=DAYS&desc=true`);
    expect(desc.body.rows.map((r: any) => r.period)).toEqual([midnight / 1000, (midnight - DAY) / 1000]);
  });

  it('sums per hour in another time zone and within a range', async () => {
    const hours = await getJson(`${platform.outputs.UrlForReports}${campaign}/period?period=HOURS&timezone=Asia/Kolkata`);
    // UTC midnight is 05:30 in Kolkata, mid-hour there: the bids around it share one local hour.
    expect(hours.body.rows.map((r: any) => r.bids)).toEqual([3, 1]);
    expect(hours.body.rows[0].period_start).toMatch(/T05:00:00\+05:30$/);
    expect(hours.body.rows[0].period).toBe(midnight / 1000 - 1800);

    const ranged = await getJson(`${platform.outputs.UrlForReports}${campaign}/period?period=DAYS&from=${midnight / 1000}&to=${midnight / 1000 + 3600}`);
    expect(ranged.body.rows.map((r: any) => [r.period, r.bids])).toEqual([[midnight / 1000, 2]]);
  });

  it.each([
    ['period=FORTNIGHTS', 'period'],
    ['timezone=Mars/Olympus_Mons', 'timezone'],
    ['from=yesterday', 'from'],
    ['to=1.5', 'to'],
    ['from=200&to=100', 'from'],
    ['desc=maybe', 'desc'],
  ])('answers 400 naming the parameter for %s', async (query, field) => {
    const { status, body } = await getJson(`${platform.outputs.UrlForReports}${campaign}/period?${query}`);
    expect(status).toBe(400);
    expect(body.field).toBe(field);
  });
});

describe('late events', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform({ env: { ALLOWED_LATENESS_SECONDS: '600' }, args: ['--pipeline', 'adtech', '--pipeline', 'telemetry'] });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('counts an event older than the allowed lateness as late, not in its window', async () => {
    const campaign = 31337;
    const now = Date.now();
    await sendEvents(platform.outputs.UrlForAPI, [
      { type: 'bid', body: { tx_id: 'late-1', app_uid: 'u', campaign_item_id: campaign, timestamp: now - 3_600_000 } },
      { type: 'bid', body: { tx_id: 'on-time-1', app_uid: 'u', campaign_item_id: campaign, timestamp: now - 60_000 } },
    ]);
    const report = await pollUntil('both bids processed', () => getJson(`${platform.outputs.UrlForReports}${campaign}`), (r) => r.body.bids + r.body.late_events === 2);
    expect(report.body).toMatchObject({ bids: 1, late_events: 1 });
  });

  describe('beside them, the telemetry pipeline', () => {
    const MINUTE = 60_000;
    const start = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;
    const reading = (id: string, value: number, minute: number) => ({ event_id: id, device_id: 'dev-1', metric: 'temp', value, timestamp: start + minute * MINUTE + 5 });
    const report = (query = '') => getJson(`${platform.outputs.UrlForAPI}reports/devices/dev-1/temp${query}`);

    beforeAll(async () => {
      const post = await fetch(`${platform.outputs.UrlForAPI}reading`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // r-1 twice: a resend is the same reading, counted once.
        body: JSON.stringify([reading('r-1', 3, 0), reading('r-2', -2, 1), reading('r-1', 3, 0), reading('r-3', 10, 1)]),
      });
      expect(post.status).toBe(200);
      await pollUntil('the readings counted', () => report(), (r) => r.body.readings === 3);
    });

    it('reports per device and metric: counts, sums, minima, maxima and the mean, in total and per minute', async () => {
      const { status, body } = await report();
      expect(status).toBe(200);
      expect(body).toMatchObject({ device_id: 'dev-1', metric: 'temp', readings: 3, total: 11, minimum: -2, maximum: 10, late_events: 0, mean: 3.666667 });
      expect(body.periods.map((p: any) => [p.period, p.readings, p.minimum, p.maximum])).toEqual([[start / 1000, 1, 3, 3], [start / 1000 + 60, 2, -2, 10]]);
    });

    it('rolls up minima and maxima by taking them, and answers sliding windows computed from the minutes', async () => {
      const rolled = await report('/period?period=DAYS');
      expect(rolled.body.rows.reduce((n: number, r: any) => n + r.readings, 0)).toBe(3);
      expect(Math.min(...rolled.body.rows.map((r: any) => r.minimum))).toBe(-2);
      const sliding = await report('?window=120&step=60');
      expect(sliding.status).toBe(200);
      expect(sliding.body.windows.map((w: any) => [w.start, w.readings, w.minimum, w.maximum])).toEqual([
        [start / 1000 - 60, 1, 3, 3],
        [start / 1000, 3, -2, 10],
        [start / 1000 + 60, 2, -2, 10],
      ]);
      const bad = await report('?window=90&step=60');
      expect(bad.status).toBe(400);
      expect(bad.body.field).toBe('window');
    });

    it('refuses a bad reading naming the field, and lists the derived routes in GET /', async () => {
      const bad = await fetch(`${platform.outputs.UrlForAPI}reading`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event_id: 'x', device_id: 'd', metric: 'm', value: 'hot' }) });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ issues: [{ field: 'value' }] });
      const index = await getJson(platform.outputs.UrlForAPI);
      expect(index.body.routes.map((r: any) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['POST /bid', 'POST /reading', 'GET /reports/devices/{device_id}/{metric}', 'GET /reports/devices/{device_id}/{metric}/period']));
    });
  });
});
