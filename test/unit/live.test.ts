/**
 * GET /live: a client gets the snapshot and the status on connect and the changes as they come;
 * the feed and the timers run only while a client is connected; close() ends open streams and
 * refuses new ones. Also the rejection log kept around the ingest handler.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AggregateFeed, FeedUpdate } from '../../local/aggregate-feed';
import { LiveChannel } from '../../local/live';
import { RejectionLog, recordingRejections } from '../../local/rejections';
import { waitFor } from '../../local/wait';

class FakeFeed {
  listener?: (update: FeedUpdate) => void;
  subscriptions = 0;
  snapshot = () => [{ aggregation: 'devices', device_id: 'd1', metric: 'cpu', readings: 2, total: 3, minimum: 1, maximum: 2, late_events: 0, updated_at: 5 }];
  subscribe(listener: (update: FeedUpdate) => void) {
    this.subscriptions++;
    this.listener = listener;
    return async () => {
      this.listener = undefined;
    };
  }
  async stop() {
    this.listener = undefined;
  }
}

/** Reads server-sent events from a response body. */
class EventReader {
  readonly events: { event: string; data: any }[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** Reads until `until` holds of the events so far; false when the stream ended first. */
  async readUntil(until: (events: { event: string; data: any }[]) => boolean): Promise<boolean> {
    while (!until(this.events)) {
      const { value, done } = await this.reader.read();
      if (done) return false;
      this.buffer += this.decoder.decode(value, { stream: true });
      let end;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) this.events.push({ event, data: JSON.parse(data) });
      }
    }
    return true;
  }
}

describe('the live channel', () => {
  let server: Server;
  let base: string;
  let feed: FakeFeed;
  let live: LiveChannel;
  let statusCalls = 0;

  beforeEach(async () => {
    feed = new FakeFeed();
    statusCalls = 0;
    live = new LiveChannel({ feed: feed as unknown as AggregateFeed, status: async () => ({ health: 'ok', n: ++statusCalls }), statusIntervalMs: 20, keepAliveMs: 20 });
    server = createServer((req, res) => live.route.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await live.close();
    // fetch (undici) may hold a spare connection that never carried a request.
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the snapshot, the status and the changes, and stops the feed and timers when the client leaves', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/live`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const stream = new EventReader(res.body!);
    await stream.readUntil((events) => events.some((e) => e.event === 'status'));
    expect(stream.events[0]).toEqual({ event: 'snapshot', data: { groups: feed.snapshot() } });

    feed.listener!({ kind: 'changes', rows: [], groups: [{ aggregation: 'devices', device_id: 'd1', metric: 'cpu', readings: 3, total: 4, minimum: 1, maximum: 2, late_events: 0, updated_at: 6 }] });
    await stream.readUntil((events) => events.some((e) => e.event === 'changes'));
    expect(stream.events.find((e) => e.event === 'changes')!.data.groups[0].readings).toBe(3);

    controller.abort();
    await waitFor('the feed to stop', () => feed.listener === undefined, 5000);
    const calls = statusCalls;
    await new Promise((r) => setTimeout(r, 100)); // several status intervals: none may run
    expect(statusCalls).toBe(calls);
  });

  it('ends open streams on close and refuses new ones', async () => {
    const res = await fetch(`${base}/live`);
    const stream = new EventReader(res.body!);
    await stream.readUntil((events) => events.length > 0);
    await live.close();
    expect(await stream.readUntil(() => false)).toBe(false);
    const refused = await fetch(`${base}/live`);
    expect(refused.status).toBe(503);
  });
});

it('keeps the latest rejections with their reasons, newest first, and passes answers through', async () => {
  const log = new RejectionLog(2);
  const answers = [
    { statusCode: 400, body: JSON.stringify({ error: 'invalid bid event', issues: [{ field: 'tx_id', message: 'is required' }] }) },
    { statusCode: 200, body: '{"accepted":1}' },
    { statusCode: 415, body: JSON.stringify({ error: 'content-type must be application/json' }) },
    { statusCode: 503, body: 'not json' },
  ];
  let i = 0;
  const handler = recordingRejections(async () => answers[i++], log);
  const event = { httpMethod: 'POST', path: '/bid' } as APIGatewayProxyEvent;
  for (const answer of answers) expect(await handler(event)).toBe(answer);
  expect(log.recent().map((r) => [r.status, r.error])).toEqual([
    [503, 'not json'],
    [415, 'content-type must be application/json'],
  ]);
});
