/** GET / on the local platform answers the index of the API: its routes, the console, health and the docs, each route real. */
import { apiIndex, type ApiIndex } from '../../schemas/api-index';
import { startPlatform, type RunningPlatform } from '../support/platform';

describe('GET / on the local platform', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('answers the index, whose console and health links work and whose routes exist', async () => {
    const api = platform.outputs.UrlForAPI;
    const res = await fetch(api);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const index = (await res.json()) as ApiIndex;
    expect(index).toEqual(apiIndex({ home: 'local' }));
    expect(index.routes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['POST /bid', 'POST /impression', 'POST /click', 'GET /health', 'POST /predictions']));
    expect(index.docs).toContain('README');

    expect((await fetch(new URL(index.console.slice(1), api))).status).toBe(200);
    expect((await fetch(new URL(index.health.slice(1), api))).status).toBe(200);
    // Every listed route is served: none gets the router's answer for an unknown path.
    for (const route of index.routes) {
      const path = route.path.slice(1).replace('{campaign_item_id}', '1');
      const answer = await fetch(new URL(path, api), route.method === 'POST' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' } : {});
      expect(`${route.method} ${route.path}: ${answer.status} ${await answer.text()}`).not.toMatch(/no route for| 405 /);
    }
  });
});
