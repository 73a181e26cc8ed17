/**
 * Fuzzing the local platform's HTTP API: over 10,000 generated malformed requests (broken JSON,
 * wrong types, missing fields, huge numbers and strings, deep nesting, odd encodings and content
 * types, oversize bodies, unknown routes and methods; strings holding lone surrogates, bytes that
 * are not UTF-8, unknown charsets, unsupported or undecodable content codings, compression bombs).
 * None may be answered 5xx or accepted, the platform must keep serving, and nothing of them may
 * reach the aggregates or the lake. Then what must be accepted is: gzip and deflate bodies, a
 * UTF-8 BOM, a declared iso-8859-1 charset, and the largest campaign id, which the reports read.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { FIELD_LIMITS } from '../../schemas/fields';
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
/** String fields of each route, where a lone surrogate or a bad byte is put. */
const stringFields: Record<Route, string[]> = { bid: ['tx_id', 'app_uid', 'domain', 'creative_id', 'creative_category'], impression: ['tx_id'], click: ['tx_id'] };
const LONE_SURROGATES = ['\\ud800', '\\udbff', '\\udc00', '\\udfff', 'x\\ud83d', '\\ude00x', '\\ude00\\ud83d'];
const INVALID_UTF8 = [[0x80], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xfe], [0xf4, 0x90, 0x80, 0x80]];
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
    // A string field holding a lone surrogate (valid JSON escape, not Unicode text), alone or with
    // good events beside it: the whole request is refused.
    'lone surrogate': (route) => {
      const bad = JSON.stringify({ ...valid[route](), [pick(stringFields[route])]: 'MARK' }).replace('"MARK"', `"${pick(LONE_SURROGATES)}"`);
      const good = JSON.stringify(valid[route]());
      return json(route, pick([bad, `[${good},${bad}]`, `[${bad},${good},${good}]`, `[${good},${bad},${good}]`]));
    },
    'invalid UTF-8': (route) => {
      const [before, after] = JSON.stringify({ ...valid[route](), [pick(stringFields[route])]: 'MARK' }).split('MARK');
      const bad = Buffer.concat([Buffer.from(before), Buffer.from(pick(INVALID_UTF8)), Buffer.from(after)]);
      return { ...json(route, ''), body: Buffer.concat([Buffer.from(`[${JSON.stringify(valid[route]())},`), bad, Buffer.from(']')]) };
    },
    'unknown charset': (route) => json(route, valid[route](), `application/json; charset=${pick(['klingon', 'utf-9', 'ebcdic', 'utf-7', 'ascii7'])}`),
    'wrong charset': (route) => json(route, valid[route](), pick(['application/json; charset=utf-16le', 'application/json; charset=UTF-16BE'])),
    'unsupported coding': (route) => ({ ...json(route, ''), headers: { 'content-type': 'application/json', 'content-encoding': pick(['br', 'compress', 'x-gzip', 'zstd', 'gzip, br', 'x-compress']) }, body: gzipSync(JSON.stringify(valid[route]())) }),
    'undecodable coding': (route) => {
      const text = JSON.stringify(valid[route]());
      const body = pick([Buffer.from(text), gzipSync(text).subarray(0, 15), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff])]);
      return { ...json(route, ''), headers: { 'content-type': 'application/json', 'content-encoding': pick(['gzip', 'deflate']) }, body };
    },
    'compressed bad event': (route) => {
      const bad = JSON.stringify({ ...valid[route](), tx_id: 'MARK' }).replace('"MARK"', `"${pick(LONE_SURROGATES)}"`);
      const coding = pick(['gzip', 'deflate'] as const);
      const text = `[${JSON.stringify(valid[route]())},${bad}]`;
      return { ...json(route, ''), headers: { 'content-type': 'application/json', 'content-encoding': coding }, body: coding === 'gzip' ? gzipSync(text) : deflateSync(text) };
    },
    'odd content type': (route) => json(route, valid[route](), pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'image/png', 'application/jsonx', ';;;'])),
    'empty body': (route) => json(route, ''),
    'unknown route': () => ({ method: pick(['GET', 'POST', 'PUT']), path: pick(['/index.html', '/bids', '/bid/1', '/%', '/../etc/passwd', '/reports', '/reports/campaigns/', `/${'a'.repeat(2000)}`]), headers: {}, kind: '' }),
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

/** The status each of these kinds must get (the others must only be refused with a 4xx). */
const EXPECTED: Record<string, number> = {
  'lone surrogate': 400,
  'invalid UTF-8': 400,
  'unknown charset': 415,
  'wrong charset': 400,
  'unsupported coding': 415,
  // API Gateway: "If the specified coding isn't supported or the supplied payload isn't compressed
  // with specified coding, API Gateway returns the 415 Unsupported Media Type error response."
  'undecodable coding': 415,
  'compressed bad event': 400,
};

/** A gzip body inflating to `mib` MiB of zeros, built cheaply from repeated 64 MiB members. */
function gzipBomb(mib: number): Buffer {
  const member = gzipSync(Buffer.alloc(Math.min(mib, 64) * 1024 * 1024));
  return Buffer.concat(Array.from({ length: Math.ceil(mib / 64) }, () => member));
}

