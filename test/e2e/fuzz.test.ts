/**
 * Fuzzing the local platform's HTTP API: over 10,000 generated malformed requests (broken JSON,
 * wrong types, missing fields, huge numbers and strings, deep nesting, odd encodings and content
 * types, oversize bodies, unknown routes and methods). None may be answered 5xx or accepted, the
 * platform must keep serving, and nothing of them may reach the aggregates or the lake.
 */
import { request } from 'node:http';
import { random } from '../../local/workload';
import { sendEvents } from '../../local/send';
import { LakeSql, localLakeRoot } from '../../local/lake-sql';
import { pollUntil, startPlatform, type RunningPlatform } from '../support/platform';

const REQUESTS = 10_500;
const FUZZ_CAMPAIGN = 990_001;

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  kind: string;
}

const valid = {
  bid: () => ({ tx_id: 'fuzz-tx', app_uid: 'u', campaign_item_id: FUZZ_CAMPAIGN, win_price: 10 }),
  impression: () => ({ tx_id: 'fuzz-tx', win_price: 10 }),
  click: () => ({ tx_id: 'fuzz-tx' }),
};
type Route = keyof typeof valid;
const required: Record<Route, string[]> = { bid: ['tx_id', 'app_uid', 'campaign_item_id'], impression: ['tx_id', 'win_price'], click: ['tx_id'] };
/** Number fields of each route (a click's only number is its timestamp, in epoch ms). */
const numberFields: Record<Route, string[]> = { bid: ['campaign_item_id', 'win_price', 'timestamp'], impression: ['win_price', 'timestamp'], click: ['timestamp'] };
const typedFields: Record<Route, string[]> = { bid: ['tx_id', 'app_uid', 'campaign_item_id', 'win_price', 'domain', 'timestamp'], impression: ['tx_id', 'win_price', 'timestamp'], click: ['tx_id', 'timestamp'] };

