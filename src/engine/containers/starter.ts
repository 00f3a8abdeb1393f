import { containerCgroupPath, hugetlbAvailable } from './cgroup-files';
import { existsSync } from 'node:fs';
import { hostDevices, hostResources, noNewPrivileges, ulimits } from './host-resources';
import { LogDriverInitError, logSettings, type LogSettings } from './log-config';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MissingRuntime } from '../../runtime/missing-runtime';
import { runtimeErrorKind } from '../../runtime/oci-cli';
import type { ContainerMonitor, RuntimeResources } from '../../runtime/types';
import { BerthError, InvalidParameterError } from '../../errors';
import { PhaseClock } from '../phase-clock';
import type { Logger } from 'pino';
import type { AttachHub } from './attach-hub';
import { writeFileAtomic } from '../../host/atomic-file';
import { monitorPaths, type ContainerDirs } from './container-files';
import { LinkStartError } from './legacy-links';
import type { ContainerNetworking, NetworkSetup } from './container-network';
import type { ImageLookup, RuntimeLookup } from './container-deps';
import type { ContainerRecords } from './container-records';
import { buildOciSpec, tweakCapabilities } from './oci-spec';
import { seccompFor, type DaemonSeccomp } from './seccomp';
import { StartGate } from './start-gate';
import { namespacePlan } from './namespace-modes';
import { mountRootfs, unmountRootfs } from './rootfs';
import type { StorageDriverName } from '../../host/overlay-driver';
import type { ContainerRecord, MountPoint } from './types';
import { specMounts, type VolumeLookup } from './mount-spec';
import { GroupAddError, resolveUser } from './user';
import { hostRoot, type IdMap } from '../userns/id-map';
import { keepLockedFlags, takeUserSysctls, userNamespaceOf } from './userns-mode';

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface StarterDeps {
  images: ImageLookup;
  volumes: VolumeLookup;
  runtimes: RuntimeLookup;
  monitor: ContainerMonitor;
  cgroupVersion: 1 | 2;
  seccomp: DaemonSeccomp;
  log?: Logger;
  /** userns-remap: the mapping container `c` runs under (none: the host's ids). */
  idMapOf?: (c: ContainerRecord) => IdMap | undefined;
  storageDriver?: StorageDriverName;
}

/**
 * Turns a container record into a running process: rootfs mount, generated /etc files, OCI
 * bundle, monitor launch (runtime create), attach hand-off, runtime start. On any failure it
 * undoes what it did, so a failed start leaves the container exactly as it was.
 */
export class ContainerStarter {
  constructor(
    private readonly deps: StarterDeps,
    private readonly attachHub: AttachHub,
    private readonly networking: ContainerNetworking,
    /** Other containers, whose namespaces and /etc files a container may share. */
    private readonly peers: Pick<ContainerRecords, 'get' | 'dirs'>,
  ) {}

  private readonly gate = new StartGate();

  start(c: ContainerRecord, d: ContainerDirs): Promise<{ pid: number }> {
    return this.gate.run(() => this.startNow(c, d));
  }

