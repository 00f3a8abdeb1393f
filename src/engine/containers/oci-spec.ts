/**
 * Builds the OCI runtime spec (config.json) of a container from plain data, reproducing
 * dockerd's defaults (moby oci/defaults.go + daemon/oci_linux.go): default capabilities,
 * masked and read-only paths, default mounts, namespaces, device cgroup rules, the sysctls of a
 * private network namespace, the user namespace of userns-remap (no ping_group_range there:
 * its gids do not exist inside). Pure: no I/O, same input, same output.
 * Like dockerd, rlimits are set only when asked for (`--ulimit`); otherwise the container
 * inherits the monitor's, i.e. the daemon's (dockerd's containers inherit containerd's).
 * The seccomp filter comes chosen and converted (seccomp.ts). Not reproduced yet: AppArmor.
 */
import { readFileSync } from 'node:fs';
import { ALL_CAPABILITIES } from '../../runtime/capabilities';
import { InvalidParameterError } from '../../errors';
import type { NamespaceChoice, OciLinuxDeviceCgroup, OciSpec, SpecInput, SpecMount } from './oci-spec-types';

export type { OciSpec, SpecInput, SpecMount, SpecUser, SpecDevice, SpecRlimit, NamespaceChoice } from './oci-spec-types';

export const OCI_VERSION = '1.0.2-dev';


let hostCaps: string[] | undefined;

/**
 * The capabilities this daemon can hand out (its bounding set, /proc/self/status CapBnd). A
 * privileged process gets these rather than every capability the kernel knows: root may lack
 * some (CAP_SYS_RESOURCE on some hosts), and asking for one it lacks fails in the runtime.
 */
export function hostCapabilities(): string[] {
  if (hostCaps) return hostCaps;
  const line = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  const mask = line ? BigInt(`0x${line[1]}`) : (1n << BigInt(ALL_CAPABILITIES.length)) - 1n;
  hostCaps = ALL_CAPABILITIES.filter((_c, i) => (mask >> BigInt(i)) & 1n);
  return hostCaps;
}

/** dockerd's default set (moby oci/caps/defaults.go), in its order. */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze(
  [
    'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
    'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
  ].map((c) => `CAP_${c}`),
);

export const DEFAULT_MASKED_PATHS: readonly string[] = Object.freeze([
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
]);

export const DEFAULT_READONLY_PATHS: readonly string[] = Object.freeze([
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
]);

const DEFAULT_DEVICE_RULES: readonly OciLinuxDeviceCgroup[] = Object.freeze([
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // /dev/fuse
]);

/** Mounts that ReadonlyRootfs leaves writable. */
const WRITABLE_WITH_READONLY_ROOTFS = new Set(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']);

export function buildOciSpec(input: SpecInput): OciSpec {
  const caps = tweakCapabilities(input.capAdd, input.capDrop, input.privileged);
  const network = input.hostNetwork ? undefined : input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' };
  const userns = input.userNamespace;
  const namespaces = [
    ...(userns ? [userns.path ? { type: 'user', path: userns.path } : { type: 'user' }] : []),
    { type: 'mount' },
    ...(network ? [network] : []),
    ...namespace('uts', input.utsNamespace),
    ...namespace('pid', input.pidNamespace),
    ...namespace('ipc', input.ipcNamespace),
    ...(input.cgroupVersion === 2 ? [{ type: 'cgroup' }] : []),
  ];
  // Like dockerd, only a network namespace made for this container gets the network defaults.
  const sysctl: Record<string, string> = input.hostNetwork || input.sharedNetns
    ? {}
    : { 'net.ipv4.ip_unprivileged_port_start': '0', ...(userns ? {} : { 'net.ipv4.ping_group_range': '0 2147483647' }) };
  Object.assign(sysctl, input.sysctls ?? {});

  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: input.tty,
      ...(input.tty && input.consoleSize ? { consoleSize: { ...input.consoleSize } } : {}),
      user: {
        uid: input.user.uid,
        gid: input.user.gid,
        ...(input.user.additionalGids.length ? { additionalGids: [...input.user.additionalGids] } : {}),
      },
      args: [...input.args],
      env: [...input.env],
      cwd: input.cwd || '/',
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
      ...(input.rlimits?.length ? { rlimits: input.rlimits.map((r) => ({ type: r.type, hard: r.hard, soft: r.soft })) } : {}),
      noNewPrivileges: input.noNewPrivileges ?? false,
      oomScoreAdj: input.oomScoreAdj ?? 0,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    // Without a UTS namespace of its own a container cannot be given a hostname.
    ...(input.utsNamespace === 'host' ? {} : { hostname: input.hostname }),
    mounts: buildMounts(input),
    linux: {
      namespaces,
      ...(userns ? { uidMappings: userns.mappings.uidMappings.map((m) => ({ ...m })), gidMappings: userns.mappings.gidMappings.map((m) => ({ ...m })) } : {}),
      devices: (input.devices ?? []).map((d) => ({
        path: d.path,
        type: d.type,
        major: d.major,
        minor: d.minor,
        ...(d.fileMode !== undefined ? { fileMode: d.fileMode } : {}),
        ...(d.uid !== undefined ? { uid: d.uid } : {}),
        ...(d.gid !== undefined ? { gid: d.gid } : {}),
      })),
      cgroupsPath: input.cgroupsPath,
      ...(input.rootfsPropagation ? { rootfsPropagation: input.rootfsPropagation } : {}),
      resources: { devices: deviceRules(input), ...resources(input) },
      sysctl,
      maskedPaths: input.privileged ? [] : input.maskedPaths ? [...input.maskedPaths] : [...DEFAULT_MASKED_PATHS, ...(input.extraMaskedPaths ?? [])],
      readonlyPaths: input.privileged ? [] : [...(input.readonlyPaths ?? DEFAULT_READONLY_PATHS)],
      ...(input.seccomp ? { seccomp: input.seccomp } : {}),
    },
  };
}

