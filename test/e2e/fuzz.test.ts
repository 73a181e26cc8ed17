/**
 * Fuzzing the local platform's HTTP API, for every stream of the pipelines it runs (SDP_PIPELINES,
 * else both shipped ones side by side: adtech and telemetry): over 10,000 generated malformed requests (broken JSON,
 * wrong types, missing fields, huge numbers and strings, deep nesting, odd encodings and content
 * types, oversize bodies, unknown routes and methods; strings holding lone surrogates, bytes that
 * are not UTF-8, unknown charsets, unsupported or undecodable content codings, compression bombs).
 * None may be answered 5xx or accepted, the platform must keep serving, and nothing of them may
 * reach the aggregates or the lake. Every bad event generated from each stream's schema
 * (test/support/bad-events.ts: missing fields, wrong types, values beyond the limits, lone
 * surrogates, wrong time formats) is refused with a 400 naming its field, and so is every report
 * path value that no group field of its kind can hold. Then what must be
 * accepted is: generated events of every stream (counted exactly as their ground truth), and for
 * adtech gzip and deflate bodies, a UTF-8 BOM, a declared iso-8859-1 charset, and the largest
 * campaign id, which the reports read.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { FIELD_LIMITS } from '../../pipelines/adtech/fields';
import { random } from '../../pipelines/adtech/workload';
import { sendEvents } from '../../local/send';
import { LakeSql, localLakeRoot } from '../../local/lake-sql';
import { configuredPipelines, loadPipelines, usePipeline } from '../../schemas/active-pipeline';
import type { StreamSpec } from '../../schemas/pipeline';
import { generateTraffic, sampleEvents } from '../../local/traffic';
import { groundTruth, streamRecords, groupValues } from '../../local/ground-truth';
import { badEvents } from '../support/bad-events';
import { httpCall } from '../support/http';
import { expectReportsToEqualTruth, reportUrl } from '../support/truth-reports';
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

/** The pipelines the platform runs: SDP_PIPELINES's, else every shipped one. */
const PIPELINES = process.env.SDP_PIPELINES ? configuredPipelines() : ['adtech', 'telemetry'];
const { pipeline, files } = loadPipelines(PIPELINES);
// This process reads the lake too: its views are the platform's pipelines'.
usePipeline(pipeline, files);
const STREAMS = pipeline.streams;
/** Adtech's bids name the fuzz campaign, telemetry's readings the fuzz device: groups whose reports must stay empty. */
const OVERRIDES: Record<string, Record<string, unknown>> = { bid: { campaign_item_id: FUZZ_CAMPAIGN }, reading: { device_id: 'fuzz-device' } };
const samples = sampleEvents(pipeline, 2026);
/** A valid event of each stream, generated from its schema. */
const valid = (stream: StreamSpec): Record<string, unknown> => ({ ...samples[stream.name], ...OVERRIDES[stream.name] });
const fieldsOf = (stream: StreamSpec, test: (f: StreamSpec['fields'][number]) => boolean) => stream.fields.filter(test).map((f) => f.name);
const required = (stream: StreamSpec) => fieldsOf(stream, (f) => f.required);
/** Number fields of each stream (times included: epoch ms are numbers). */
const numberFields = (stream: StreamSpec) => fieldsOf(stream, (f) => f.kind === 'integer' || f.kind === 'number' || f.kind === 'time');
/** String fields of each stream, where a lone surrogate or a bad byte is put. */
const stringFields = (stream: StreamSpec) => fieldsOf(stream, (f) => f.kind === 'string');
/** The string field whose value the size and nesting mutations replace: the first string field of the identity, else the first. */
const keyField = (stream: StreamSpec) => stream.identity.find((f) => stringFields(stream).includes(f)) ?? stringFields(stream)[0];
const HUGE_NUMBERS = [`1${'0'.repeat(400)}`, `9${'9'.repeat(30)}`, '-1e308', '1e16'];
const LONE_SURROGATES = ['\\ud800', '\\udbff', '\\udc00', '\\udfff', 'x\\ud83d', '\\ude00x', '\\ude00\\ud83d'];
const INVALID_UTF8 = [[0x80], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xfe], [0xf4, 0x90, 0x80, 0x80]];
/** Values of a report route's group segment that must be refused, by the field's kind. */
const BAD_GROUP_VALUES: Record<string, string[]> = {
  integer: ['abc', '-1', '1.5', '1e3', '%00', '99999999999999999999', '%E0%A4%A'],
  number: ['abc', '%00', '%E0%A4%A'],
  // A segment that is not valid percent-encoding ('%E0%A4%A') reaches the handler as it is (as API
  // Gateway passes it), and is then a string some client may have sent: not listed here.
  string: ['%20', '%20%20%20', 'x'.repeat(300)],
  boolean: ['maybe', '2', '%E0%A4%A'],
};

