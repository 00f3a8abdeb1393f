/**
 * `docker stats`: one sample of a container's resource use read from its cgroup (v1 or v2) and
 * its network namespace, in dockerd's StatsResponse shape (`[moby] api/types/container/stats.go`,
 * `daemon/stats_unix.go`). The CLI computes CPU % from `cpu_stats` against `precpu_stats` and
 * `system_cpu_usage`, and memory as usage minus inactive file pages, so those are filled exactly.
 */
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { cgroupDir } from './cgroup-files';
import type { ContainerRecord } from './types';

const NS_PER_TICK = 1e9 / 100; // USER_HZ is 100 on Linux

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage: number;
  online_cpus: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface StatsSample {
  read: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: { io_service_bytes_recursive: Array<{ major: number; minor: number; op: string; value: number }> | null };
  cpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; limit?: number; failcnt?: number; stats?: Record<string, number> };
  networks?: Record<string, Record<string, number>>;
}

const text = (path: string) => readFile(path, 'utf8').catch(() => '');
const num = async (path: string) => {
  const t = (await text(path)).trim();
  return t === '' || t === 'max' ? undefined : Number(t);
};

/** `key value` lines (memory.stat, cpu.stat) as numbers. */
function keyValues(t: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of t.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** Host CPU time of every CPU, idle included, in ns (/proc/stat `cpu` line). */
async function systemCpuUsage(): Promise<number> {
  const line = (await text('/proc/stat')).split('\n').find((l) => l.startsWith('cpu '));
  return line ? line.trim().split(/\s+/).slice(1, 8).reduce((sum, v) => sum + Number(v), 0) * NS_PER_TICK : 0;
}

/** Interfaces of the container's network namespace (`/proc/<pid>/net/dev`), loopback left out. */
async function networkStats(pid: number): Promise<Record<string, Record<string, number>> | undefined> {
  if (pid <= 0) return undefined;
  const lines = (await text(`/proc/${pid}/net/dev`)).split('\n').slice(2);
  const out: Record<string, Record<string, number>> = {};
  for (const line of lines) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = { rx_bytes: f[0], rx_packets: f[1], rx_errors: f[2], rx_dropped: f[3], tx_bytes: f[8], tx_packets: f[9], tx_errors: f[10], tx_dropped: f[11] };
  }
  return Object.keys(out).length ? out : undefined;
}

/** One sample of container `id` (its init process `pid` for the network namespace). */
export async function readStats(version: 1 | 2, id: string, pid: number): Promise<StatsSample> {
  const [cg, system, networks] = await Promise.all([version === 2 ? readV2(id) : readV1(id), systemCpuUsage(), networkStats(pid)]);
  return { read: new Date().toISOString(), ...cg, cpu_stats: { ...cg.cpu_stats, system_cpu_usage: system }, ...(networks ? { networks } : {}) };
}

/** Memory limits above the host's memory mean "none": dockerd shows the host's memory then. */
const clampLimit = (limit: number | undefined) => (limit === undefined || limit > totalmem() ? totalmem() : limit);

async function readV1(id: string): Promise<Omit<StatsSample, 'read'>> {
  const dir = (c: string) => cgroupDir(1, id, c);
  const [usage, percpu, usageSys, usageUser, cpuStat, memUsage, memMax, memLimit, memFail, memStat, pids, pidsMax, blkio] = await Promise.all([
    num(join(dir('cpuacct'), 'cpuacct.usage')),
    text(join(dir('cpuacct'), 'cpuacct.usage_percpu')),
    num(join(dir('cpuacct'), 'cpuacct.usage_sys')),
    num(join(dir('cpuacct'), 'cpuacct.usage_user')),
    text(join(dir('cpu'), 'cpu.stat')),
    num(join(dir('memory'), 'memory.usage_in_bytes')),
    num(join(dir('memory'), 'memory.max_usage_in_bytes')),
    num(join(dir('memory'), 'memory.limit_in_bytes')),
    num(join(dir('memory'), 'memory.failcnt')),
    text(join(dir('memory'), 'memory.stat')),
    num(join(dir('pids'), 'pids.current')),
    num(join(dir('pids'), 'pids.max')),
    text(join(dir('blkio'), 'blkio.throttle.io_service_bytes_recursive')),
  ]);
  const throttle = keyValues(cpuStat);
  const io: Array<{ major: number; minor: number; op: string; value: number }> = [];
  for (const line of blkio.split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) io.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3].toLowerCase(), value: Number(m[4]) });
  }
  return {
    pids_stats: { current: pids, ...(pidsMax !== undefined ? { limit: pidsMax } : {}) },
    blkio_stats: { io_service_bytes_recursive: io.length ? io : null },
    cpu_stats: {
      cpu_usage: { total_usage: usage ?? 0, percpu_usage: percpu.trim().split(/\s+/).filter(Boolean).map(Number), usage_in_kernelmode: usageSys ?? 0, usage_in_usermode: usageUser ?? 0 },
      system_cpu_usage: 0,
      online_cpus: cpus().length,
      throttling_data: { periods: throttle.nr_periods ?? 0, throttled_periods: throttle.nr_throttled ?? 0, throttled_time: throttle.throttled_time ?? 0 },
    },
    memory_stats: { usage: memUsage, max_usage: memMax, limit: clampLimit(memLimit), failcnt: memFail, stats: keyValues(memStat) },
  };
}

