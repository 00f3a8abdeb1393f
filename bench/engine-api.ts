/** Requests on a benchmarked daemon's API socket, with no CLI start-up in the measured time. */
import { request } from 'node:http';
import type { BenchDaemon } from './daemons';

/** One request on the daemon's socket; any status but 2xx and 304 (already stopped) fails. */
export function api(d: BenchDaemon, method: string, path: string, body?: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path: `/v1.41${path}`, headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if ((status >= 200 && status < 300) || status === 304) resolve(text);
        else reject(new Error(`${method} ${path} against ${d.name}: ${status} ${text}\n--- ${d.name} log ---\n${d.logTail()}`));
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
