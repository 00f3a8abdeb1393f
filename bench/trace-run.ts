/**
 * Where the time of one `docker run --rm busybox true` goes, seen from the client: the stock CLI
 * talks to each daemon through a recording proxy socket, which notes when every request was
 * sent, when its answer began and when it ended (for the hijacked attach: when the stream
 * closed). Berth and (when installed) dockerd side by side; medians over N runs after warm-up.
 *
 *   node dist/bench/trace-run.js [N] [--only berth|dockerd] [--network-none 1] [--phases 1]
 *
 * `--phases 1` also starts berthd at debug level and prints, from its log, the median time of
 * each phase of the start, the exit and the removal (the debug log costs a little time itself).
 *
 * Read it as a timeline in ms from the CLI's start: `wait` answered minus `start` answered is
 * the container's run plus the time the daemon took to notice the exit; `DELETE`-less runs
 * (`--rm`) end when the daemon has removed the container and answered `wait?condition=removed`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { parseBenchArgs, runBench } from './cli';
import { DOCKER_CLI, type BenchDaemon } from './daemons';
import { Session } from './session';
import { median } from './stats';

const WARMUP_RUNS = 2;

interface RequestTrace {
  /** `POST /containers/{id}/start` (version prefix dropped, ids and names generalised). */
  label: string;
  sent: number;
  answered?: number;
  done?: number;
}

/** A proxy in front of a daemon's socket that records every request's timeline. */
class TracingProxy {
  private readonly server: Server;
  private traces: RequestTrace[] = [];
  private t0 = 0;

  constructor(
    readonly socket: string,
    target: string,
  ) {
    this.server = createServer((client) => {
      const upstream = createConnection(target);
      // Requests on this connection, in order; a keep-alive connection carries several.
      const mine: RequestTrace[] = [];
      client.on('data', (chunk: Buffer) => {
        const line = requestLine(chunk);
        if (line) {
          const trace = { label: line, sent: this.now() };
          mine.push(trace);
          this.traces.push(trace);
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        const current = mine[mine.length - 1];
        if (current) {
          current.answered ??= this.now();
          current.done = this.now();
        }
        client.write(chunk);
      });
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socket, resolve));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Starts a new run's timeline. */
  begin(): void {
    this.traces = [];
    this.t0 = performance.now();
  }

  collect(): RequestTrace[] {
    return this.traces;
  }

  private now(): number {
    return performance.now() - this.t0;
  }
}

/** `POST /containers/{id}/wait?condition=removed` from the first line of a request, if it is one. */
function requestLine(chunk: Buffer): string | undefined {
  const m = /^(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP\/1\.[01]\r\n/.exec(chunk.subarray(0, 2048).toString('latin1'));
  if (!m) return undefined;
  const path = m[2]
    .replace(/^\/v[0-9.]+/, '')
    .replace(/[0-9a-f]{64}/g, '{id}')
    .replace(/\/containers\/[^/?]+\//, '/containers/{id}/');
  return `${m[1]} ${path}`;
}

async function traceOnce(d: BenchDaemon, proxy: TracingProxy, runArgs: string[]): Promise<{ traces: RequestTrace[]; exit: number }> {
  proxy.begin();
  const env = { ...d.env, DOCKER_HOST: `unix://${proxy.socket}` };
  const start = performance.now();
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(DOCKER_CLI, runArgs, { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? -1));
  });
  if (code !== 0) throw new Error(`docker ${runArgs.join(' ')} against ${d.name} exited ${code}\n${d.logTail()}`);
  return { traces: proxy.collect(), exit: performance.now() - start };
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/trace-run.js [N] [--only berth|dockerd] [--network-none 1] [--phases 1]', 10, { 'network-none': 0, phases: 0 });
  if (opts.counts.phases) process.env.BERTH_BENCH_DAEMON_ARGS = `${process.env.BERTH_BENCH_DAEMON_ARGS ?? ''} --log-level debug`;
  const runArgs = ['run', '--rm', ...(opts.counts['network-none'] ? ['--network', 'none'] : []), 'busybox', 'true'];
  const session = new Session(opts.only);
  const proxies: TracingProxy[] = [];
  try {
    await session.startDaemons();
    for (const d of session.daemons) {
      const proxy = new TracingProxy(join(session.dir, `trace-${d.name}.sock`), d.socket);
      await proxy.listen();
      proxies.push(proxy);
    }
    for (const [i, d] of session.daemons.entries()) {
      session.check();
      for (let w = 0; w < WARMUP_RUNS; w++) await traceOnce(d, proxies[i], runArgs);
      const runs: Array<{ traces: RequestTrace[]; exit: number }> = [];
      for (let r = 0; r < opts.runs; r++) runs.push(await traceOnce(d, proxies[i], runArgs));
      printTimeline(d.name, runArgs, runs);
      if (opts.counts.phases && d.logFile) printPhases(d.logFile, opts.runs);
    }
    return 0;
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await session.cleanup();
  }
}

function printTimeline(name: string, runArgs: string[], runs: Array<{ traces: RequestTrace[]; exit: number }>): void {
  console.log(`\n${name}: docker ${runArgs.join(' ')} — median of ${runs.length} runs, ms from the CLI's start`);
  console.log(`${'request'.padEnd(48)} ${'sent'.padStart(7)} ${'answered'.padStart(9)} ${'done'.padStart(7)}`);
  // Requests in the order of the first run; a label repeated within a run gets a counter.
  const keyed = runs.map((r) => {
    const seen = new Map<string, number>();
    return r.traces.map((t) => {
      const n = (seen.get(t.label) ?? 0) + 1;
      seen.set(t.label, n);
      return { key: n > 1 ? `${t.label} #${n}` : t.label, t };
    });
  });
  const fmt = (xs: Array<number | undefined>) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length ? median(v).toFixed(1) : '-';
  };
  for (const { key } of keyed[0]) {
    const same = keyed.map((k) => k.find((x) => x.key === key)?.t).filter((t): t is RequestTrace => t !== undefined);
    console.log(`${key.padEnd(48)} ${fmt(same.map((t) => t.sent)).padStart(7)} ${fmt(same.map((t) => t.answered)).padStart(9)} ${fmt(same.map((t) => t.done)).padStart(7)}`);
  }
  console.log(`${'(CLI exited)'.padEnd(48)} ${''.padStart(7)} ${''.padStart(9)} ${fmt(runs.map((r) => r.exit)).padStart(7)}`);
}

/** Medians of the phases berthd logged at debug level for the last `runs` containers. */
function printPhases(logFile: string, runs: number): void {
  const byMessage = new Map<string, Array<Record<string, number>>>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"phases"')) continue;
    try {
      const entry = JSON.parse(line) as { msg: string; phases: Record<string, number> };
      const list = byMessage.get(entry.msg) ?? [];
      list.push(entry.phases);
      byMessage.set(entry.msg, list);
    } catch {
      // not a log line of ours
    }
  }
  for (const [msg, all] of byMessage) {
    const last = all.slice(-runs);
    const names = Object.keys(last[0] ?? {});
    const text = names.map((n) => `${n} ${median(last.map((p) => p[n] ?? 0)).toFixed(1)}`).join(', ');
    console.log(`  berthd ${msg}: ${text}`);
  }
}

runBench(main);