  private async startNow(c: ContainerRecord, d: ContainerDirs): Promise<{ pid: number }> {
    const runtime = this.deps.runtimes.forContainer(c.runtime);
    // conmon would run the missing binary itself and report it as a missing command.
    if (runtime instanceof MissingRuntime) throw runtime.error();
    // Where a start's time goes, in the debug log (bench/trace-run.ts reads it).
    const phases = new PhaseClock();
    const lowerDirs = await this.deps.images.layerDirs(c.image);
    const idMap = this.deps.idMapOf?.(c);
    await rm(d.exitDir, { recursive: true, force: true });
    await mkdir(d.exitDir, { recursive: true });
    await mkdir(d.bundle, { recursive: true });
    await mountRootfs(d, lowerDirs, idMap, this.deps.storageDriver);
    phases.mark('rootfs');
    let launched = false;
    let net: NetworkSetup | undefined;
    try {
      // userns-remap: the runtime makes the network namespace, in the container's user namespace.
      net = await this.networking.setup(c, { dnsOnGateway: !!runtime.ownLoopback, netnsFromRuntime: !!idMap });
      // The runtime applies net.* sysctls at create: the interfaces they name must exist by then.
      if (!net.adoptNetns && Object.keys(c.hostConfig.Sysctls ?? {}).some((k) => k.startsWith('net.'))) await net.hosts;
      phases.mark('network');
      if (!net.sharedWith) await this.writeEtcFiles(d, net, idMap);
      const spec = await this.spec(c, d, net);
      const lateSysctls = net.adoptNetns ? takeUserSysctls(c, spec) : undefined;
      await keepLockedFlags(spec);
      runtime.prepareSpec?.(c.id, spec, { sharedNetns: !!net.sharedWith });
      await writeFile(join(d.bundle, 'config.json'), JSON.stringify(spec));
      await runtime.prepareBundle?.(c.id, d.bundle, spec);
      phases.mark('bundle');
      const paths = monitorPaths(d, c.monitorLogPath);
      if (c.monitorLogPath) await mkdir(dirname(c.monitorLogPath), { recursive: true });
      // The runtime creates the container while the endpoints are attached (bridge mode).
      const adopt = net.adoptNetns;
      const [launch, hosts] = await Promise.allSettled([
        this.launchAndThen(adopt, {
          id: c.id,
          runtime,
          paths,
          tty: !!c.config.Tty,
          stdin: !!c.config.OpenStdin,
          stdinOnce: !!c.config.StdinOnce,
          ...monitorLogOptions(logSettings(c.hostConfig.LogConfig)),
        }),
        net.hosts,
      ]);
      launched = launch.status === 'fulfilled';
      await runtime.created?.(c.id, launched);
      // A network failure explains more than what the runtime made of a half-ready namespace,
      // unless the namespace was the runtime's to make (then the attach never began).
      if (adopt && launch.status === 'rejected') throw launch.reason;
      if (hosts.status === 'rejected') throw hosts.reason;
      if (launch.status === 'rejected') throw launch.reason;
      const { pid } = launch.value;
      // In place: the runtime bind-mounted this inode at create.
      if (!net.sharedWith) await writeFile(d.hostsPath, hosts.value);
      if (lateSysctls && c.network?.netnsPath) await this.networking.setSysctls(c.network.netnsPath, lateSysctls);
      phases.mark('create');
      await this.attachHub.connectAll(c.id, () => this.deps.monitor.attach(paths));
      phases.mark('attach');
      await runtime.start(c.id);
      phases.mark('start');
      this.deps.log?.debug({ container: c.id, phases: phases.done() }, 'container start phases (ms)');
      return { pid };
    } catch (err) {
      if (launched) await runtime.delete(c.id, true).catch(() => undefined);
      if (net) {
        // An attach still under way finishes (or undoes itself) before the teardown.
        await net.hosts.catch(() => undefined);
        await this.networking.teardown(c);
      }
      await unmountRootfs(d).catch(() => undefined);
      throw err;
    }
  }

  /** The /etc files the bundle mounts; /etc/hosts gets its content once the endpoints are up. */
  private async writeEtcFiles(d: ContainerDirs, net: NetworkSetup, idMap: IdMap | undefined): Promise<void> {
    const files: Array<[string, string]> = [[d.hostnamePath, `${net.hostname}\n`], [d.hostsPath, ''], [d.resolvConfPath, net.resolvConf]];
    await Promise.all(files.map(([path, text]) => writeFileAtomic(path, text)));
    // userns-remap: the container's root owns them (dockerd's ownership), as it owns its rootfs.
    if (idMap) {
      const owner = hostRoot(idMap);
      await Promise.all(files.map(([path]) => chown(path, owner.uid, owner.gid)));
    }
  }

  /** `runtime create` through the monitor; then `adopt` gets the new container's pid, or undefined. */
  private async launchAndThen(adopt: ((pid: number | undefined) => void) | undefined, opts: Parameters<ContainerMonitor['launch']>[0]) {
    try {
      const launched = await this.deps.monitor.launch(opts);
      adopt?.(launched.pid);
      return launched;
    } catch (err) {
      adopt?.(undefined);
      throw err;
    }
  }

