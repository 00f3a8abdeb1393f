/**
 * How soon each daemon notices that a container's process has ended and says so to a waiting
 * client, Berth and (when installed) Debian's dockerd side by side, alternating.
 *
 * Each run creates, over the API, a busybox container on `--network none` with a host directory
 * bind-mounted at /m, running `sh -c 'sleep 0.2; echo | ts %.s > /m/t'`; opens
 * `POST /containers/{id}/wait?condition=next-exit` and, once its headers are in (the waiter is
 * registered), starts the container. The figure is the moment the first byte of the wait's
 * answer arrives, on the realtime clock, minus the realtime timestamp busybox `ts` wrote
 * (gettimeofday, microseconds) just before the container's last processes exit. The container
 * is then removed (untimed). N runs per daemon (default 20) after two warm-up runs.
 *
 *   node dist/bench/run-exit.js [N] [--only berth|dockerd]
 *
 * Needs root; everything is removed at the end, also after a failure or Ctrl-C.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseBenchArgs, runBench } from './cli';
import type { BenchDaemon } from './daemons';
import { api } from './engine-api';
import { printComparison } from './report';
import { inSession, Session } from './session';

const WARMUP_RUNS = 2;
const WAIT_TIMEOUT_MS = 30_000;
/** busybox's date has no %N; its ts prints gettimeofday's seconds and microseconds. */
const SCRIPT = 'sleep 0.2; echo | ts %.s > /m/t';

/**
 * What to add to performance.now() (monotonic, fine-grained) to read the realtime clock in ms
 * with sub-millisecond resolution: taken at the next tick of Date.now() (realtime, whole ms),
 * which it waits for (under 1 ms).
 */
function realtimeOffset(): number {
  const before = Date.now();
  let tick = Date.now();
  while (tick === before) tick = Date.now();
  return tick - performance.now();
}

/**
 * Opens `wait?condition=next-exit` on the container; resolves once the answer's headers are in
 * (both daemons send them when the waiter is registered) with the answer to come: the
 * performance.now() of its first body byte, and the body.
 */
function openWait(d: BenchDaemon, id: string): Promise<{ answer: Promise<{ at: number; body: string }> }> {
  return new Promise((opened, failed) => {
    const req = request({ socketPath: d.socket, method: 'POST', path: `/v1.41/containers/${id}/wait?condition=next-exit` }, (res) => {
      const answer = new Promise<{ at: number; body: string }>((resolve, reject) => {
        let at: number | undefined;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          at ??= performance.now();
          chunks.push(c);
        });
        res.on('end', () => resolve({ at: at ?? performance.now(), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        req.on('error', reject);
      });
      if (res.statusCode !== 200) {
        void answer.then(({ body }) => failed(new Error(`wait on ${d.name}: ${res.statusCode} ${body}\n--- ${d.name} log ---\n${d.logTail()}`)), failed);
        return;
      }
      opened({ answer });
    });
    req.on('error', failed);
    // A daemon that never answers fails the run instead of hanging it.
    req.setTimeout(WAIT_TIMEOUT_MS, () => req.destroy(new Error(`${d.name}: no answer to wait?condition=next-exit within ${WAIT_TIMEOUT_MS} ms\n--- ${d.name} log ---\n${d.logTail()}`)));
    req.end();
  });
}

/** One run (see the file's comment): ms from the timestamp the container wrote to the wait's answer. */
export async function exitNotice(d: BenchDaemon, hostDir: string): Promise<number> {
  mkdirSync(hostDir, { recursive: true });
  const stamp = join(hostDir, 't');
  rmSync(stamp, { force: true });
  const created = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', SCRIPT], HostConfig: { NetworkMode: 'none', Binds: [`${hostDir}:/m`] } });
  const id = (JSON.parse(created) as { Id: string }).Id;
  const { answer } = await openWait(d, id);
  // Anchored just before the start: the two clocks cannot drift apart measurably in a second.
  const offset = realtimeOffset();
  await api(d, 'POST', `/containers/${id}/start`);
  const { at, body } = await answer;
  const status = (JSON.parse(body) as { StatusCode?: number }).StatusCode;
  const text = readFileSync(stamp, 'utf8');
  await api(d, 'DELETE', `/containers/${id}`);
  if (status !== 0) throw new Error(`${d.name}: the container exited ${status} (wait answered ${body.trim()})`);
  const m = /^(\d+)\.(\d{6})\b/.exec(text);
  if (!m) throw new Error(`${d.name}: the container wrote ${JSON.stringify(text)}, not a timestamp`);
  return offset + at - (Number(m[1]) * 1000 + Number(m[2]) / 1000);
}

/** `runs` per daemon after the warm-up, alternating; prints the comparison and returns the samples. */
export async function exitNoticeTimes(session: Session, runs: number): Promise<Map<string, number[]>> {
  const samples = await session.alternate(runs, WARMUP_RUNS, 'exit noticed', (d) => exitNotice(d, join(session.dir, `exit-${d.name}`)));
  printComparison(`exit noticed: from the container's last timestamp to the answer of wait?condition=next-exit: ${runs} runs per daemon after ${WARMUP_RUNS} warm-up runs, alternating`, session.daemons, samples, session.about);
  return samples;
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/run-exit.js [N] [--only berth|dockerd]', 20);
  return inSession(opts.only, async (session) => void (await exitNoticeTimes(session, opts.runs)));
}

if (require.main === module) runBench(main);
