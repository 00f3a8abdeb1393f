/** Requests on a benchmarked daemon's API socket, with no CLI start-up in the measured time. */
import { readFileSync } from 'node:fs';
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

/** One container lifecycle over the API; the container runs `true` and has exited by stop. */
export async function lifecycle(d: BenchDaemon): Promise<void> {
  const created = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'] });
  const id = (JSON.parse(created) as { Id: string }).Id;
  await api(d, 'POST', `/containers/${id}/start`);
  await api(d, 'POST', `/containers/${id}/wait`);
  await api(d, 'POST', `/containers/${id}/stop`);
  await api(d, 'DELETE', `/containers/${id}`);
}

/** Starts `n` containers sleeping on `--network none`, over the API, one after the other. */
export async function startSleepers(d: BenchDaemon, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const created = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '100000'], HostConfig: { NetworkMode: 'none' } });
    await api(d, 'POST', `/containers/${(JSON.parse(created) as { Id: string }).Id}/start`);
    if ((i + 1) % 10 === 0) process.stdout.write(`\r${d.name}: ${i + 1}/${n} containers running`);
  }
  process.stdout.write('\n');
}

/** Removes every container of the daemon (forced), ten at a time. */
export async function removeAll(d: BenchDaemon): Promise<void> {
  const list = JSON.parse(await api(d, 'GET', '/containers/json?all=1')) as Array<{ Id: string }>;
  for (let i = 0; i < list.length; i += 10) {
    await Promise.all(list.slice(i, i + 10).map((c) => api(d, 'DELETE', `/containers/${c.Id}?force=1`)));
  }
}

/** VmRSS in MB of each process whose memory is the daemon's (dockerd: with its containerd). */
export function rssOf(d: BenchDaemon): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { name, pid } of d.memoryPids()) {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    out[name] = kb === undefined ? NaN : Number(kb) / 1024;
  }
  return out;
}

export const totalRss = (rss: Record<string, number>) => Object.values(rss).reduce((a, b) => a + b, 0);

/** The daemon's resident memory in MB (dockerd: with its containerd). */
export const rssFigure = async (d: BenchDaemon): Promise<number> => totalRss(rssOf(d));
