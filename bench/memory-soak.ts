/**
 * Memory over many container lifecycles, Berth and (when installed) Debian's dockerd side by
 * side: N cycles (default 1000) of create → start → wait → stop → remove of
 * `busybox true` on the default bridge, driven over the Engine API on each daemon's socket (the
 * CLI's own start-up would dominate the time otherwise). Each round runs one cycle per daemon.
 *
 * The resident set (VmRSS in /proc/<pid>/status) of berthd, and of dockerd plus its containerd,
 * is sampled after the first 50 cycles, every 100 after that and at the end. The figure that
 * matters is the growth from the 50-cycle sample to the last one (issue 12: under 15 MB).
 *
 *   node dist/bench/memory-soak.js [N] [--only berth|dockerd] [--gc 1]
 *
 * `--gc 1` runs berthd with `--expose-gc`; after the last sample the benchmark opens its
 * inspector (SIGUSR1), forces a full collection and prints the heap figures, which tells a leak
 * (heapUsed grows with N) from a heap V8 has simply not shrunk yet. Needs root; everything is
 * removed at the end, also after a failure or Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { parseBenchArgs, runBench } from './cli';
import { lifecycle, rssOf, totalRss } from './engine-api';
import type { BenchDaemon } from './daemons';
import { Session } from './session';

const FIRST_SAMPLE = 50;
const SAMPLE_EVERY = 100;

interface Sample {
  cycles: number;
  /** MB per process, by name (berth; dockerd, containerd). */
  rss: Record<string, number>;
}

async function main(): Promise<number> {
  const opts = parseBenchArgs(process.argv.slice(2), 'usage: node dist/bench/memory-soak.js [N] [--only berth|dockerd] [--gc 1]', 1000, { gc: 0 });
  const forceGc = opts.counts.gc > 0;
  // Only berthd is a node process among what the benchmark starts.
  if (forceGc) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --expose-gc --inspect-port=127.0.0.1:0`.trim();
  const session = new Session(opts.only);
  try {
    await session.startDaemons();
    const samples = new Map<string, Sample[]>(session.daemons.map((d) => [d.name, []]));
    const started = Date.now();
    for (let i = 1; i <= opts.runs; i++) {
      for (const d of session.daemons) {
        session.check();
        await lifecycle(d);
        if (i === FIRST_SAMPLE || i % SAMPLE_EVERY === 0 || i === opts.runs) samples.get(d.name)!.push({ cycles: i, rss: rssOf(d) });
      }
      if (i % 10 === 0) process.stdout.write(`\rcycles: ${i}/${opts.runs} (${Math.round((Date.now() - started) / 1000)} s)`);
    }
    process.stdout.write('\n');
    printSamples(opts.runs, session.daemons, samples);
    if (forceGc) {
      const berth = session.daemons.find((d) => d.name === 'berth');
      if (berth) console.log(`berth after a forced full GC: ${await heapAfterGc(berth)}`);
    }
    return 0;
  } finally {
    await session.cleanup();
  }
}

const mb = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');

function printSamples(runs: number, daemons: BenchDaemon[], samples: Map<string, Sample[]>): void {
  console.log(`\nresident memory (VmRSS, MB) over ${runs} create/start/wait/stop/rm cycles of busybox true, one per daemon per round`);
  for (const d of daemons) {
    const rows = samples.get(d.name) ?? [];
    const names = Object.keys(rows[0]?.rss ?? {});
    console.log(`${d.name}: ${'cycles'.padStart(7)} ${names.map((n) => n.padStart(11)).join(' ')}${names.length > 1 ? ' total'.padStart(12) : ''}`);
    for (const s of rows) {
      const cells = names.map((n) => mb(s.rss[n]).padStart(11)).join(' ');
      console.log(`${' '.repeat(d.name.length + 1)} ${String(s.cycles).padStart(7)} ${cells}${names.length > 1 ? mb(totalRss(s.rss)).padStart(12) : ''}`);
    }
    const first = rows.find((s) => s.cycles === FIRST_SAMPLE) ?? rows[0];
    const last = rows[rows.length - 1];
    if (first && last && last !== first) {
      console.log(`${d.name}: growth from cycle ${first.cycles} to ${last.cycles}: ${(totalRss(last.rss) - totalRss(first.rss)).toFixed(1)} MB`);
    }
  }
}

/**
 * Opens berthd's inspector (SIGUSR1; the port is the one `--inspect-port=0` picked, printed to
 * its log), runs gc() and returns process.memoryUsage() in MB.
 */
async function heapAfterGc(d: BenchDaemon): Promise<string> {
  const pid = d.memoryPids()[0]?.pid;
  const log = d.logFile;
  if (pid === undefined || log === undefined) return '(berthd is not running)';
  process.kill(pid, 'SIGUSR1');
  let url: string | undefined;
  for (let i = 0; i < 50 && !url; i++) {
    await new Promise((r) => setTimeout(r, 100));
    url = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(log, 'utf8'))?.[1];
  }
  if (!url) return '(the inspector did not open)';
  const expr = `(gc(), JSON.stringify(process.memoryUsage()))`;
  const ws = new WebSocket(url);
  try {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('message', (m: Buffer) => {
        const msg = JSON.parse(m.toString('utf8')) as { id?: number; result?: { result?: { value?: string } } };
        if (msg.id === 1) resolve(msg.result?.result?.value ?? '{}');
      });
      ws.once('error', reject);
      ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: expr, includeCommandLineAPI: true, returnByValue: true } }));
    });
    const usage = JSON.parse(reply) as Record<string, number>;
    return Object.entries(usage).map(([k, v]) => `${k} ${mb(v / 1048576)}`).join(', ') + ' (MB)';
  } finally {
    ws.close();
  }
}

runBench(main);