/** A seeded generator of requests that must all be refused. */
function generator(seed: number) {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const json = (route: Route, body: unknown, contentType = 'application/json'): RawRequest => ({
    method: 'POST',
    path: `/${route}`,
    headers: { 'content-type': contentType },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    kind: '',
  });
  const wrongValues: unknown[] = [null, true, [], {}, 1.5, -1, '', '   ', 'x'.repeat(300), 1e400, -1e400, 2 ** 64, '12', { $gt: 1 }, [1, 2]];
  const mutations: Record<string, (route: Route) => RawRequest> = {
    'broken JSON': (route) => {
      const text = JSON.stringify(valid[route]());
      return json(route, text.slice(0, 1 + Math.floor(rnd() * (text.length - 2))));
    },
    'wrong type': (route) => {
      const field = pick(typedFields[route]);
      // Short strings are valid for the string fields (non-blank for ids, any for the optional domain): leave those out.
      const acceptable = (v: unknown) => typeof v === 'string' && v.length <= 256 && (field === 'domain' || (['tx_id', 'app_uid'].includes(field) && v.trim() !== ''));
      const value = pick(wrongValues.filter((v) => !acceptable(v)));
      return json(route, { ...valid[route](), [field]: value });
    },
    'missing field': (route) => {
      const body: Record<string, unknown> = valid[route]();
      delete body[pick(required[route])];
      return json(route, body);
    },
    'huge number': (route) => {
      const field = pick(numberFields[route]);
      // Last in the object, so JSON.parse keeps it over the valid value of the same field.
      return json(route, JSON.stringify(valid[route]()).replace(/\}$/, `, "${field}": ${pick([`1${'0'.repeat(400)}`, `9${'9'.repeat(30)}`, '-1e308', '1e16'])}}`));
    },
    'huge string': (route) => json(route, { ...valid[route](), tx_id: 'x'.repeat(1000 + Math.floor(rnd() * 100_000)) }),
    'deep nesting': (route) => {
      const depth = 10 + Math.floor(rnd() * 20_000);
      return json(route, `${'['.repeat(depth)}${']'.repeat(depth)}`);
    },
    'deep object': (route) => json(route, { ...valid[route](), tx_id: JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`) }),
    'not an object': (route) => json(route, pick(['1', '"text"', 'null', 'true', '[1,2,3]', '[null]', '[]', '{}', '""'])),
    'array with a bad item': (route) => json(route, [valid[route](), { ...valid[route](), tx_id: 42 }]),
    'too many events': (route) => json(route, Array.from({ length: 501 }, () => valid[route]())),
    'odd encoding': (route) => {
      const body = Buffer.from(JSON.stringify(valid[route]()));
      const bad = pick([Buffer.from([0xff, 0xfe, ...body]), Buffer.from([0xc3, 0x28]), Buffer.from(JSON.stringify(valid[route]()), 'utf16le'), Buffer.concat([body.subarray(0, 5), Buffer.from([0x00, 0xc0, 0xaf]), body.subarray(5)])]);
      return { ...json(route, ''), body: bad };
    },
    'odd content type': (route) => json(route, valid[route](), pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'image/png', 'application/jsonx', ';;;'])),
    'empty body': (route) => json(route, ''),
    'unknown route': () => ({ method: pick(['GET', 'POST', 'PUT']), path: pick(['/', '/bids', '/bid/1', '/%', '/../etc/passwd', '/reports', '/reports/campaigns/', `/${'a'.repeat(2000)}`]), headers: {}, kind: '' }),
    'wrong method': (route) => ({ method: pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']), path: `/${route}`, headers: {}, kind: '' }),
    'bad report id': () => ({ method: 'GET', path: `/reports/campaigns/${pick(['abc', '-1', '1.5', '1e3', '%00', '99999999999999999999', '%E0%A4%A'])}`, headers: {}, kind: '' }),
    'bad roll-up': () => ({ method: 'GET', path: `/reports/campaigns/1/period?${pick(['period=DECADES', 'timezone=Nowhere/Land', 'from=x', 'from=5&to=1', 'desc=yes', 'to=-4'])}`, headers: {}, kind: '' }),
  };
  const kinds = Object.keys(mutations);
  return (): RawRequest => {
    const kind = pick(kinds);
    return { ...mutations[kind](pick(['bid', 'impression', 'click'] as const)), kind };
  };
}

function send(port: number, r: RawRequest): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: { ...r.headers, ...(r.body ? { 'content-length': String(r.body.length) } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
    req.end(r.body);
  });
}

describe('the API under fuzzing', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it(`refuses ${REQUESTS} malformed requests without a 5xx, accepts none, and keeps serving`, async () => {
    const port = Number(new URL(platform.outputs.UrlForAPI).port);
    const next = generator(2026);
    const statuses = new Map<string, Map<number, number>>();
    let sent = 0;
    const worker = async () => {
      while (sent < REQUESTS) {
        sent++;
        const r = next();
        const status = await send(port, r);
        const byKind = statuses.get(r.kind) ?? statuses.set(r.kind, new Map()).get(r.kind)!;
        byKind.set(status, (byKind.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 24 }, worker));
    // A few huge bodies: refused as too large.
    for (let i = 0; i < 5; i++) {
      const status = await send(port, { method: 'POST', path: '/bid', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(1024 * 1024 + 1 + i * 100_000, 0x20), kind: 'oversize' });
      statuses.set('oversize', new Map([[status, (statuses.get('oversize')?.get(status) ?? 0) + 1]]));
    }

    const summary = Object.fromEntries([...statuses].map(([kind, s]) => [kind, Object.fromEntries(s)]));
    const all = [...statuses.values()].flatMap((s) => [...s]);
    const total = all.reduce((n, [, c]) => n + c, 0);
    expect(total).toBeGreaterThanOrEqual(10_000);
    const wrong = (status: number) => (status >= 200 && status < 300) || status >= 500 || status < 0;
    const offenders = [...statuses].flatMap(([kind, s]) => [...s].filter(([status]) => wrong(status)).map(([status, count]) => `${kind}: ${count} × ${status}`));
    expect(offenders).toEqual([]);
    expect(summary.oversize).toEqual({ 413: 5 });

    // Still serving: health, and a good event is accepted and counted.
    expect((await fetch(`${platform.outputs.UrlForAPI}health`)).status).toBe(200);
    const markers = Array.from({ length: 20 }, (_, i) => ({ type: 'bid' as const, body: { tx_id: `after-fuzz-${i}`, app_uid: 'u', campaign_item_id: FUZZ_CAMPAIGN + 1 } }));
    await sendEvents(platform.outputs.UrlForAPI, markers);
    await pollUntil('the markers to be counted', async () => (await (await fetch(`${platform.outputs.UrlForReports}${FUZZ_CAMPAIGN + 1}`)).json()) as { bids: number }, (r) => r.bids === markers.length);

    // Nothing of the fuzz reached the aggregates or the lake (markers landed on every shard after it).
    const fuzzReport = (await (await fetch(`${platform.outputs.UrlForReports}${FUZZ_CAMPAIGN}`)).json()) as { bids: number; late_events: number; periods: unknown[] };
    expect(fuzzReport).toMatchObject({ bids: 0, late_events: 0, periods: [] });
    const inLake = async () => {
      const lake = await LakeSql.open(localLakeRoot(platform.dataDir));
      try {
        return (await lake.query("SELECT count(*) FILTER (WHERE tx_id LIKE 'after-fuzz-%') AS markers, count(*) FILTER (WHERE tx_id NOT LIKE 'after-fuzz-%') AS others FROM parquet_bcns")).rows[0] as { markers: number; others: number };
      } finally {
        lake.close();
      }
    };
    const lake = await pollUntil('the markers in the lake', inLake, (r) => r.markers === markers.length, 60_000);
    expect(lake.others).toBe(0);
  }, 300_000);
});
