/**
 * Bridge networking, Berth and (when installed) Debian's dockerd side by side, alternating:
 *
 *  a. `docker run --rm --network <net> busybox true` on a user-defined network each daemon
 *     creates first (`docker network create --subnet 10.198.X.0/24`), N runs (default 20);
 *  b. from spawning `docker run -d -p 127.0.0.1:<free port>:80 busybox sh -c '... httpd ...'` to
 *     the first HTTP 200 from http://127.0.0.1:<port>/ (polled every 10 ms once the CLI has
 *     returned, 10 s at most), then `docker rm -f`, M runs (default 10).
 *
 *   node dist/bench/run-network.js [N] [--http-runs M] [--only berth|dockerd]
 *
 * Needs root. Traffic goes only to 127.0.0.1 and the benchmark's own bridges; daemons,
 * containers, networks, bridges, iptables rules, mounts and files are removed at the end, also
 * after a failure or Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import type { BenchDaemon, CommandResult } from './daemons';
import { freePort } from '../test/integration/harness';
import { parseBenchArgs, runBench } from './cli';
import { printComparison } from './report';
import { Session } from './session';

const WARMUP_RUNS = 2;
const HTTP_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 10;
const HTTPD_SCRIPT = 'mkdir -p /w && echo ok > /w/index.html && exec httpd -f -p 80 -h /w';
const USAGE = 'usage: node dist/bench/run-network.js [N] [--http-runs M] [--only berth|dockerd]';

/** One GET; resolves with the status code, or the error's message when there was no response. */
function httpGet(port: number, timeoutMs: number): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    req.once('error', (err) => resolve({ error: err.message }));
    req.once('timeout', () => {
      req.destroy();
      resolve({ error: `no response within ${Math.round(timeoutMs)} ms` });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const elapsedMs = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/** `docker <args>` failed or misbehaved: the command, its output and the daemon's log. */
function failure(d: BenchDaemon, what: string, args: string[], r?: CommandResult, extra = ''): Error {
  const cli = r ? `\nexit code ${r.code}\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}` : '';
  return new Error(`${d.name}: ${what}\ncommand: docker ${args.join(' ')}${cli}${extra}\n--- ${d.name} log (tail) ---\n${d.logTail()}`);
}

/** What the daemon says about a container that did not answer, for the failure report. */
async function diagnose(d: BenchDaemon, id: string): Promise<string> {
  const parts: string[] = [];
  for (const args of [
    ['ps', '-a', '--no-trunc', '--filter', `id=${id}`, '--format', '{{.ID}} {{.Status}} {{.Ports}}'],
    ['port', id],
    ['inspect', '--format', '{{json .NetworkSettings.Networks}} {{json .NetworkSettings.Ports}}', id],
    ['logs', id],
  ]) {
    const r = await d.docker(args, 20_000);
    parts.push(`$ docker ${args.join(' ')}  (exit ${r.code})\n${(r.stdout + r.stderr).trim()}`);
  }
  return `\n${parts.join('\n')}`;
}

/**
 * Part b: from spawning `docker run -d -p ...` to the first HTTP 200, in ms. Polling starts when
 * the CLI has returned (as a script's `docker run -d ...; until curl ...` would), then one GET
 * every 10 ms; a GET may take as long as the 10 s deadline leaves, so a slow answer counts as
 * slow rather than as a failed attempt.
 */
async function timeToFirstResponse(d: BenchDaemon): Promise<number> {
  const port = await freePort();
  const args = ['run', '-d', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', HTTPD_SCRIPT];
  const start = process.hrtime.bigint();
  const r = await d.docker(args, HTTP_TIMEOUT_MS + 50_000);
  if (r.code !== 0) throw failure(d, 'docker run -d failed', args, r);
  const id = r.stdout.trim();
  let last = '';
  let ready: number | undefined;
  while (ready === undefined && elapsedMs(start) < HTTP_TIMEOUT_MS) {
    const res = await httpGet(port, Math.max(1, HTTP_TIMEOUT_MS - elapsedMs(start)));
    if (res.status === 200) ready = elapsedMs(start);
    else {
      last = res.status !== undefined ? `HTTP ${res.status}` : res.error!;
      await sleep(POLL_INTERVAL_MS);
    }
  }
  if (ready === undefined) {
    const extra = `\nlast attempt on http://127.0.0.1:${port}/: ${last}${await diagnose(d, id)}`;
    await d.docker(['rm', '-f', id], 60_000);
    throw failure(d, `no HTTP 200 from http://127.0.0.1:${port}/ within ${HTTP_TIMEOUT_MS} ms of spawning docker run`, args, r, extra);
  }
  const rm = await d.docker(['rm', '-f', id], 60_000);
  if (rm.code !== 0) throw failure(d, 'docker rm -f failed', ['rm', '-f', id], rm);
  return ready;
}

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE, 20, { 'http-runs': 10 });
  const opts = { runs: args.runs, httpRuns: args.counts['http-runs'], only: args.only };
  const session = new Session(opts.only);
  try {
    await session.startDaemons();
    const network = `bench-${randomBytes(3).toString('hex')}`;
    for (const d of session.daemons) {
      session.check();
      const { subnet, bridge } = await d.createNetwork(network);
      console.log(`${d.name}: network ${network} on ${subnet}, bridge ${bridge}`);
    }

    const runArgs = ['run', '--rm', '--network', network, 'busybox', 'true'];
    const runs = await session.alternate(opts.runs, WARMUP_RUNS, 'run --rm --network', async (d) => {
      const r = await d.docker(runArgs, 120_000);
      if (r.code !== 0) throw failure(d, 'docker run on the user-defined network failed', runArgs, r);
      return r.ms;
    });
    printComparison(`docker ${runArgs.join(' ')}: ${opts.runs} runs per daemon after ${WARMUP_RUNS} warm-up runs, alternating`, session.daemons, runs, session.about);

    const http = await session.alternate(opts.httpRuns, WARMUP_RUNS, 'run -d -p + HTTP', timeToFirstResponse);
    printComparison(
      `docker run -d -p 127.0.0.1:<port>:80 busybox httpd until the first HTTP 200: ${opts.httpRuns} runs per daemon after ${WARMUP_RUNS} warm-up runs, alternating`,
      session.daemons,
      http,
      session.about,
    );

    for (const d of session.daemons) await d.removeNetwork(network);
    return 0;
  } finally {
    await session.cleanup();
  }
}

runBench(main);
