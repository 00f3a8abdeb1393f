/**
 * The engine's own figures of issue 13, Berth and (when installed) Debian's dockerd side by side:
 *
 *  a. create → start → wait → stop → rm of `busybox true` over the API (default bridge), N
 *     cycles per daemon, alternating;
 *  b. GET /_ping throughput over 8 keep-alive connections, PING_SECONDS per daemon, in turn;
 *  c. parallel runs: 4 clients each running `docker run --rm --network none busybox true`
 *     PARALLEL_RUNS times at once, reported as runs per second;
 *  d. `docker ps` with 100 running containers (`sleep`, `--network none`), N runs, alternating;
 *  e. resident memory: fresh (after the image load) and with the 100 containers running.
 *
 *   node dist/bench/run-engine.js [N] [--only berth|dockerd]
 *
 * Needs root; everything is removed at the end, also after a failure or Ctrl-C.
 */
import { connect } from 'node:net';
import { parseBenchArgs, runBench } from './cli';
import type { BenchDaemon } from './daemons';
import { api, lifecycle, rssOf, totalRss } from './engine-api';
import { printComparison } from './report';
import { Session } from './session';
import { ratio } from './stats';

const PING_CONNECTIONS = 8;
const PING_SECONDS = 3;
const PARALLEL_CLIENTS = 4;
const PARALLEL_RUNS = 10;
const RUNNING = 100;

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-engine.js [N] [--only berth|dockerd]', 20);
  const session = new Session(opts.only);
  const figures = new Map<string, Record<string, number>>(session.daemons.map((d) => [d.name, {}]));
  const put = (d: BenchDaemon, key: string, v: number) => (figures.get(d.name)![key] = v);
  try {
    await session.startDaemons();
    for (const d of session.daemons) put(d, 'rss fresh (MB)', totalRss(rssOf(d)));

    const cycles = await session.alternate(opts.runs, 2, 'lifecycle', async (d) => timed(() => lifecycle(d)));
    printComparison(`create → start → wait → stop → rm of busybox true over the API: ${opts.runs} runs per daemon, alternating`, session.daemons, cycles, session.about);

    for (const d of session.daemons) {
      session.check();
      put(d, '/_ping per second', await pingRate(d));
    }

    for (const d of session.daemons) {
      session.check();
      put(d, 'parallel runs per second', await parallelRate(d));
    }

    for (const d of session.daemons) {
      session.check();
      await startSleepers(d, RUNNING);
    }
    const ps = await session.alternate(opts.runs, 2, 'ps', async (d) => {
      const r = await d.dockerOk(['ps']);
      const rows = r.stdout.trim().split('\n').length - 1;
      if (rows !== RUNNING) throw new Error(`${d.name}: docker ps listed ${rows} containers, not ${RUNNING}`);
      return r.ms;
    });
    printComparison(`docker ps with ${RUNNING} running containers: ${opts.runs} runs per daemon, alternating`, session.daemons, ps, session.about);
    for (const d of session.daemons) put(d, `rss with ${RUNNING} running (MB)`, totalRss(rssOf(d)));

    printFigures(session.daemons, figures);
    for (const d of session.daemons) await removeAll(d);
    return 0;
  } finally {
    await session.cleanup();
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

/**
 * Requests answered per second by PING_CONNECTIONS connections, each sending its next request
 * when the last answer is complete. Plain sockets with a minimal parser: node's HTTP client
 * costs more CPU per request than either daemon, and on 2 cores it would be what is measured.
 */
async function pingRate(d: BenchDaemon): Promise<number> {
  const request = Buffer.from('GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const until = performance.now() + PING_SECONDS * 1000;
  const connection = () =>
    new Promise<number>((resolve, reject) => {
      let answered = 0;
      let buffered = '';
      const socket = connect(d.socket, () => socket.write(request));
      socket.setEncoding('latin1');
      socket.on('error', reject);
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.slice(0, end);
          if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`${d.name}: /_ping answered ${head.split('\r\n')[0]}`));
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          buffered = buffered.slice(end + 4 + length);
          answered++;
          if (performance.now() >= until) {
            socket.destroy();
            return resolve(answered);
          }
          socket.write(request);
        }
      });
    });
  const t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: PING_CONNECTIONS }, connection));
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - t0) / 1000);
}

/** PARALLEL_CLIENTS CLIs each running PARALLEL_RUNS containers back to back. */
async function parallelRate(d: BenchDaemon): Promise<number> {
  const client = async () => {
    for (let i = 0; i < PARALLEL_RUNS; i++) await d.dockerOk(['run', '--rm', '--network', 'none', 'busybox', 'true']);
  };
  const ms = await timed(() => Promise.all(Array.from({ length: PARALLEL_CLIENTS }, client)));
  return (PARALLEL_CLIENTS * PARALLEL_RUNS) / (ms / 1000);
}

async function startSleepers(d: BenchDaemon, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const created = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '100000'], HostConfig: { NetworkMode: 'none' } });
    await api(d, 'POST', `/containers/${(JSON.parse(created) as { Id: string }).Id}/start`);
    if ((i + 1) % 10 === 0) process.stdout.write(`\r${d.name}: ${i + 1}/${n} containers running`);
  }
  process.stdout.write('\n');
}

async function removeAll(d: BenchDaemon): Promise<void> {
  const list = JSON.parse(await api(d, 'GET', '/containers/json?all=1')) as Array<{ Id: string }>;
  for (let i = 0; i < list.length; i += 10) {
    await Promise.all(list.slice(i, i + 10).map((c) => api(d, 'DELETE', `/containers/${c.Id}?force=1`)));
  }
}

function printFigures(daemons: BenchDaemon[], figures: Map<string, Record<string, number>>): void {
  const keys = Object.keys(figures.get(daemons[0].name) ?? {});
  console.log(`\n${'figure'.padEnd(30)} ${daemons.map((d) => d.name.padStart(10)).join(' ')}${daemons.length > 1 ? '  berth/dockerd'.padStart(16) : ''}`);
  for (const k of keys) {
    const vals = daemons.map((d) => figures.get(d.name)![k]);
    const r = daemons.length > 1 ? ratio(vals[0], vals[1]).padStart(16) : '';
    console.log(`${k.padEnd(30)} ${vals.map((v) => (v < 100 ? v.toFixed(1) : Math.round(v).toString()).padStart(10)).join(' ')}${r}`);
  }
  console.log('(rates: above 1 Berth is faster; memory: below 1 Berth is smaller; dockerd: with its containerd)');
}

runBench(main);