/** A seeded generator of requests that must all be refused. */
function generator(seed: number) {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const json = (stream: StreamSpec, body: unknown, contentType = 'application/json'): RawRequest => ({
    method: 'POST',
    path: stream.route,
    headers: { 'content-type': contentType },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    kind: '',
  });
  const wrongValues: unknown[] = [null, true, [], {}, 1.5, -1, '', '   ', 'x'.repeat(300), 1e400, -1e400, 2 ** 64, '12', { $gt: 1 }, [1, 2]];
  const mutations: Record<string, (stream: StreamSpec) => RawRequest> = {
    'broken JSON': (stream) => {
      const text = JSON.stringify(valid(stream));
      return json(stream, text.slice(0, 1 + Math.floor(rnd() * (text.length - 2))));
    },
    'wrong type': (stream) => {
      const field = pick(stream.fields).name;
      // Some of the values are valid for some fields (a short string for a string field): those are left out by the schema itself.
      const value = pick(wrongValues.filter((v) => !stream.schema.safeParse({ ...valid(stream), [field]: v }).success));
      return json(stream, { ...valid(stream), [field]: value });
    },
    'missing field': (stream) => {
      const body: Record<string, unknown> = valid(stream);
      delete body[pick(required(stream))];
      return json(stream, body);
    },
    'huge number': (stream) => {
      // Only the values the field refuses: a measured value without bounds (telemetry's) takes 1e16.
      const refused = numberFields(stream).flatMap((field) => HUGE_NUMBERS.map((n) => ({ field, n }))).filter(({ field, n }) => !stream.schema.safeParse({ ...valid(stream), [field]: JSON.parse(n) }).success);
      const { field, n } = pick(refused);
      // Last in the object, so JSON.parse keeps it over the valid value of the same field.
      return json(stream, JSON.stringify(valid(stream)).replace(/\}$/, `, "${field}": ${n}}`));
    },
    'huge string': (stream) => json(stream, { ...valid(stream), [keyField(stream)]: 'x'.repeat(1000 + Math.floor(rnd() * 100_000)) }),
    'deep nesting': (stream) => {
      const depth = 10 + Math.floor(rnd() * 20_000);
      return json(stream, `${'['.repeat(depth)}${']'.repeat(depth)}`);
    },
    'deep object': (stream) => json(stream, { ...valid(stream), [keyField(stream)]: JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`) }),
    'not an object': (stream) => json(stream, pick(['1', '"text"', 'null', 'true', '[1,2,3]', '[null]', '[]', '{}', '""'])),
    'array with a bad item': (stream) => json(stream, [valid(stream), { ...valid(stream), [keyField(stream)]: 42 }]),
    'too many events': (stream) => json(stream, Array.from({ length: 501 }, () => valid(stream))),
    'odd encoding': (stream) => {
      const body = Buffer.from(JSON.stringify(valid(stream)));
      const bad = pick([Buffer.from([0xff, 0xfe, ...body]), Buffer.from([0xc3, 0x28]), Buffer.from(JSON.stringify(valid(stream)), 'utf16le'), Buffer.concat([body.subarray(0, 5), Buffer.from([0x00, 0xc0, 0xaf]), body.subarray(5)])]);
      return { ...json(stream, ''), body: bad };
    },
    // A string field holding a lone surrogate (valid JSON escape, not Unicode text), alone or with
    // good events beside it: the whole request is refused.
    'lone surrogate': (stream) => {
      const bad = JSON.stringify({ ...valid(stream), [pick(stringFields(stream))]: 'MARK' }).replace('"MARK"', `"${pick(LONE_SURROGATES)}"`);
      const good = JSON.stringify(valid(stream));
      return json(stream, pick([bad, `[${good},${bad}]`, `[${bad},${good},${good}]`, `[${good},${bad},${good}]`]));
    },
    'invalid UTF-8': (stream) => {
      const [before, after] = JSON.stringify({ ...valid(stream), [pick(stringFields(stream))]: 'MARK' }).split('MARK');
      const bad = Buffer.concat([Buffer.from(before), Buffer.from(pick(INVALID_UTF8)), Buffer.from(after)]);
      return { ...json(stream, ''), body: Buffer.concat([Buffer.from(`[${JSON.stringify(valid(stream))},`), bad, Buffer.from(']')]) };
    },
    'unknown charset': (stream) => json(stream, valid(stream), `application/json; charset=${pick(['klingon', 'utf-9', 'ebcdic', 'utf-7', 'ascii7'])}`),
    'wrong charset': (stream) => json(stream, valid(stream), pick(['application/json; charset=utf-16le', 'application/json; charset=UTF-16BE'])),
    'unsupported coding': (stream) => ({ ...json(stream, ''), headers: { 'content-type': 'application/json', 'content-encoding': pick(['br', 'compress', 'x-gzip', 'zstd', 'gzip, br', 'x-compress']) }, body: gzipSync(JSON.stringify(valid(stream))) }),
    'undecodable coding': (stream) => {
      const text = JSON.stringify(valid(stream));
      const body = pick([Buffer.from(text), gzipSync(text).subarray(0, 15), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff])]);
      return { ...json(stream, ''), headers: { 'content-type': 'application/json', 'content-encoding': pick(['gzip', 'deflate']) }, body };
    },
    'compressed bad event': (stream) => {
      const bad = JSON.stringify({ ...valid(stream), [keyField(stream)]: 'MARK' }).replace('"MARK"', `"${pick(LONE_SURROGATES)}"`);
      const coding = pick(['gzip', 'deflate'] as const);
      const text = `[${JSON.stringify(valid(stream))},${bad}]`;
      return { ...json(stream, ''), headers: { 'content-type': 'application/json', 'content-encoding': coding }, body: coding === 'gzip' ? gzipSync(text) : deflateSync(text) };
    },
    'odd content type': (stream) => json(stream, valid(stream), pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'image/png', 'application/jsonx', ';;;'])),
    'empty body': (stream) => json(stream, ''),
    'unknown route': () => ({ method: pick(['GET', 'POST', 'PUT']), path: pick(['/index.html', '/bids', '/bid/1', '/%', '/../etc/passwd', '/reports', '/reports/campaigns/', `/${'a'.repeat(2000)}`]), headers: {}, kind: '' }),
    'wrong method': (stream) => ({ method: pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']), path: stream.route, headers: {}, kind: '' }),
    // A report route (contract 4) with one group segment that no group value can be.
    'bad report id': () => {
      const aggregation = pick(pipeline.aggregations);
      const values = groupValues(aggregation, valid(STREAMS.find((s) => s.name === aggregation.stream)!)).map((v) => encodeURIComponent(String(v)));
      const i = Math.floor(rnd() * values.length);
      values[i] = pick(BAD_GROUP_VALUES[aggregation.groupBy[i].kind]);
      return { method: 'GET', path: `/reports/${aggregation.route}/${values.join('/')}`, headers: {}, kind: '' };
    },
    'bad roll-up': () => {
      const aggregation = pick(pipeline.aggregations);
      const url = new URL(reportUrl('http://x/', aggregation.route, groupValues(aggregation, valid(STREAMS.find((s) => s.name === aggregation.stream)!))));
      return { method: 'GET', path: `${url.pathname}/period?${pick(['period=DECADES', 'timezone=Nowhere/Land', 'from=x', 'from=5&to=1', 'desc=yes', 'to=-4'])}`, headers: {}, kind: '' };
    },
  };
  if (pipeline.aggregations.length === 0) for (const kind of ['bad report id', 'bad roll-up']) delete mutations[kind];
  const kinds = Object.keys(mutations);
  return (): RawRequest => {
    const kind = pick(kinds);
    return { ...mutations[kind](pick(STREAMS)), kind };
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
    platform = await startPlatform({ env: { SDP_PIPELINES: JSON.stringify(PIPELINES) } });
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
      const status = await send(port, { method: 'POST', path: STREAMS[0].route, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(1024 * 1024 + 1 + i * 100_000, 0x20), kind: 'oversize' });
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
      const status = await send(port, { method: 'POST', path: STREAMS[0].route, headers: { 'content-type': 'application/json', 'content-encoding': coding }, body, kind: 'bomb' });
      expect({ coding, status, quick: Date.now() - started < 10_000 }).toEqual({ coding, status: 413, quick: true });
    }
    expect(peakRss(platform.process.pid!) - peakBefore).toBeLessThan(200 * 1024 * 1024);

    // Still serving.
    expect((await fetch(`${platform.outputs.UrlForAPI}health`)).status).toBe(200);

    // Every report path value no group field of its kind can hold: a 400 naming the field.
    for (const aggregation of pipeline.aggregations) {
      const good = groupValues(aggregation, valid(STREAMS.find((st) => st.name === aggregation.stream)!)).map((v) => encodeURIComponent(String(v)));
      for (const [i, field] of aggregation.groupBy.entries()) {
        for (const bad of BAD_GROUP_VALUES[field.kind]) {
          const path = `/reports/${aggregation.route}/${good.map((v, j) => (j === i ? bad : v)).join('/')}`;
          const answer = await httpCall(port, 'GET', path, {});
          const named = answer.status === 400 ? (JSON.parse(answer.body) as { field?: string }).field : undefined;
          expect({ path, status: answer.status, field: named }).toEqual({ path, status: 400, field: field.name });
        }
      }
    }

    // Every bad event generated from each stream's schema: a 400 naming its field, alone and at index 1 of an array.
    let schemaCases = 0;
    for (const stream of STREAMS) {
      for (const bad of badEvents(stream, valid(stream))) {
        for (const [body, index] of [[bad.body, undefined], [`[${JSON.stringify(valid(stream))},${bad.body}]`, 1]] as const) {
          const answer = await httpCall(port, 'POST', stream.route, { 'content-type': 'application/json' }, body);
          const issues = answer.status === 400 ? ((JSON.parse(answer.body) as { issues?: { index?: number; field: string }[] }).issues ?? []) : [];
          const case_ = { stream: stream.name, kind: bad.kind, field: bad.field, index };
          expect({ ...case_, status: answer.status, named: issues.some((i) => i.field === bad.field && i.index === index) }).toEqual({ ...case_, status: 400, named: true });
          schemaCases++;
        }
      }
    }
    expect(schemaCases).toBeGreaterThan(50 * STREAMS.length);

    // Good events of every stream, generated from the schemas, are accepted and counted exactly as their ground truth.
    const routes = Object.fromEntries(STREAMS.map((s) => [s.name, s.route.slice(1)]));
    const good = generateTraffic(pipeline, { events: 10, groups: 2, joinRate: 1, resendRate: 0.2, seed: 7 });
    const receivedFrom = Date.now();
    await sendEvents(platform.outputs.UrlForAPI, good.events, { routes });
    const truth = groundTruth(pipeline, streamRecords(pipeline, good.events.map((e) => ({ ...e, receivedAt: receivedFrom }))));
    await expectReportsToEqualTruth(platform.outputs.UrlForAPI, pipeline, Object.fromEntries(truth));
    /** Events each stream's lake table must hold in the end: the good ones, and adtech's accepted bids below. */
    const expectedInLake: Record<string, number> = { ...good.distinct };

    // Adtech's own cases (its routes and campaign ids).
    const ADTECH = STREAMS.some((s) => s.name === 'bid');
    if (ADTECH) {
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
      expectedInLake.bid += markers.length + 30 + 20 + 5 + 2 + 3 + 1;

      const inLake = async () => {
        const lake = await LakeSql.open(localLakeRoot(platform.dataDir));
        try {
          return (await lake.query("SELECT count(*) FILTER (WHERE tx_id LIKE 'after-fuzz-%') AS markers, count(*) FILTER (WHERE tx_id LIKE 'coded-caf\u00e9-%') AS latin1 FROM parquet_bcns")).rows[0] as { markers: number; latin1: number };
        } finally {
          lake.close();
        }
      };
      await pollUntil('the markers in the lake', inLake, (r) => r.markers === markers.length, 60_000);
      // The iso-8859-1 ids arrived as "café", not as "caf\ufffd" (nor refused).
      await pollUntil('the iso-8859-1 ids in the lake', inLake, (r) => r.latin1 === 3, 60_000);
    }

    // Nothing of the fuzz reached the aggregates: the groups of the events the fuzz mutated have no rows.
    for (const aggregation of pipeline.aggregations) {
      const values = groupValues(aggregation, valid(STREAMS.find((s) => s.name === aggregation.stream)!));
      const fuzzReport = (await (await fetch(reportUrl(platform.outputs.UrlForAPI, aggregation.route, values))).json()) as Record<string, unknown>;
      expect({ aggregation: aggregation.name, values, late_events: fuzzReport.late_events, periods: fuzzReport.periods }).toEqual({ aggregation: aggregation.name, values, late_events: 0, periods: [] });
      for (const m of aggregation.measures.filter((x) => x.kind === 'count')) expect({ measure: m.name, value: fuzzReport[m.name] }).toEqual({ measure: m.name, value: 0 });
    }
    // Nor the lake: each stream's table holds exactly the events accepted.
    const lakeCounts = async () => {
      const lake = await LakeSql.open(localLakeRoot(platform.dataDir));
      try {
        const counts: Record<string, number> = {};
        for (const s of STREAMS) counts[s.name] = (await lake.query(`SELECT count(*) AS n FROM parquet_${s.lakeTable}`)).rows[0].n as number;
        return counts;
      } finally {
        lake.close();
      }
    };
    const counts = await pollUntil('every accepted event in the lake', lakeCounts, (c) => STREAMS.every((s) => c[s.name] >= expectedInLake[s.name]), 60_000);
    expect(counts).toEqual(expectedInLake);
  }, 300_000);
});
