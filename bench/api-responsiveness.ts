/**
 * Is the API still answering while containers start? Berth and (when installed) Debian's dockerd
 * side by side: per daemon and round, 20 containers with a published port
 * (`-p 127.0.0.1::80`, busybox sleeping) are created and started concurrently while 200
 * clients list containers (`GET /containers/json?all=1`) over and over. Every list request's
 * latency is recorded; the figure that matters is the p99 (issue 12: under 100 ms).
 *
 * By default each client lists back to back (a closed loop: the load follows the daemon's
 * speed). With `--pace MS` each client sends one list every MS ms on a fixed schedule, whatever
 * the answers take, starting at staggered offsets so the clients do not fire together. Berth's
 * event-loop delay (p99 and max per round) is read from berthd itself.
 *
 *   node dist/bench/api-responsiveness.js [rounds] [--starts 20] [--clients 200] [--pace MS] [--only berth|dockerd]
 *
 * Needs root; the containers are removed after each round and the daemons at the end.
 */
import { setPriority } from 'node:os';
import { parseBenchArgs, runBench } from './cli';
import { BerthDaemon, type BenchDaemon } from './daemons';
import { api } from './engine-api';
import { Session } from './session';
import { ms, percentile } from './stats';
import type { EventLoopDelay } from '../src/event-loop-delay';

async function main(): Promise<number> {
  const usage = 'usage: node dist/bench/api-responsiveness.js [rounds] [--starts 20] [--clients 200] [--pace MS] [--only berth|dockerd]';
  const opts = parseBenchArgs(process.argv.slice(2), usage, 3, { starts: 20, clients: 200, pace: 0 });
  const { starts: startCount, clients: clientCount, pace } = opts.counts;
  const session = new Session(opts.only);
  try {
    await session.startDaemons();
    // The load generator must not be what is slow: it outranks both daemons for the CPU.
    try {
      setPriority(-10);
    } catch {
      console.log('(could not raise the benchmark\'s priority; latencies include its own queueing)');
    }
    const lists = new Map<string, number[]>(session.daemons.map((d) => [d.name, []]));
    const starts = new Map<string, number[]>(session.daemons.map((d) => [d.name, []]));
    const loops = new Map<string, EventLoopDelay[]>(session.daemons.map((d) => [d.name, []]));
    for (let round = 1; round <= opts.runs; round++) {
      for (const d of session.daemons) {
        session.check();
        const berth = d instanceof BerthDaemon ? d : undefined;
        await berth?.eventLoopDelay(); // starts the round's count
        const r = await loadRound(d, startCount, clientCount, pace);
        const loop = await berth?.eventLoopDelay();
        lists.get(d.name)!.push(...r.lists);
        starts.get(d.name)!.push(r.startAllMs);
        if (loop) loops.get(d.name)!.push(loop);
        const loopText = loop ? `, event loop delay p99 ${loop.p99} / max ${loop.max} ms` : '';
        console.log(`  ${d.name}: ${r.lists.length} lists, p99 ${ms(percentile(r.lists, 99))} ms, all started in ${ms(r.startAllMs)} ms${loopText}`);
      }
      console.log(`round ${round}/${opts.runs} done`);
    }
    const load = pace ? `${clientCount} clients each listing every ${pace} ms` : `${clientCount} clients listing back to back`;
    console.log(`\nGET /containers/json?all=1 latency (ms) from ${load} while ${startCount} containers with a published port start concurrently`);
    console.log(
      `${'daemon'.padEnd(8)} ${'requests'.padStart(9)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)} ${'all started (median ms)'.padStart(25)} ${'loop p99'.padStart(9)} ${'loop max'.padStart(9)}`,
    );
    for (const d of session.daemons) {
      const l = lists.get(d.name)!;
      const s = starts.get(d.name)!;
      const e = loops.get(d.name)!;
      const loopP99 = e.length ? ms(percentile(e.map((x) => x.p99), 50)) : '-';
      const loopMax = e.length ? ms(Math.max(...e.map((x) => x.max))) : '-';
      console.log(
        `${d.name.padEnd(8)} ${String(l.length).padStart(9)} ${ms(percentile(l, 50)).padStart(8)} ${ms(percentile(l, 95)).padStart(8)} ${ms(percentile(l, 99)).padStart(8)} ${ms(percentile(l, 100)).padStart(8)} ${ms(percentile(s, 50)).padStart(25)} ${loopP99.padStart(9)} ${loopMax.padStart(9)}`,
      );
    }
    console.log('(loop p99: median over rounds of berthd\'s event-loop delay p99; loop max: the largest delay seen)');
    return 0;
  } finally {
    await session.cleanup();
  }
}

/** One round: the concurrent starts with the list clients running until the last start returns. */
async function loadRound(d: BenchDaemon, startCount: number, clientCount: number, pace: number): Promise<{ lists: number[]; startAllMs: number }> {
  const lists: number[] = [];
  let starting = true;
  const list = async () => {
    const t0 = performance.now();
    await api(d, 'GET', '/containers/json?all=1');
    lists.push(performance.now() - t0);
  };
  const closedLoop = async () => {
    while (starting) await list();
  };
  // Sends on a fixed schedule: a slow answer delays nothing but itself (no coordinated omission).
  const paced = async (i: number) => {
    const inFlight: Array<Promise<void>> = [];
    let next = performance.now() + (i * pace) / clientCount;
    while (starting) {
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
      if (!starting) break;
      inFlight.push(list());
      next += pace;
    }
    await Promise.all(inFlight);
  };
  const clients = Array.from({ length: clientCount }, (_, i) => (pace ? paced(i) : closedLoop()));
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
