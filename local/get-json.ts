/**
 * GET a JSON document over plain HTTP with a deadline, with node:http: the CLI's fast commands
 * (sdp status) use it instead of fetch, whose first call loads undici (~0.15 s of CPU at start).
 */
import { get } from 'node:http';

export function getJson<T>(url: string, timeoutMs: number): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolvePromise(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
        } catch (err) {
          reject(new Error(`${url} answered ${res.statusCode} with no JSON: ${(err as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}