  private async spec(c: ContainerRecord, d: ContainerDirs, net: NetworkSetup) {
    // dockerd's order: link variables first, the container's own Env overrides them.
    const env = [...net.env, ...(c.config.Env ?? [])];
    if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
    const hostname = net.hostname;
    env.push(`HOSTNAME=${hostname}`);
    if (c.config.Tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
    const resolved = await resolveUser(d.merged, c.config.User ?? '', c.hostConfig.GroupAdd ?? []);
    // dockerd's supplementary groups: the primary group first, then the user's, then --group-add.
    const user = { ...resolved, additionalGids: [resolved.gid, ...resolved.additionalGids] };
    const ns = namespacePlan(c.hostConfig, (ref) => this.peers.get(ref));
    const nsPath = (choice: unknown) => (typeof choice === 'object' && choice ? (choice as { path: string }).path : undefined);
    const peerPid = net.sharedWith ? this.peers.get(net.sharedWith).state.Pid : 0;
    const userNamespace = await userNamespaceOf(c, this.deps.idMapOf?.(c), [peerPid ? `/proc/${peerPid}/ns/net` : undefined, nsPath(ns.ipc), nsPath(ns.pid)]);
    const etcDirs = net.sharedWith ? this.peers.dirs(net.sharedWith) : d;
    const userMounts = await specMounts(c.mounts ?? [], d.merged, this.deps.volumes);
    const hc = c.hostConfig;
    const paths = (v: unknown) => (Array.isArray(v) ? (v as string[]) : undefined);
    const consoleSize = c.hostConfig.ConsoleSize;
    const bind = (destination: string, source: string) => ({
      destination,
      source,
      type: 'bind',
      options: ['rbind', 'rprivate', ...(c.hostConfig.ReadonlyRootfs ? ['ro'] : [])],
    });
    return buildOciSpec({
      id: c.id,
      rootfs: d.merged,
      readonlyRootfs: !!c.hostConfig.ReadonlyRootfs,
      args: c.hostConfig.Init ? [INIT_PATH_IN_CONTAINER, '--', c.path, ...c.args] : [c.path, ...c.args],
      env: dedupeEnv(env),
      cwd: c.config.WorkingDir || '/',
      user,
      tty: !!c.config.Tty,
      consoleSize: consoleSize && consoleSize[0] > 0 ? { height: consoleSize[0], width: consoleSize[1] } : undefined,
      hostname,
      privileged: !!c.hostConfig.Privileged,
      capAdd: c.hostConfig.CapAdd ?? [],
      capDrop: c.hostConfig.CapDrop ?? [],
      shmSize: c.hostConfig.ShmSize || DEFAULT_SHM_SIZE,
      resources: withoutUnavailableHugetlb(hostResources(c.hostConfig), this.deps.cgroupVersion),
      rlimits: ulimits(c.hostConfig),
      ...(typeof hc.OomScoreAdj === 'number' && hc.OomScoreAdj ? { oomScoreAdj: hc.OomScoreAdj } : {}),
      noNewPrivileges: noNewPrivileges(c.hostConfig),
      devices: hostDevices(c.hostConfig),
      extraMounts: [
        ...(c.hostConfig.Init ? [{ destination: INIT_PATH_IN_CONTAINER, source: initBinary(), type: 'bind', options: ['bind', 'ro'] }] : []),
        ...(ns.shmMount && !userMounts.some((m) => m.destination === '/dev/shm') ? [ns.shmMount] : []),
        ...userMounts,
        ...etcMounts(c, etcDirs).map(([dest, src]) => bind(dest, src)),
      ],
      netnsPath: net.netnsPath,
      hostNetwork: net.hostNetwork,
      sharedNetns: !!net.sharedWith,
      ipcNamespace: ns.ipc,
      pidNamespace: ns.pid,
      utsNamespace: ns.uts,
      userNamespace,
      sysctls: (hc.Sysctls ?? undefined) as Record<string, string> | undefined,
      ...rootfsPropagationOf(c.mounts ?? []),
      maskedPaths: paths(hc.MaskedPaths),
      readonlyPaths: paths(hc.ReadonlyPaths),
      seccomp: seccompFor(hc.SecurityOpt, {
        capabilities: tweakCapabilities(hc.CapAdd ?? [], hc.CapDrop ?? [], !!hc.Privileged),
        privileged: !!hc.Privileged,
      }, this.deps.seccomp),
      cgroupsPath: containerCgroupPath(c.id),
      cgroupVersion: this.deps.cgroupVersion,
    });
  }
}

/**
 * The monitor's part of the log settings: no log for `none`; with max-size, Berth rotates, and
 * the monitor's own truncation is only a cap well above it (for a container that outruns it).
 */
/** The monitor keeps its own log for every file driver; Berth ships it (log-shipper.ts). */
function monitorLogOptions(s: LogSettings): { logDriver: 'k8s-file' | 'none' } {
  return { logDriver: s.driver === 'none' ? 'none' : 'k8s-file' };
}

/** Where `--init` puts the init binary in the container (dockerd's path). */
const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';
/** Static builds only: the init must run in images without a libc (Debian's tini-static). */
const INIT_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/libexec/docker/docker-init'];

function initBinary(): string {
  const found = INIT_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new InvalidParameterError(`--init needs a static init binary; none of ${INIT_CANDIDATES.join(', ')} exists (Debian: apt-get install tini)`);
  return found;
}

/** The generated /etc files, unless the user mounted something of their own there. */
function etcMounts(c: ContainerRecord, d: ContainerDirs): Array<[string, string]> {
  const taken = new Set((c.mounts ?? []).map((m) => m.Destination));
  const files: Array<[string, string]> = [['/etc/resolv.conf', d.resolvConfPath], ['/etc/hostname', d.hostnamePath], ['/etc/hosts', d.hostsPath]];
  return files.filter(([dest]) => !taken.has(dest));
}

/** Later entries win, keeping the first position of each key (so HOSTNAME can be overridden by Env). */
function dedupeEnv(env: string[]): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const e of env) {
    const k = e.split('=', 1)[0];
    if (seen.has(k)) {
      if (k !== 'HOSTNAME') out[seen.get(k)!] = e;
      continue;
    }
    seen.set(k, out.length);
    out.push(e);
  }
  return out;
}

