/**
 * The local API server's close(), which Ctrl-C on `sdp local` waits for: a client that keeps its
 * keep-alive connection busy (a browser page polling) gets its in-flight answer with
 * `connection: close` and the server ends; a request whose answer never comes is cut off once
 * the grace period is over.
 */
import { Agent, request } from 'node:http';
import { ApiServer } from '../../local/api-server';

const slowPing = new ApiServer({
  routes: [{ method: 'GET', resource: '/ping', handler: () => new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: '{}' }), 30)) }],
});

function get(port: number, agent: Agent): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/ping', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

const waitUntil = async (check: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
};

it('answers a request in flight with connection: close, so a client polling back to back lets it end', async () => {
  const port = await slowPing.listen(0);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const answers: { status: number; connection: string | undefined; sentAt: number }[] = [];
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const sentAt = Date.now();
      try {
        answers.push({ ...(await get(port, agent)), sentAt });
      } catch {
        polling = false; // the server is gone: the next request is refused
      }
    }
  })();
  await waitUntil(() => answers.length >= 3);

  const started = Date.now();
  await slowPing.close(60_000);
  const tookMs = Date.now() - started;
  polling = false;
  await poll;
  agent.destroy();

  expect(tookMs).toBeLessThan(5_000);
  expect(answers.every((a) => a.status === 200)).toBe(true);
  // A request sent once closing began is answered, and told the connection ends with it. (When
  // close() finds the connection idle between two requests, it ends it at once instead.)
  for (const late of answers.filter((a) => a.sentAt > started)) expect(late.connection).toBe('close');
});

it('cuts off a connection whose answer never comes once the grace period is over', async () => {
  let called = false;
  let release: () => void = () => {};
  const server = new ApiServer({
    routes: [{ method: 'GET', resource: '/hang', handler: () => { called = true; return new Promise((resolve) => (release = () => resolve({ statusCode: 200, body: '{}' }))); } }],
  });
  const port = await server.listen(0);
  const req = request({ host: '127.0.0.1', port, path: '/hang' });
  const failed = new Promise((resolve) => req.on('error', resolve));
  req.end();
  await waitUntil(() => called);

  const started = Date.now();
  await server.close(300);
  const tookMs = Date.now() - started;
  release();
  expect(tookMs).toBeGreaterThanOrEqual(250);
  expect(tookMs).toBeLessThan(5_000);
  await failed; // the client sees its connection end, not an answer
});
