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
import { lifecycle, removeAll, rssFigure, startSleepers } from './engine-api';
import { printComparison, printFigures, type FigureRow } from './report';
import { inSession, Session } from './session';

const PING_CONNECTIONS = 8;
const PING_SECONDS = 3;
const PARALLEL_CLIENTS = 4;
const PARALLEL_RUNS = 10;
export const RUNNING = 100;

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-engine.js [N] [--only berth|dockerd]', 20);
  return inSession(opts.only, async (session) => {
    const figures: FigureRow[] = [];
    figures.push({ metric: 'rss fresh (MB)', values: await session.inTurn(rssFigure), better: 'lower' });
    await lifecycleTimes(session, opts.runs);
    figures.push({ metric: '/_ping per second', values: await session.inTurn(pingRate), better: 'higher' });
    figures.push({ metric: 'parallel runs per second', values: await session.inTurn(parallelRate), better: 'higher' });
    await psTimes(session, opts.runs);
    figures.push({ metric: `rss with ${RUNNING} running (MB)`, values: await session.inTurn(rssFigure), better: 'lower' });
    printFigures(session.daemons, figures);
    for (const d of session.daemons) await removeAll(d);
  });
}

/**
 * Part a: create → start → wait → stop → rm of `busybox true` over the API, `runs` per daemon
 * after two warm-up cycles, alternating. Prints the comparison and returns the samples.
 */
export async function lifecycleTimes(session: Session, runs: number): Promise<Map<string, number[]>> {
  const cycles = await session.alternate(runs, 2, 'lifecycle', async (d) => timed(() => lifecycle(d)));
  printComparison(`create → start → wait → stop → rm of busybox true over the API: ${runs} runs per daemon, alternating`, session.daemons, cycles, session.about);
  return cycles;
}

/**
 * Part d: starts RUNNING sleeping containers in every daemon (they stay: the caller measures
 * memory with them, then removes them), then times `docker ps`, `runs` per daemon after two
 * warm-up runs, alternating; each run checks that RUNNING rows came back. Prints the comparison
 * and returns the samples.
 */
export async function psTimes(session: Session, runs: number): Promise<Map<string, number[]>> {
  for (const d of session.daemons) {
    session.check();
    await startSleepers(d, RUNNING);
  }
  const ps = await session.alternate(runs, 2, 'ps', async (d) => {
    const r = await d.dockerOk(['ps']);
    const rows = r.stdout.trim().split('\n').length - 1;
    if (rows !== RUNNING) throw new Error(`${d.name}: docker ps listed ${rows} containers, not ${RUNNING}`);
    return r.ms;
  });
  printComparison(`docker ps with ${RUNNING} running containers: ${runs} runs per daemon, alternating`, session.daemons, ps, session.about);
  return ps;
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
export async function pingRate(d: BenchDaemon): Promise<number> {
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

/** PARALLEL_CLIENTS CLIs each running PARALLEL_RUNS containers back to back; runs per second. */
export async function parallelRate(d: BenchDaemon): Promise<number> {
  const client = async () => {
    for (let i = 0; i < PARALLEL_RUNS; i++) await d.dockerOk(['run', '--rm', '--network', 'none', 'busybox', 'true']);
  };
  const ms = await timed(() => Promise.all(Array.from({ length: PARALLEL_CLIENTS }, client)));
  return (PARALLEL_CLIENTS * PARALLEL_RUNS) / (ms / 1000);
}

if (require.main === module) runBench(main);