/** The platform process's peak resident memory so far (Linux /proc), in bytes. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb![1]) * 1024;
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
    for (const [kind, status] of Object.entries(EXPECTED)) expect({ kind, statuses: summary[kind] }).toEqual({ kind, statuses: { [status]: expect.any(Number) } });

    // Compression bombs (1 GiB of gzip, 256 MiB of deflate, each under 1 MiB on the wire): 413
    // quickly, and the platform's peak memory does not grow by anything like what they inflate to.
    const gzipped = gzipBomb(1024);
    const deflated = deflateSync(Buffer.alloc(256 * 1024 * 1024));
    const peakBefore = peakRss(platform.process.pid!);
    for (const [coding, body] of [['gzip', gzipped], ['deflate', deflated], ['gzip', gzipped], ['deflate', deflated], ['gzip', gzipped]] as const) {
      const started = Date.now();
      const status = await send(port, { method: 'POST', path: '/bid', headers: { 'content-type': 'application/json', 'content-encoding': coding }, body, kind: 'bomb' });
      expect({ coding, status, quick: Date.now() - started < 10_000 }).toEqual({ coding, status: 413, quick: true });
    }
    expect(peakRss(platform.process.pid!) - peakBefore).toBeLessThan(200 * 1024 * 1024);

    // Still serving: health, and a good event is accepted and counted.
    expect((await fetch(`${platform.outputs.UrlForAPI}health`)).status).toBe(200);
    const markers = Array.from({ length: 20 }, (_, i) => ({ type: 'bid' as const, body: { tx_id: `after-fuzz-${i}`, app_uid: 'u', campaign_item_id: FUZZ_CAMPAIGN + 1 } }));
    await sendEvents(platform.outputs.UrlForAPI, markers);
    await pollUntil('the markers to be counted', async () => (await (await fetch(`${platform.outputs.UrlForReports}${FUZZ_CAMPAIGN + 1}`)).json()) as { bids: number }, (r) => r.bids === markers.length);

    // What must be accepted and counted: gzip and deflate bodies, a UTF-8 BOM, a declared
    // iso-8859-1 charset; and a bid of the largest campaign id ingestion accepts, which the
    // reports route must read.
    const CODED = FUZZ_CAMPAIGN + 2;
    const bids = (n: number, prefix: string) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ tx_id: `coded-${prefix}-${i}`, app_uid: 'u', campaign_item_id: CODED })));
    const accepted: RawRequest[] = [
      { method: 'POST', path: '/bid', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(bids(30, 'gzip')), kind: 'gzip' },
      { method: 'POST', path: '/bid', headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' }, body: deflateSync(bids(20, 'deflate')), kind: 'deflate' },
      { method: 'POST', path: '/bid', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip, identity' }, body: gzipSync(bids(5, 'listed')), kind: 'gzip, identity' },
      { method: 'POST', path: '/bid', headers: { 'content-type': 'application/json' }, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(bids(2, 'bom'))]), kind: 'BOM' },
      { method: 'POST', path: '/bid', headers: { 'content-type': 'application/json; charset=ISO-8859-1' }, body: Buffer.from(bids(3, 'caf\xe9'), 'latin1'), kind: 'iso-8859-1' },
      { method: 'POST', path: '/bid', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ tx_id: 'coded-max-id', app_uid: 'u', campaign_item_id: FIELD_LIMITS.campaignItemId.max })), kind: 'max campaign id' },
    ];
    for (const r of accepted) expect({ kind: r.kind, status: await send(port, r) }).toEqual({ kind: r.kind, status: 200 });
    const report = async (id: number) => (await (await fetch(`${platform.outputs.UrlForReports}${id}`)).json()) as { bids: number };
    await pollUntil('the compressed and charset-declared bids to be counted', () => report(CODED), (r) => r.bids === 30 + 20 + 5 + 2 + 3);
    await pollUntil('the bid of the largest campaign id to be reported', () => report(FIELD_LIMITS.campaignItemId.max), (r) => r.bids === 1);

    // Nothing of the fuzz reached the aggregates or the lake (markers landed on every shard after it).
    const fuzzReport = (await (await fetch(`${platform.outputs.UrlForReports}${FUZZ_CAMPAIGN}`)).json()) as { bids: number; late_events: number; periods: unknown[] };
    expect(fuzzReport).toMatchObject({ bids: 0, late_events: 0, periods: [] });
    const inLake = async () => {
      const lake = await LakeSql.open(localLakeRoot(platform.dataDir));
      try {
        return (await lake.query("SELECT count(*) FILTER (WHERE tx_id LIKE 'after-fuzz-%') AS markers, count(*) FILTER (WHERE tx_id NOT LIKE 'after-fuzz-%' AND tx_id NOT LIKE 'coded-%') AS others, count(*) FILTER (WHERE tx_id LIKE 'coded-caf\u00e9-%') AS latin1 FROM parquet_bcns")).rows[0] as { markers: number; others: number; latin1: number };
      } finally {
        lake.close();
      }
    };
    const lake = await pollUntil('the markers in the lake', inLake, (r) => r.markers === markers.length, 60_000);
    expect(lake.others).toBe(0);
    // The iso-8859-1 ids arrived as "café", not as "caf\ufffd" (nor refused).
    await pollUntil('the iso-8859-1 ids in the lake', inLake, (r) => r.latin1 === 3, 60_000);
  }, 300_000);
});