/**
 * The error a failed start reports: the runtime's own message, classified like dockerd (a missing
 * or non-executable command is the client's fault: 400) and worded so the docker CLI derives its
 * exit code (127/126) from it whichever runtime wrote it.
 */
export function startError(c: ContainerRecord, cause: unknown): Error {
  if (cause instanceof BerthError || cause instanceof LogDriverInitError || cause instanceof GroupAddError || cause instanceof LinkStartError) return cause;
  let message = `failed to start container: ${c.runtime}: ${(cause as Error).message ?? String(cause)}`;
  const kind = runtimeErrorKind(message);
  if (kind === 'command-not-found' && !/executable file not found|no such file or directory/.test(message)) {
    message += `: exec: "${c.path}": executable file not found in $PATH`;
  }
  if (kind === 'permission-denied' && !/permission denied/.test(message)) message += ': permission denied';
  return kind ? new InvalidParameterError(message, { cause }) : new Error(message, { cause });
}

/**
 * dockerd's rule: a shared bind mount keeps the container's root shared, a slave one keeps it
 * a slave (else the runtime's private root would cut the mount off from the host's).
 */
function rootfsPropagationOf(mounts: readonly MountPoint[]): { rootfsPropagation?: string } {
  const props = new Set(mounts.map((m) => m.Propagation));
  if (props.has('shared') || props.has('rshared')) return { rootfsPropagation: 'rshared' };
  if (props.has('slave') || props.has('rslave')) return { rootfsPropagation: 'rslave' };
  return {};
}

/** Hugepage limits only where the host can apply them (see hugetlbAvailable). */
function withoutUnavailableHugetlb(r: RuntimeResources, version: 1 | 2): RuntimeResources {
  if (!r.hugepageLimits || hugetlbAvailable(version)) return r;
  const { hugepageLimits: _dropped, ...rest } = r;
  return rest;
}
