/**
 * ContainerStats/ListContainerStats and PodSandboxStats/ListPodSandboxStats: one cgroup sample
 * of each container (the engine's stats.ts) in the CRI's units: cumulative CPU ns and, against
 * the previous sample, nano-cores; memory working set (usage minus inactive file pages, as
 * cAdvisor and containerd compute it); the writable layer's bytes and inodes.
 */
import type { ContainerEngine } from '../engine/containers/compose';
import type { StatsSample } from '../engine/containers/stats';
import type { ContainerRecord } from '../engine/containers/types';
import { treeSize } from '../engine/tree-size';
import { ANNOTATIONS_LABEL, METADATA_LABEL, parseLabel, userLabels } from './cri-labels';
import { criRecords, matchesIdAndLabels } from './cri-records';
import { criContainers, getContainer } from './containers';
import { containerSummary } from './container-status';
import { getSandbox } from './sandboxes';
import type { ContainerStats } from './generated/runtime/v1/ContainerStats';
import type { CpuUsage } from './generated/runtime/v1/CpuUsage';
import type { MemoryUsage } from './generated/runtime/v1/MemoryUsage';
import type { NetworkUsage } from './generated/runtime/v1/NetworkUsage';
import type { PodSandboxStats } from './generated/runtime/v1/PodSandboxStats';
import type { RuntimeHandlers } from './server';

const value = (n: number) => ({ value: String(Math.max(0, Math.round(n))) });

function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** The previous CPU reading of each container, for usage_nano_cores. */
type CpuHistory = Map<string, { at: bigint; usage: number }>;

function cpuUsage(id: string, s: StatsSample, at: bigint, history: CpuHistory): CpuUsage {
  const usage = s.cpu_stats.cpu_usage.total_usage;
  const prev = history.get(id);
  history.set(id, { at, usage });
  const dt = prev ? Number(at - prev.at) : 0;
  const nanoCores = prev && dt > 0 ? ((usage - prev.usage) * 1e9) / dt : 0;
  return { timestamp: at.toString(), usage_core_nano_seconds: value(usage), usage_nano_cores: value(nanoCores) };
}

function memoryUsage(s: StatsSample, at: bigint): MemoryUsage {
  const m = s.memory_stats;
  const stats = m.stats ?? {};
  const usage = m.usage ?? 0;
  const inactive = stats.inactive_file ?? stats.total_inactive_file ?? 0;
  const workingSet = Math.max(0, usage - inactive);
  return {
    timestamp: at.toString(),
    working_set_bytes: value(workingSet),
    usage_bytes: value(usage),
    rss_bytes: value(stats.anon ?? stats.total_rss ?? stats.rss ?? 0),
    page_faults: value(stats.pgfault ?? stats.total_pgfault ?? 0),
    major_page_faults: value(stats.pgmajfault ?? stats.total_pgmajfault ?? 0),
    available_bytes: value(m.limit !== undefined ? m.limit - workingSet : 0),
  };
}

async function sample(containers: ContainerEngine, c: ContainerRecord): Promise<StatsSample | undefined> {
  if (!c.state.Running) return undefined;
  for await (const s of containers.queries.stats(c.id, { stream: false, oneShot: true })) return s;
  return undefined;
}

async function writableLayer(containers: ContainerEngine, c: ContainerRecord, at: bigint) {
  const d = containers.records.dirs(c.id);
  const seen = new Set<string>();
  const bytes = await treeSize(d.upper, seen).catch(() => 0);
  return { timestamp: at.toString(), fs_id: { mountpoint: d.dir }, used_bytes: value(bytes), inodes_used: value(seen.size + 1) };
}

async function statsOf(containers: ContainerEngine, c: ContainerRecord, history: CpuHistory): Promise<ContainerStats> {
  const s = await sample(containers, c);
  const at = nowNanos();
  const summary = containerSummary(c);
  return {
    attributes: { id: c.id, metadata: summary.metadata, labels: summary.labels, annotations: summary.annotations },
    cpu: s ? cpuUsage(c.id, s, at, history) : { timestamp: at.toString(), usage_core_nano_seconds: value(0), usage_nano_cores: value(0) },
    memory: s ? memoryUsage(s, at) : { timestamp: at.toString(), working_set_bytes: value(0) },
    writable_layer: await writableLayer(containers, c, at),
  };
}

function sum(list: Array<{ value?: unknown } | null | undefined>): { value: string } {
  return { value: list.reduce((t, v) => t + BigInt(String(v?.value ?? 0)), 0n).toString() };
}

/** The pod's interfaces (the infra container's namespace), eth0 as the default one as kubelet names it. */
function networkUsage(s: StatsSample | undefined, at: string): NetworkUsage {
  const interfaces = Object.entries(s?.networks ?? {}).map(([name, n]) => ({ name, rx_bytes: value(n.rx_bytes ?? 0), rx_errors: value(n.rx_errors ?? 0), tx_bytes: value(n.tx_bytes ?? 0), tx_errors: value(n.tx_errors ?? 0) }));
  return { timestamp: at, default_interface: interfaces.find((i) => i.name === 'eth0') ?? interfaces[0] ?? null, interfaces };
}

async function sandboxStats(containers: ContainerEngine, infra: ContainerRecord, history: CpuHistory): Promise<PodSandboxStats> {
  const at = nowNanos().toString();
  const members = await Promise.all(criContainers(containers, infra.id).map((c) => statsOf(containers, c, history)));
  const labels = infra.config.Labels ?? {};
  const infraSample = await sample(containers, infra);
  return {
    attributes: { id: infra.id, metadata: parseLabel(labels, METADATA_LABEL, null), labels: userLabels(labels), annotations: parseLabel(labels, ANNOTATIONS_LABEL, {}) },
    linux: {
      cpu: { timestamp: at, usage_core_nano_seconds: sum(members.map((m) => m.cpu?.usage_core_nano_seconds)), usage_nano_cores: sum(members.map((m) => m.cpu?.usage_nano_cores)) },
      memory: { timestamp: at, working_set_bytes: sum(members.map((m) => m.memory?.working_set_bytes)) },
      network: networkUsage(infraSample, at),
      process: { timestamp: at, process_count: value(infraSample?.pids_stats.current ?? 0) },
      containers: members,
    },
  };
}

export function statsHandlers(deps: { containers: ContainerEngine }): Pick<RuntimeHandlers, 'ContainerStats' | 'ListContainerStats' | 'PodSandboxStats' | 'ListPodSandboxStats'> {
  const { containers } = deps;
  const history: CpuHistory = new Map();
  const forget = () => {
    for (const id of history.keys()) if (!containers.records.find(id)) history.delete(id);
  };
  return {
    ContainerStats: async (req) => {
      const c = getContainer(containers, req.container_id);
      return { stats: await statsOf(containers, c, history) };
    },

    ListContainerStats: async (req) => {
      forget();
      const f = req.filter;
      const list = criContainers(containers, f?.pod_sandbox_id || undefined).filter((c) => matchesIdAndLabels(c, f));
      return { stats: await Promise.all(list.map((c) => statsOf(containers, c, history))) };
    },

    PodSandboxStats: async (req) => {
      const infra = getSandbox(containers, req.pod_sandbox_id);
      return { stats: await sandboxStats(containers, infra, history) };
    },

    ListPodSandboxStats: async (req) => {
      forget();
      const f = req.filter;
      const list = criRecords(containers, 'sandbox').filter((c) => matchesIdAndLabels(c, f));
      return { stats: await Promise.all(list.map((c) => sandboxStats(containers, c, history))) };
    },
  };
}