async function readV2(id: string): Promise<Omit<StatsSample, 'read'>> {
  const dir = cgroupDir(2, id, '');
  const [cpuStat, memUsage, memLimit, memStat, pids, pidsMax, ioStat] = await Promise.all([
    text(join(dir, 'cpu.stat')),
    num(join(dir, 'memory.current')),
    num(join(dir, 'memory.max')),
    text(join(dir, 'memory.stat')),
    num(join(dir, 'pids.current')),
    num(join(dir, 'pids.max')),
    text(join(dir, 'io.stat')),
  ]);
  const cpu = keyValues(cpuStat);
  const io: Array<{ major: number; minor: number; op: string; value: number }> = [];
  for (const line of ioStat.split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const f = Object.fromEntries(kv.map((x) => x.split('=')).map(([k, v]) => [k, Number(v)]));
    io.push({ major: Number(m[1]), minor: Number(m[2]), op: 'read', value: f.rbytes ?? 0 }, { major: Number(m[1]), minor: Number(m[2]), op: 'write', value: f.wbytes ?? 0 });
  }
  return {
    pids_stats: { current: pids, ...(pidsMax !== undefined ? { limit: pidsMax } : {}) },
    blkio_stats: { io_service_bytes_recursive: io.length ? io : null },
    cpu_stats: {
      cpu_usage: { total_usage: (cpu.usage_usec ?? 0) * 1000, usage_in_kernelmode: (cpu.system_usec ?? 0) * 1000, usage_in_usermode: (cpu.user_usec ?? 0) * 1000 },
      system_cpu_usage: 0,
      online_cpus: cpus().length,
      throttling_data: { periods: cpu.nr_periods ?? 0, throttled_periods: cpu.nr_throttled ?? 0, throttled_time: (cpu.throttled_usec ?? 0) * 1000 },
    },
    memory_stats: { usage: memUsage, limit: clampLimit(memLimit), stats: keyValues(memStat) },
  };
}

/** What dockerd sends for a container that is not running: zeros and Go's zero time. */
export function emptyStats(): StatsSample {
  return {
    read: '0001-01-01T00:00:00Z',
    pids_stats: {},
    blkio_stats: { io_service_bytes_recursive: null },
    cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 0, online_cpus: 0, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: {},
  };
}

/** One sample of GET /containers/{id}/stats: a reading, the one before it, and the container. */
export type ContainerStats = StatsSample & { preread: string; precpu_stats: CpuStats; name: string; id: string };

const STATS_INTERVAL_MS = 1000;

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
  signal?: AbortSignal;
}

/**
 * Samples about a second apart, each with the one before as `precpu_stats` (none for a one-shot
 * request); one sample unless `stream`. Ends when the container stops or the signal aborts.
 */
export async function* statsSamples(c: ContainerRecord, version: 1 | 2, opts: StatsOptions): AsyncGenerator<ContainerStats> {
  const ids = { name: c.name, id: c.id };
  const sample = () => readStats(version, c.id, c.state.Pid);
  const empty = emptyStats();
  if (!c.state.Running) {
    yield { ...empty, preread: empty.read, precpu_stats: empty.cpu_stats, ...ids };
    return;
  }
  const oneShot = opts.oneShot && !opts.stream;
  let pre = oneShot ? empty : await sample();
  if (!oneShot) await abortableSleep(STATS_INTERVAL_MS, opts.signal);
  while (!opts.signal?.aborted && c.state.Running) {
    const now = await sample();
    yield { ...now, preread: pre.read, precpu_stats: pre.cpu_stats, ...ids };
    if (!opts.stream) return;
    pre = now;
    await abortableSleep(STATS_INTERVAL_MS, opts.signal);
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
