import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../host/atomic-file';
import type { EventLog, EventMessage, SubscribeOptions } from '../events/event-log';
import { eventFilter } from '../events/filters';
import type { DiskUsage } from './disk-usage';
import type { Filters } from '../filter-args';
import { withRootlessInfo, type RootlessInfo } from './rootless-info';

export interface SystemServiceDeps {
  dataRoot: string;
  version: string;
  runtimes: { list(): Record<string, { path: string; runtimeArgs?: string[] }>; readonly defaultName: string };
  containerCounts(): { total: number; running: number; paused: number; stopped: number; namespaces?: Record<string, number> };
  /** The CRI socket, when the daemon serves kubelet too (shown among the daemon's labels). */
  criSocket?: string;
  imageCount(): Promise<number>;
  cgroup: { version: '1' | '2'; driver: 'cgroupfs' };
  /** A rootless daemon (rootless-info.ts). */
  rootless?: RootlessInfo;
  name?: string;
  /** The daemon's seccomp profile as `docker info` names it (`builtin`, `unconfined`, a path). */
  seccompProfile?: string;
  /** `--userns-remap` is on: SecurityOptions lists `name=userns` (dockerd). */
  userns?: boolean;
  /** `docker info` Driver: overlay2 or fuse-overlayfs (default overlay2). */
  storageDriver?: string;
  events: EventLog;
  /** `--insecure-registry` and `--registry-mirror`, for `docker info`. */
  registries?: { insecure: readonly string[]; mirrors: readonly string[] };
  /** GET /system/df (composed by the daemon from the image, container and volume services). */
  diskUsage(): Promise<DiskUsage>;
  /** POST /auth (the image service checks credentials against the registry). */
  login(creds: { username?: string; password?: string; serveraddress?: string }): Promise<LoginResult>;
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
export const goArch = () => GO_ARCH[arch()] ?? arch();

/** Facts about the daemon and its host for `docker version` and `docker info`. */
export class SystemService {
  private id = '';
  private osName = 'Linux';

  constructor(private readonly deps: SystemServiceDeps) {}

  async init(): Promise<void> {
    const idFile = join(this.deps.dataRoot, 'engine-id');
    this.id = (await readFile(idFile, 'utf8').catch(() => '')).trim();
    if (!this.id) {
      this.id = randomUUID();
      await writeFileAtomic(idFile, this.id + '\n');
    }
    const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
    this.osName = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'Linux';
  }

  login(creds: { username?: string; password?: string; serveraddress?: string }): Promise<LoginResult> {
    return this.deps.login(creds);
  }

  df(): Promise<DiskUsage> {
    return this.deps.diskUsage();
  }

  /** GET /events: the filters are checked now, before the stream starts. */
  events(filters: Filters, opts: Omit<SubscribeOptions, 'filter'>): AsyncIterable<EventMessage> {
    const filter = eventFilter(filters);
    return this.deps.events.subscribe({ ...opts, filter });
  }

  version(apiVersion: string, minApiVersion: string) {
    const v = this.deps.version;
    return {
      Platform: { Name: `Berth ${v}` },
      Components: [{ Name: 'Engine', Version: v, Details: { ApiVersion: apiVersion, MinAPIVersion: minApiVersion, Os: 'linux', Arch: goArch(), KernelVersion: release(), GoVersion: process.version, Experimental: 'false' } }],
      Version: v,
      ApiVersion: apiVersion,
      MinAPIVersion: minApiVersion,
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: release(),
      BuildTime: '',
    };
  }

  async info() {
    const info = await this.hostInfo();
    return this.deps.rootless ? withRootlessInfo(info, this.deps.rootless) : info;
  }

  private async hostInfo() {
    const counts = this.deps.containerCounts();
    const runtimes = this.deps.runtimes.list();
    return {
      ID: this.id,
      Containers: counts.total,
      ContainersRunning: counts.running,
      ContainersPaused: counts.paused,
      ContainersStopped: counts.stopped,
      Images: await this.deps.imageCount(),
      Driver: this.deps.storageDriver ?? 'overlay2',
      // dockerd's fuse-overlayfs driver reports no status.
      DriverStatus: this.deps.storageDriver === 'fuse-overlayfs' ? [] : [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
      DockerRootDir: this.deps.dataRoot,
      // Log: the drivers of containers/log-config.ts that keep a log (dockerd does not list `none`).
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'local'] },
      MemoryLimit: true,
      SwapLimit: false,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: false,
      NFd: 0,
      OomKillDisable: this.deps.cgroup.version === '1',
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: this.deps.cgroup.driver,
      CgroupVersion: this.deps.cgroup.version,
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: this.osName,
      OSVersion: '',
      OSType: 'linux',
      Architecture: arch() === 'x64' ? 'x86_64' : arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryConfig(this.deps.registries ?? { insecure: [], mirrors: [] }),
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: this.deps.name ?? hostname(),
      Labels: daemonLabels(counts.namespaces ?? {}, this.deps.criSocket),
      ExperimentalBuild: false,
      ServerVersion: this.deps.version,
      // dockerd's shape: `path`, and `runtimeArgs` when configured (docker info prints neither
      // beyond the names, `--format '{{json .Runtimes}}'` shows both).
      Runtimes: runtimes,
      DefaultRuntime: this.deps.runtimes.defaultName,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: [
        ...(this.deps.seccompProfile ? [`name=seccomp,profile=${this.deps.seccompProfile}`] : []),
        ...(this.deps.userns ? ['name=userns'] : []),
      ],
      Warnings: this.deps.seccompProfile && this.deps.seccompProfile !== 'builtin' ? ['WARNING: daemon is not using the default seccomp profile'] : [],
    };
  }
}

/**
 * dockerd's RegistryConfig: CIDR entries (loopback always) under InsecureRegistryCIDRs, host
 * entries and docker.io under IndexConfigs, mirrors with a trailing slash as dockerd prints them.
 */
function registryConfig(r: { insecure: readonly string[]; mirrors: readonly string[] }) {
  const mirrors = r.mirrors.map((m) => (m.endsWith('/') ? m : `${m}/`));
  const cidrs = ['127.0.0.0/8', ...r.insecure.filter((e) => e.includes('/'))];
  const IndexConfigs: Record<string, object> = {
    'docker.io': { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true },
  };
  for (const host of r.insecure.filter((e) => !e.includes('/'))) IndexConfigs[host] = { Name: host, Mirrors: [], Secure: false, Official: false };
  return { IndexConfigs, InsecureRegistryCIDRs: [...new Set(cidrs)], Mirrors: mirrors };
}

/** POST /auth */
export interface LoginResult {
  Status: string;
  IdentityToken: string;
}

/** GET /version */
export type SystemVersion = ReturnType<SystemService['version']>;

/** GET /info */
export type SystemInfo = Awaited<ReturnType<SystemService['info']>>;

/**
 * What `docker info` prints under Labels: where kubelet's socket is, and how many containers
 * other owners keep apart from `docker ps` (engine/containers/owner-namespace.ts), with the
 * filter that lists them. Containers and ContainersRunning count the user's own only.
 */
function daemonLabels(namespaces: Record<string, number>, criSocket: string | undefined): string[] {
  const labels = criSocket ? [`io.berth.cri.socket=unix://${criSocket}`] : [];
  for (const [ns, n] of Object.entries(namespaces).sort()) {
    labels.push(`io.berth.namespace.${ns}=${n} containers, not in docker ps; list them with: docker ps -a --filter label=io.berth.namespace=${ns}`);
  }
  return labels;
}
