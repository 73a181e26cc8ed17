/**
 * One server-sent event stream (text/event-stream) to one client: named events with JSON data,
 * comments as keep-alives, and an end that also closes the socket. A client that stops reading
 * is cut off once too much is buffered for it, rather than buffering without bound; browsers
 * reconnect on their own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bytes buffered for a client past which it is disconnected. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export class SseStream {
  private ended = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    retryMs: number,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // The stream is never reused for another request: its socket closes when it ends.
      connection: 'close',
      'x-accel-buffering': 'no',
      'access-control-allow-origin': '*',
    });
    res.write(`retry: ${retryMs}\n\n`);
    const closed = () => this.closed();
    req.once('close', closed);
    res.once('close', closed);
    res.once('error', closed);
  }

  get open(): boolean {
    return !this.ended;
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  send(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  end(): void {
    if (this.ended) return;
    this.res.end();
    this.closed();
  }

  private write(chunk: string): void {
    if (this.ended) return;
    this.res.write(chunk);
    if (this.res.writableLength > MAX_BUFFERED_BYTES) this.res.destroy();
  }

  private closed(): void {
    if (this.ended && this.closeListeners.length === 0) return;
    this.ended = true;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
