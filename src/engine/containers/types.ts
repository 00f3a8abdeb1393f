/** Container records, options and results of the container engine. */

/** Docker's container Config as accepted by create (fields Berth acts on; others are kept as sent). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  Healthcheck?: unknown;
  OnBuild?: string[] | null;
  [key: string]: unknown;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

/** Docker's HostConfig (fields Berth acts on now; the rest is stored and echoed). */
export interface HostConfig {
  Binds?: string[] | null;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  PublishAllPorts?: boolean;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  ExtraHosts?: string[] | null;
  Links?: string[] | null;
  NetworkMode?: string;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  Runtime?: string;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  ShmSize?: number;
  ConsoleSize?: [number, number] | null;
  LogConfig?: { Type: string; Config: Record<string, string> };
  GroupAdd?: string[] | null;
  Mounts?: unknown[] | null;
  Tmpfs?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  [key: string]: unknown;
}

/** One network endpoint of a container, in Docker's EndpointSettings shape. */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
  /** Interface inside the container while attached (not shown by the API). */
  ifname?: string;
  /** `--mac-address` as asked for (not shown by the API). */
  requestedMac?: string;
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** What the container's network looks like: desired endpoints, and while running, the live state. */
export interface ContainerNetworkState {
  /** Endpoints by network name. */
  networks: Record<string, EndpointSettings>;
  /** The container's own network namespace while it runs (bridge networks). */
  netnsPath?: string;
  /** Published ports while running: `80/tcp` → bindings (null: exposed, not published). */
  ports: Record<string, PortBinding[] | null>;
  /** Legacy links on the default bridge (HostConfig.Links resolved to child IDs). */
  links?: Array<{ id: string; alias: string }>;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Only for containers with a healthcheck (see health/health-monitor.ts). */
  Health?: HealthState;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** Docker's State.Health. */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

/** What the store holds for one container (LevelDB `container:<id>`). */
export interface ContainerRecord {
  id: string;
  /** With the leading slash, as dockerd stores it. */
  name: string;
  created: string;
  /** Merged with the image's config (Env, Cmd, Entrypoint, WorkingDir, User, Labels, ...). */
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Image ID (`sha256:...`). */
  image: string;
  path: string;
  args: string[];
  runtime: string;
  state: ContainerState;
  restartCount: number;
  /** Set when a user stopped the container (restart policies read it in later issues). */
  hasBeenManuallyStopped: boolean;
  network?: ContainerNetworkState;
  mounts?: MountPoint[];
  /**
   * Set at create for a container whose reader is someone else (kubelet): the monitor writes its
   * k8s-file log here, and nothing ships it into a log driver's file.
   */
  monitorLogPath?: string;
}

/** One mount of a container as stored on its record (parsed at create by mounts.ts). */
export interface MountPoint {
  Type: 'volume' | 'bind' | 'tmpfs';
  /** Volume name (volumes only). */
  Name?: string;
  /** Host path: the bind source, or the volume's data dir once known. */
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Berth's own fields (not shown by the API). */
  anonymous?: boolean;
  noCopy?: boolean;
  tmpfsOptions?: string[];
}

export const NULL_TIME = '0001-01-01T00:00:00Z';

export interface CreateContainerOptions {
  name?: string;
  config: ContainerConfig;
  hostConfig?: HostConfig;
  networkingConfig?: unknown;
  /** The monitor's own k8s-file log goes to this path, unshipped (see ContainerRecord). */
  monitorLogPath?: string;
}

export interface StopContainerOptions {
  /** Seconds; undefined = the container's StopTimeout or 10. -1 = wait forever. */
  timeout?: number;
  signal?: string;
}

export interface RemoveContainerOptions {
  force: boolean;
  removeVolumes: boolean;
  /** `?link=1`: `ref` is `<parent>/<alias>` and only that legacy link goes. */
  link?: boolean;
}

/** POST /containers/prune */
export interface PruneContainersResult {
  ContainersDeleted: string[] | null;
  SpaceReclaimed: number;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

export interface ListContainersOptions {
  all: boolean;
  limit?: number;
  size: boolean;
  filters: Record<string, string[]>;
}

export interface LogsOptions {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  timestamps: boolean;
  /** Unix seconds (fractional); 0 = no bound. */
  since: number;
  until: number;
  /** Number of lines from the end; undefined = all. */
  tail?: number;
  signal?: AbortSignal;
}

export interface LogRecord {
  stream: 'stdout' | 'stderr';
  /** RFC3339Nano as the monitor wrote it. */
  time: string;
  /** The line, including the trailing newline when the line was complete (text: the json-file log holds UTF-8). */
  text: string;
}

/** Streams of an attach session, provided by the API after the engine validated the request. */
export interface AttachStreams {
  /** Bytes from the client, ending with EOF on half-close. */
  stdin?: NodeJS.ReadableStream;
  /** Container output; `stream` is 1 (stdout) or 2 (stderr). */
  write(stream: 1 | 2, data: Buffer): void;
  /** The session is over: the API closes the connection. */
  end(): void;
  /** Called when the client goes away. */
  onClose(cb: () => void): void;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  stream: boolean;
  logs: boolean;
  /** Unset: Docker's default keys; null: none (the CRI's clients have no detach keys). */
  detachKeys?: string | null;
  /** Called once the engine has validated the request; the API hijacks the connection then. */
  getStreams(tty: boolean): AttachStreams;
}