/** The spec entry of one namespace: none for the host's, a path to join another's. */
function namespace(type: string, choice: NamespaceChoice = 'private'): Array<{ type: string; path?: string }> {
  if (choice === 'host') return [];
  return [typeof choice === 'object' ? { type, path: choice.path } : { type }];
}

function defaultMounts(shmSize: number): SpecMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] },
  ];
}

/** Defaults minus those a user mount replaces, then user mounts, parents before children. */
function buildMounts(input: SpecInput): SpecMount[] {
  const userDestinations = new Set(input.extraMounts.map((m) => cleanPath(m.destination)));
  const userDev = userDestinations.has('/dev');
  const defaults = defaultMounts(input.shmSize).filter(
    (m) => !userDestinations.has(m.destination) && !(userDev && m.destination.startsWith('/dev/')),
  );
  if (input.readonlyRootfs) {
    for (const m of defaults) {
      if (!WRITABLE_WITH_READONLY_ROOTFS.has(m.destination) && !m.options.includes('ro')) m.options.push('ro');
    }
  }
  if (input.privileged) {
    for (const m of defaults) {
      if (m.destination === '/sys' || m.type === 'cgroup') m.options = m.options.filter((o) => o !== 'ro');
    }
  }
  // dockerd: a read-only cgroup mount cannot be remounted inside a user namespace.
  if (input.userNamespace) {
    for (const m of defaults) if (m.type === 'cgroup') m.options = m.options.filter((o) => o !== 'ro');
  }
  const user = input.extraMounts
    .map((m, i) => ({ m: { ...m, destination: cleanPath(m.destination), options: [...m.options] }, i }))
    .sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i)
    .map(({ m }) => m);
  return [...defaults, ...user];
}

function cleanPath(p: string): string {
  const parts = p.split('/').filter((s) => s && s !== '.');
  return `/${parts.join('/')}`;
}

function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

function deviceRules(input: SpecInput): OciLinuxDeviceCgroup[] {
  if (input.privileged) return [{ allow: true, access: 'rwm' }];
  const rules = DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  for (const d of input.devices ?? []) rules.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access });
  for (const rule of input.deviceCgroupRules ?? []) rules.push(parseDeviceCgroupRule(rule));
  return rules;
}

/** Docker's `--device-cgroup-rule` syntax: `<a|b|c> <major|*>:<minor|*> <[rwm]+>`. */
export function parseDeviceCgroupRule(rule: string): OciLinuxDeviceCgroup {
  const m = /^([abc]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/.exec(rule.trim());
  if (!m) throw new InvalidParameterError(`invalid device cgroup format '${rule}'`);
  return {
    allow: true,
    type: m[1],
    ...(m[2] !== '*' ? { major: Number(m[2]) } : {}),
    ...(m[3] !== '*' ? { minor: Number(m[3]) } : {}),
    access: m[4],
  };
}

function resources(input: SpecInput): Omit<OciSpec['linux']['resources'], 'devices'> {
  const r = input.resources;
  if (!r) return {};
  const out: Omit<OciSpec['linux']['resources'], 'devices'> = {};
  if (r.memory !== undefined || r.memorySwap !== undefined) {
    out.memory = {
      ...(r.memory !== undefined ? { limit: r.memory } : {}),
      ...(r.memorySwap !== undefined ? { swap: r.memorySwap } : {}),
    };
  }
  const cpu = {
    ...(r.cpuShares !== undefined ? { shares: r.cpuShares } : {}),
    ...(r.cpuQuota !== undefined ? { quota: r.cpuQuota } : {}),
    ...(r.cpuPeriod !== undefined ? { period: r.cpuPeriod } : {}),
    ...(r.cpusetCpus !== undefined ? { cpus: r.cpusetCpus } : {}),
    ...(r.cpusetMems !== undefined ? { mems: r.cpusetMems } : {}),
  };
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit };
  if (r.hugepageLimits?.length) out.hugepageLimits = r.hugepageLimits.map((h) => ({ ...h }));
  return out;
}

/** `--cap-add`/`--cap-drop` on top of the defaults, with dockerd's rules for "ALL" (moby TweakCapabilities). */
export function tweakCapabilities(capAdd: string[], capDrop: string[], privileged: boolean): string[] {
  if (privileged) return hostCapabilities();
  const adds = normalizeCapabilities(capAdd);
  const drops = normalizeCapabilities(capDrop);
  let caps: string[];
  if (adds.includes('ALL')) {
    // Every capability this host can grant, as for Privileged: asking for one the daemon lacks
    // only makes the runtime's capset fail.
    caps = hostCapabilities().filter((c) => !drops.includes(c));
  } else if (drops.includes('ALL')) {
    caps = [...adds];
  } else {
    caps = DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c));
    caps.push(...adds);
  }
  return [...new Set(caps)];
}

/** "net_admin" and "NET_ADMIN" mean CAP_NET_ADMIN; "ALL" stays; unknown names are a client error. */
export function normalizeCapabilities(caps: string[]): string[] {
  return caps.map((c) => {
    const upper = c.toUpperCase();
    if (upper === 'ALL') return 'ALL';
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!ALL_CAPABILITIES.includes(name)) throw new InvalidParameterError(`unknown capability: "${name}"`);
    return name;
  });
}
