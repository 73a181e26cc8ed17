/**
 * JSON POSTs over keep-alive HTTP (node:http's Agent, lighter than fetch for a load generator on a
 * small machine), each answered with its status (0: no answer, a network error or a timeout), its
 * Retry-After and its latency from the call to the end of the response.
 *
 * The Agent is given a socket timeout so that it honours the server's `Keep-Alive: timeout=5`
 * hint: Node 20's Agent closes an idle socket a second before the server would only when its own
 * timeout is set (with none, it keeps idle sockets forever, and reusing one just as the server
 * closes it fails with ECONNRESET, an artefact of the client, not an answer of the platform).
 */
import { Agent, request } from 'node:http';

export interface Answer {
  status: number;
  /** Why there was no answer (status 0): the socket error's code, or 'timeout'. */
  error?: string;
  /** Retry-After in seconds, when the response had one. */
  retryAfterSeconds?: number;
  ms: number;
}

export class JsonPoster {
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: string,
    options: { maxSockets: number; timeoutMs?: number },
    private readonly timeoutMs = options.timeoutMs ?? 30_000,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets, timeout: this.timeoutMs });
  }

  post(path: string, body: string): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve) => {
      const done = (status: number, retryAfter?: string, error?: string) => {
        const seconds = retryAfter === undefined ? undefined : Number(retryAfter);
        resolve({ status, error, retryAfterSeconds: Number.isFinite(seconds) ? seconds : undefined, ms: performance.now() - started });
      };
      const failed = (err: Error & { code?: string }) => done(0, undefined, err.code ?? err.message);
      const req = request(
        new URL(path, this.baseUrl),
        { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => done(res.statusCode ?? 0, res.headers['retry-after'] as string | undefined));
          res.on('error', failed);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', failed);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
