/**
 * The local platform started with an API key (`sdp local --api-key k1`): ingestion without the
 * right x-api-key is answered 403 as API Gateway does and leaves nothing behind; reports and
 * /health need no key, as in AWS.
 */
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';

const FORBIDDEN = { status: 403, body: '{"message":"Forbidden"}' };

describe('the local platform with an API key', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform({ args: ['--api-key', 'k1'] });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  async function post(type: string, body: unknown, key?: string): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key !== undefined) headers['x-api-key'] = key;
    const res = await fetch(`${platform.outputs.UrlForAPI}${type}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: await res.text() };
  }

  async function report(campaign: number): Promise<{ status: number; bids: number; impressions: number; clicks: number }> {
    const res = await fetch(`${platform.outputs.UrlForReports}${campaign}`);
    const body = (await res.json()) as { bids: number; impressions: number; clicks: number };
    return { status: res.status, bids: body.bids, impressions: body.impressions, clicks: body.clicks };
  }

  it('refuses events without the key or with a wrong one, and counts only the keyed event', async () => {
    const campaign = 9301;
    const bid = (tx: string) => ({ tx_id: tx, app_uid: 'u', campaign_item_id: campaign });

    expect(await post('bid', bid('nokey-1'))).toEqual(FORBIDDEN);
    expect(await post('bid', [bid('nokey-2'), bid('nokey-3')])).toEqual(FORBIDDEN);
    expect(await post('impression', { tx_id: 'nokey-1', win_price: 1 })).toEqual(FORBIDDEN);
    expect(await post('click', { tx_id: 'nokey-1' })).toEqual(FORBIDDEN);
    expect(await post('bid', bid('wrongkey-1'), 'k2')).toEqual(FORBIDDEN);
    expect(await post('bid', bid('wrongkey-2'), 'K1')).toEqual(FORBIDDEN);
    // Refused before the body is read: even a body that is not JSON gets 403, not 400.
    const notJson = await fetch(`${platform.outputs.UrlForAPI}bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect({ status: notJson.status, body: await notJson.text() }).toEqual(FORBIDDEN);

    // Predictions are keyed too (a paid product API in AWS).
    expect(await post('predictions', { campaignItemId: '1', winPrice: 10 })).toEqual(FORBIDDEN);
    expect((await post('predictions', { campaignItemId: '1', winPrice: 10 }, 'k1')).status).toBe(503);

    const keyed = await post('bid', bid('key-1'), 'k1');
    expect(keyed.status).toBe(200);

    await pollUntil('the keyed bid to be counted', () => report(campaign), (r) => r.bids >= 1);
    // Wait until the aggregator has read everything on the stream, then nothing else may show.
    await pollUntil(
      'the aggregator to catch up',
      async () => ((await (await fetch(`${platform.outputs.UrlForAPI}health`)).json()) as { components: Record<string, { shards?: { pending: number; millisBehindLatest?: number }[] }> }).components.aggregator?.shards ?? [],
      (shards) => shards.length > 0 && shards.every((s) => s.pending === 0 && (s.millisBehindLatest ?? 0) === 0),
    );
    expect(await report(campaign)).toEqual({ status: 200, bids: 1, impressions: 0, clicks: 0 });
  });

  it('accepts the right key on every ingestion route', async () => {
    const campaign = 9302;
    expect((await post('bid', { tx_id: 'k-2', app_uid: 'u', campaign_item_id: campaign }, 'k1')).status).toBe(200);
    expect((await post('impression', { tx_id: 'k-2', win_price: 1 }, 'k1')).status).toBe(200);
    expect((await post('click', { tx_id: 'k-2' }, 'k1')).status).toBe(200);
    const r = await pollUntil('the keyed events to be counted', () => report(campaign), (x) => x.clicks === 1);
    expect(r).toEqual({ status: 200, bids: 1, impressions: 1, clicks: 1 });
  });

  it('still checks bodies of keyed requests (400 naming the field)', async () => {
    const res = await post('bid', { tx_id: 'k-3', app_uid: 'u', campaign_item_id: 'seven' }, 'k1');
    expect(res.status).toBe(400);
    expect(res.body).toContain('campaign_item_id');
  });

  it('serves reports and health without a key', async () => {
    const res = await fetch(`${platform.outputs.UrlForReports}9301`);
    expect(res.status).toBe(200);
    const period = await fetch(`${platform.outputs.UrlForReports}9301/period`);
    expect(period.status).toBe(200);
    const health = await fetch(`${platform.outputs.UrlForAPI}health`);
    expect([200, 503]).toContain(health.status);
    expect(health.headers.get('content-type')).toBe('application/json');
  });
});
