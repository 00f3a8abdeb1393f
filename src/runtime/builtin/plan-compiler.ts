/**
 * The plan compiler of Berth's built-in runtime: an OCI bundle's config.json becomes the flat
 * `berth-plan` the C executor carries out, an exec's process.json its process plan
 * (docs/builtin-runtime.md). All the deciding happens here; the executor only follows records.
 * Record order is the order the executor applies them in, within each kind.
 */
import { isAbsolute, join } from 'node:path';
import type { CgroupHost } from './cgroup-host';
import { containerCgroups, writeCgroupRecords } from './cgroup-plan';
import { MS } from './linux-constants';
import { propagationFlags } from './mount-options';
import { writeDeviceRecords, writeMountRecords } from './mount-plan';
import { PlanError } from './plan-error';
import { PlanWriter } from './plan-format';
import { writeProcessRecords } from './process-plan';
import type { OciLinuxSpec, OciProcessSpec, OciRuntimeSpec } from './spec-types';

/** `compileSeccomp` of seccomp-bpf.ts: a spec's `linux.seccomp` as a BPF program and seccomp(2) flags. */
export type SeccompCompiler = (profile: NonNullable<OciLinuxSpec['seccomp']>) => { program: Buffer; flags: number };

export interface PlanHost {
  cgroup: CgroupHost;
  /** Absent: a spec with a seccomp profile is refused. */
  compileSeccomp?: SeccompCompiler;
}

export interface BundlePlan {
  /** The text of `<bundle>/berth-plan`. */
  plan: string;
  /** The program for `<bundle>/berth-seccomp.bpf`, when the spec has a seccomp profile. */
  seccomp?: Buffer;
}

export const PLAN_FILE = 'berth-plan';
export const SECCOMP_FILE = 'berth-seccomp.bpf';

const NAMESPACES = new Set(['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']);
const HOOK_PHASES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

export function compileBundlePlan(spec: OciRuntimeSpec, bundleDir: string, host: PlanHost): BundlePlan {
  const linux = spec.linux ?? {};
  refuseUnsupported(linux);
  if (!spec.root?.path) throw new PlanError('the spec has no root.path');
  if (!spec.process) throw new PlanError('the spec has no process');
  const w = new PlanWriter();
  const rootfs = isAbsolute(spec.root.path) ? spec.root.path : join(bundleDir, spec.root.path);
  w.add('rootfs', rootfs);
  w.add('readonly-rootfs', spec.root.readonly ? 1 : 0);
  const propagation = linux.rootfsPropagation ? propagationFlags(linux.rootfsPropagation) : MS.SLAVE | MS.REC;
  if (propagation === undefined) throw new PlanError(`unknown rootfsPropagation ${JSON.stringify(linux.rootfsPropagation)}`);
  w.add('rootfs-propagation', propagation);

  const namespaces = linux.namespaces ?? [];
  const seen = new Set<string>();
  for (const ns of namespaces) {
    if (!NAMESPACES.has(ns.type)) throw new PlanError(`unknown namespace type ${JSON.stringify(ns.type)}`);
    if (seen.has(ns.type)) throw new PlanError(`namespace ${ns.type} is listed twice`);
    seen.add(ns.type);
    w.add('namespace', ns.type, ns.path ?? '');
  }
  const userNs = namespaces.find((n) => n.type === 'user');
  const mapped = !!(linux.uidMappings?.length && linux.gidMappings?.length);
  if (userNs && !userNs.path && !mapped) throw new PlanError('a new user namespace needs uidMappings and gidMappings');
  if (!userNs && (linux.uidMappings?.length || linux.gidMappings?.length)) throw new PlanError('uidMappings and gidMappings need a user namespace');
  for (const m of linux.uidMappings ?? []) w.add('uid-map', m.containerID, m.hostID, m.size);
  for (const m of linux.gidMappings ?? []) w.add('gid-map', m.containerID, m.hostID, m.size);
  if (spec.hostname !== undefined && spec.hostname !== '') {
    if (!seen.has('uts')) throw new PlanError('a hostname needs a UTS namespace of the container\'s own');
    w.add('hostname', spec.hostname);
  }
  if (spec.domainname) w.add('domainname', spec.domainname);

  const cgroups = containerCgroups(linux.cgroupsPath || `/berth/${bundleName(bundleDir)}`, host.cgroup);
  writeCgroupRecords(w, cgroups, host.cgroup, linux.resources);

  const mounts = spec.mounts ?? [];
  writeMountRecords(w, mounts, { bundleDir, host: host.cgroup, cgroups, cgroupNamespace: seen.has('cgroup') });
  writeDeviceRecords(w, mounts, linux);
  for (const p of linux.maskedPaths ?? []) w.add('masked', p);
  for (const p of linux.readonlyPaths ?? []) w.add('readonly', p);
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) w.add('sysctl', key.replace(/\./g, '/'), value);

  for (const phase of HOOK_PHASES) {
    for (const h of spec.hooks?.[phase] ?? []) {
      if (!isAbsolute(h.path)) throw new PlanError(`hook ${phase}: path ${JSON.stringify(h.path)} is not absolute`);
      const args = h.args ?? [h.path];
      const env = h.env ?? [];
      w.add('hook', phase, h.timeout ?? 0, h.path, args.length, ...args, env.length, ...env);
    }
  }
  for (const phase of Object.keys(spec.hooks ?? {})) {
    if (!HOOK_PHASES.includes(phase)) throw new PlanError(`unknown hook phase ${JSON.stringify(phase)}`);
  }
  for (const [key, value] of Object.entries(spec.annotations ?? {})) w.add('annotation', key, value);

  let seccomp: Buffer | undefined;
  if (linux.seccomp) {
    if (!host.compileSeccomp) {
      throw new PlanError('the berth runtime cannot apply seccomp profiles yet; run with --security-opt seccomp=unconfined');
    }
    const compiled = host.compileSeccomp(linux.seccomp);
    seccomp = compiled.program;
    w.add('seccomp', join(bundleDir, SECCOMP_FILE), compiled.flags);
  }

  writeProcessRecords(w, spec.process, { rootfs });
  return { plan: w.text(), ...(seccomp ? { seccomp } : {}) };
}

