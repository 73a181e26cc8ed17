/**
 * GET /live: the live console's server-sent event stream. Events:
 * - `snapshot` {groups}: every group's totals (of every aggregation), on connect and whenever the
 *   feed re-read them (local/aggregate-feed.ts GroupTotals);
 * - `changes` {rows, groups}: (group, window) rows that changed, with their groups' totals;
 * - `status`: the operations status (health, lag, dead letters, jobs, rejections) when it changed;
 * and a comment every keepAliveMs so proxies and clients see the stream alive. The feed and the
 * timers run only while a client is connected; close() ends every stream (Ctrl-C must not wait).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StreamRoute } from './api-server';
import type { AggregateFeed, FeedUpdate } from './aggregate-feed';
import { SseStream } from './sse';

export const LIVE_PATH = '/live';

export interface LiveOptions {
  feed: AggregateFeed;
  status: () => Promise<unknown>;
  statusIntervalMs?: number;
  keepAliveMs?: number;
  maxClients?: number;
  onError?: (message: string, err: unknown) => void;
}

export class LiveChannel {
  readonly route: StreamRoute = { path: LIVE_PATH, serve: (req, res) => this.serve(req, res) };
  private readonly clients = new Set<SseStream>();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe?: () => Promise<void>;
  private lastStatus?: string;
  private refreshing?: Promise<void>;
  private closed = false;

  constructor(private readonly options: LiveOptions) {}

  private serve(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed || this.clients.size >= (this.options.maxClients ?? 100)) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5', 'access-control-allow-origin': '*' });
      res.end(JSON.stringify({ error: this.closed ? 'the platform is stopping' : 'too many live clients; retry later' }));
      return;
    }
    const client = new SseStream(req, res, 3000);
    this.clients.add(client);
    client.onClose(() => this.left(client));
    if (this.clients.size === 1) this.begin();
    const groups = this.options.feed.snapshot();
    if (groups) client.send('snapshot', { groups });
    if (this.lastStatus) client.send('status', JSON.parse(this.lastStatus));
  }

  private begin(): void {
    this.unsubscribe = this.options.feed.subscribe((update) => this.broadcast(update));
    const { statusIntervalMs = 2000, keepAliveMs = 15_000 } = this.options;
    this.timers = [
      setInterval(() => void this.refreshStatus(), statusIntervalMs),
      setInterval(() => this.clients.forEach((c) => c.comment('keep-alive')), keepAliveMs),
    ];
    void this.refreshStatus();
  }

  private left(client: SseStream): void {
    this.clients.delete(client);
    if (this.clients.size > 0) return;
    this.timers.forEach(clearInterval);
    this.timers = [];
    this.lastStatus = undefined;
    void this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private broadcast(update: FeedUpdate): void {
    const { kind, ...data } = update;
    for (const client of this.clients) client.send(kind, data);
  }

  private refreshStatus(): Promise<void> {
    this.refreshing ??= this.sendStatus().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async sendStatus(): Promise<void> {
    try {
      const status = JSON.stringify(await this.options.status());
      if (status !== this.lastStatus && this.clients.size > 0) {
        this.lastStatus = status;
        const data = JSON.parse(status);
        for (const client of this.clients) client.send('status', data);
      }
    } catch (err) {
      this.options.onError?.('live console status', err);
    }
  }

  /** Ends every stream and stops the feed; later connections are answered 503. */
  async close(): Promise<void> {
    this.closed = true;
    for (const client of [...this.clients]) client.end();
    await Promise.all([this.refreshing, this.options.feed.stop()]);
  }
}
