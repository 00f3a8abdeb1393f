/**
 * Is the API still answering while containers start? Berth and (when installed) Debian's dockerd
 * side by side: per daemon and round, 20 containers with a published port
 * (`-p 127.0.0.1::80`, busybox sleeping) are created and started concurrently while 200
 * clients list containers (`GET /containers/json?all=1`) over and over. Every list request's
 * latency is recorded; the figure that matters is the p99 (issue 12: under 100 ms).
 *
 *   node dist/bench/api-responsiveness.js [rounds] [--starts 20] [--clients 200] [--only berth|dockerd]
 *
 * Needs root; the containers are removed after each round and the daemons at the end.
 */
import { parseBenchArgs, runBench } from './cli';
import type { BenchDaemon } from './daemons';
import { api } from './engine-api';
import { Session } from './session';
import { ms, percentile } from './stats';

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/api-responsiveness.js [rounds] [--starts 20] [--clients 200] [--only berth|dockerd]', 3, { starts: 20, clients: 200 });
  const session = new Session(opts.only);
  try {
    await session.startDaemons();
    const lists = new Map<string, number[]>(session.daemons.map((d) => [d.name, []]));
    const starts = new Map<string, number[]>(session.daemons.map((d) => [d.name, []]));
    for (let round = 1; round <= opts.runs; round++) {
      for (const d of session.daemons) {
        session.check();
        const r = await loadRound(d, opts.counts.starts, opts.counts.clients);
        lists.get(d.name)!.push(...r.lists);
        starts.get(d.name)!.push(r.startAllMs);
      }
      console.log(`round ${round}/${opts.runs} done`);
    }
    console.log(`\nGET /containers/json?all=1 latency (ms) from ${opts.counts.clients} clients while ${opts.counts.starts} containers with a published port start concurrently`);
    console.log(`${'daemon'.padEnd(8)} ${'requests'.padStart(9)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)} ${'all started (median ms)'.padStart(25)}`);
    for (const d of session.daemons) {
      const l = lists.get(d.name)!;
      const s = starts.get(d.name)!;
      console.log(`${d.name.padEnd(8)} ${String(l.length).padStart(9)} ${ms(percentile(l, 50)).padStart(8)} ${ms(percentile(l, 95)).padStart(8)} ${ms(percentile(l, 99)).padStart(8)} ${ms(Math.max(...l)).padStart(8)} ${ms(percentile(s, 50)).padStart(25)}`);
    }
    return 0;
  } finally {
    await session.cleanup();
  }
}

/** One round: the concurrent starts with the list clients running until the last start returns. */
async function loadRound(d: BenchDaemon, startCount: number, clientCount: number): Promise<{ lists: number[]; startAllMs: number }> {
  const lists: number[] = [];
  let starting = true;
  const client = async () => {
    while (starting) {
      const t0 = performance.now();
      await api(d, 'GET', '/containers/json?all=1');
      lists.push(performance.now() - t0);
    }
  };
  const clients = Array.from({ length: clientCount }, client);
  const t0 = performance.now();
  const ids = await Promise.all(Array.from({ length: startCount }, () => startOne(d)));
  const startAllMs = performance.now() - t0;
  starting = false;
  await Promise.all(clients);
  await Promise.all(ids.map((id) => api(d, 'DELETE', `/containers/${id}?force=1`)));
  return { lists, startAllMs };
}

async function startOne(d: BenchDaemon): Promise<string> {
  const created = await api(d, 'POST', '/containers/create', {
    Image: 'busybox',
    Cmd: ['sleep', '60'],
    ExposedPorts: { '80/tcp': {} },
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  const id = (JSON.parse(created) as { Id: string }).Id;
  await api(d, 'POST', `/containers/${id}/start`);
  return id;
}

runBench(main);