/** An exec's process plan; `rootfs` (the container's, on the host) fills in a missing HOME. */
export function compileProcessPlan(process: OciProcessSpec, rootfs?: string): string {
  const w = new PlanWriter();
  writeProcessRecords(w, process, { rootfs });
  return w.text();
}

function refuseUnsupported(linux: OciLinuxSpec): void {
  if (linux.mountLabel) throw new PlanError('the berth runtime does not apply SELinux labels (linux.mountLabel)');
  if (linux.personality) throw new PlanError('the berth runtime does not set linux.personality');
  if (linux.intelRdt) throw new PlanError('the berth runtime does not support linux.intelRdt');
  if (linux.timeOffsets) throw new PlanError('the berth runtime does not support linux.timeOffsets');
  const r = linux.resources ?? {};
  if (r.hugepageLimits?.length) throw new PlanError('the berth runtime does not set hugepage limits');
  if (r.rdma && Object.keys(r.rdma).length) throw new PlanError('the berth runtime does not set rdma limits');
  if (r.network && Object.keys(r.network).length) throw new PlanError('the berth runtime does not set network class ids or priorities');
  const io = r.blockIO;
  if (io && (io.leafWeight || io.weightDevice?.length || io.throttleReadBpsDevice?.length || io.throttleWriteBpsDevice?.length || io.throttleReadIOPSDevice?.length || io.throttleWriteIOPSDevice?.length)) {
    throw new PlanError('the berth runtime sets only the block I/O weight');
  }
  if (r.memory?.kernel || r.memory?.kernelTCP) throw new PlanError('the berth runtime does not set kernel memory limits (deprecated by the kernel)');
  const s = linux.seccomp;
  if (s && (s.listenerPath || s.defaultAction === 'SCMP_ACT_NOTIFY' || s.syscalls?.some((c) => c.action === 'SCMP_ACT_NOTIFY'))) {
    throw new PlanError('the berth runtime does not support seccomp notify (SCMP_ACT_NOTIFY)');
  }
}

function bundleName(bundleDir: string): string {
  const parts = bundleDir.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? 'container';
}
