import { existsSync, readFileSync } from 'node:fs';
import { mergeRuntimes, parseAddRuntimeFlags, parseFileRuntimes, type RuntimeConfigEntry } from './config-runtimes';
import { DEFAULT_CERTS_DIR } from './engine/registry/endpoint';
import { STORAGE_DRIVERS, type StorageDriverName } from './host/overlay-driver';

/**
 * Daemon configuration, parsed once from flags and an optional daemon.json-style file
 * (flags win), validated and deep-frozen. Services receive the slice they need.
 */
export interface Config {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidFile: string;
  defaultRuntime?: string;
  /** `--add-runtime` and daemon.json `runtimes`, merged as dockerd does (see config-runtimes.ts). */
  runtimes: Record<string, RuntimeConfigEntry>;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** Name reported by `docker info` (defaults to the host name). */
  name?: string;
  /** Bridge device of the default `bridge` network (`--bridge`). */
  bridge: string;
  /** Gateway address and prefix of the default bridge (`--bip`, e.g. 172.29.0.1/16). */
  bip?: string;
  /** Manage iptables rules (NAT, isolation). */
  iptables: boolean;
  /** Serve published ports on loopback through the userland proxy. */
  userlandProxy: boolean;
  /** Resolvers the embedded DNS forwards to (`host` or `host:port`); default: the host's. */
  dnsUpstreams?: string[];
  /** Registries reached over plain HTTP (host[:port] or CIDR) besides loopback ones. */
  insecureRegistries: string[];
  /** Mirrors tried first for docker.io pulls (URLs). */
  registryMirrors: string[];
  /** Mirrors tried first for other registries, by registry host (`--registry-host-mirror gcr.io=http://...`). */
  registryHostMirrors: Record<string, string[]>;
  /** Per-registry CA certificates (`<dir>/<host:port>/*.crt`), dockerd's /etc/docker/certs.d by default. */
  registryCertsDir: string;
  /** Group owning the API sockets (`-G/--group`); dockerd's `docker` by default, `""` for none. */
  group: string;
  /** `--seccomp-profile`: `builtin` (dockerd's default profile), `unconfined`, or a profile file. */
  seccompProfile: string;
  /** `--userns-remap` as given (`default`, `user`, `user:group`, ids); unset = no remapping. */
  userNsRemap?: string;
  /** Set for a rootless daemon (src/rootless/): rootlesskit's state dir (its api.sock, child_pid). */
  rootless?: { stateDir: string };
  /** `-s/--storage-driver` as given; unset: overlay2, or fuse-overlayfs where a rootless daemon's probe says so. */
  storageDriver?: StorageDriverName;
  /** The CRI face for kubelet (src/cri/); undefined when `--cri=false`. */
  cri?: CriConfig;
}

/** Where the CRI listens and where it finds kubelet's CNI set-up (containerd's and CRI-O's defaults). */
export interface CriConfig {
  /** gRPC socket serving runtime.v1 and runtime.v1alpha2 (default `<exec-root>/cri.sock`: /run/berth/cri.sock). */
  socket: string;
  /** kubelet's CNI network configuration directory (`--cni-conf-dir`). */
  cniConfDir: string;
  /** Directories searched for CNI plugins, in order (`--cni-bin-dir`). */
  cniBinDirs: string[];
  /** `--pod-infra-image`: the pods' infra image; unset: Berth's own, made locally (no registry). */
  podInfraImage?: string;
  /** Address of the streaming server (exec, attach, port-forward URLs), host:port; port 0 = any. */
  streamingAddress: string;
}

/** Defaults that replace DEFAULTS for a rootless daemon (src/rootless/layout.ts); flags still win. */
export interface LayoutDefaults {
  host: string;
  dataRoot: string;
  execRoot: string;
  pidFile: string;
  /** daemon.json read when present and no --config-file is given. */
  configFile: string;
  rootless: { stateDir: string };
}

export const DEFAULTS = {
  host: 'unix:///var/run/berth.sock',
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  logLevel: 'info',
  bridge: 'berth0',
  registryCertsDir: DEFAULT_CERTS_DIR,
  group: 'docker',
  seccompProfile: 'builtin',
  cniConfDir: '/etc/cni/net.d',
  cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
  criStreamingAddress: '127.0.0.1:0',
} as const;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export class ConfigError extends Error {}

export const USAGE = `Usage: berthd [OPTIONS]

A container engine that speaks the Docker Engine API.

Options:
  -H, --host list              Daemon socket(s) to listen on (default ${DEFAULTS.host})
      --data-root string       Root directory of persistent state (default "${DEFAULTS.dataRoot}")
      --exec-root string       Root directory for execution state files (default "${DEFAULTS.execRoot}")
  -p, --pidfile string         Path to use for daemon PID file (default "<exec-root>/berthd.pid")
      --default-runtime string Default OCI runtime for containers (default: crun, else runc)
      --add-runtime name=path  Register an additional OCI compatible runtime
  -l, --log-level string       Set the logging level (trace|debug|info|warn|error|fatal) (default "info")
  -b, --bridge string          Bridge device of the default bridge network, "none" for none (default "${DEFAULTS.bridge}")
      --bip string             Gateway address and prefix of the default bridge (e.g. 172.29.0.1/16)
      --iptables               Enable iptables rules (default true; --iptables=false turns them off)
      --userland-proxy         Use the userland proxy for published ports (default true)
      --dns-upstream list      Resolver the embedded DNS forwards to, host[:port] (default: the host's)
      --insecure-registry list Registry reached over plain HTTP (host[:port] or CIDR; loopback always is)
      --registry-mirror list   Mirror tried first for docker.io pulls (e.g. http://127.0.0.1:5000)
      --registry-host-mirror list  Mirror tried first for another registry, host=URL (e.g. gcr.io=http://127.0.0.1:5000)
      --registry-certs-dir dir CA certificates per registry, <dir>/<host:port>/*.crt (default "${DEFAULTS.registryCertsDir}")
  -G, --group string           Group for the unix socket (default "${DEFAULTS.group}"; kept root's when that group is missing)
      --userns-remap string    User/Group setting for user namespaces: "default" (the dockremap user), user[:group] or uid[:gid]
  -s, --storage-driver string  Storage driver: "overlay2" or "fuse-overlayfs" (default "overlay2"; rootless: fuse-overlayfs when overlayfs cannot mount)
      --seccomp-profile string Seccomp profile: "builtin" (dockerd's default), "unconfined", or a profile file path (default "${DEFAULTS.seccompProfile}")
      --cri                    Serve the Kubernetes CRI (default true; --cri=false turns it off)
      --cri-socket string      CRI socket (default "unix://<exec-root>/cri.sock")
      --cni-conf-dir string    CNI network configuration for pods (default "${DEFAULTS.cniConfDir}")
      --cni-bin-dir list       Directory of CNI plugins for pods (default "${DEFAULTS.cniBinDirs.join('", "')}")
      --pod-infra-image string Image of the pods' infra container (default: Berth's own, made locally)
      --cri-streaming-addr string  Address of the CRI streaming server (default "${DEFAULTS.criStreamingAddress}")
      --config-file string     Daemon configuration file (daemon.json format)
  -h, --help                   Print usage
  -v, --version                Print version information and quit
`;

interface FileConfig {
  hosts?: string[];
  'data-root'?: string;
  'exec-root'?: string;
  pidfile?: string;
  'default-runtime'?: string;
  /** Checked by parseFileRuntimes: dockerd's shape, shim v2 entries refused. */
  runtimes?: unknown;
  'log-level'?: string;
  bridge?: string;
  bip?: string;
  iptables?: boolean;
  'userland-proxy'?: boolean;
  'dns-upstream'?: string[];
  'insecure-registries'?: string[];
  'registry-mirrors'?: string[];
  'insecure-registry'?: string[];
  'registry-mirror'?: string[];
  'registry-host-mirror'?: string[];
  /** daemon.json: `{ "gcr.io": ["http://127.0.0.1:5000"] }`. */
  'registry-host-mirrors'?: Record<string, string[]>;
  'registry-certs-dir'?: string;
  group?: string;
  'seccomp-profile'?: string;
  'userns-remap'?: string;
  'storage-driver'?: string;
  cri?: boolean;
  'cri-socket'?: string;
  'cni-conf-dir'?: string;
  'cni-bin-dir'?: string[];
  'pod-infra-image'?: string;
  'cri-streaming-addr'?: string;
}

type FlagValues = Omit<{ [K in keyof FileConfig]?: FileConfig[K] }, 'iptables' | 'userland-proxy' | 'cri'> & {
  cri?: string;
  'add-runtime'?: string[];
  'config-file'?: string;
  iptables?: string;
  'userland-proxy'?: string;
};

const FLAG_ALIASES: Record<string, string> = { H: 'host', p: 'pidfile', l: 'log-level', b: 'bridge', G: 'group', s: 'storage-driver' };
const LIST_FLAGS = new Set(['host', 'add-runtime', 'dns-upstream', 'insecure-registry', 'registry-mirror', 'cni-bin-dir', 'registry-host-mirror']);
const VALUE_FLAGS = new Set(['host', 'data-root', 'exec-root', 'pidfile', 'default-runtime', 'add-runtime', 'log-level', 'config-file', 'bridge', 'bip', 'dns-upstream', 'insecure-registry', 'registry-mirror', 'registry-host-mirror', 'registry-certs-dir', 'group', 'seccomp-profile', 'userns-remap', 'storage-driver', 'cri-socket', 'cni-conf-dir', 'cni-bin-dir', 'pod-infra-image', 'cri-streaming-addr']);
/** Flags that take `--flag`, `--flag=true` or `--flag=false` (never a separate argument). */
const BOOL_FLAGS = new Set(['iptables', 'userland-proxy', 'cri']);

export type ParseResult = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: Config };

/** Parses dockerd-style flags (`--flag value`, `--flag=value`, `-H value`). */
export function parseArgs(argv: string[], layout?: LayoutDefaults): ParseResult {
  const flags: Record<string, string | string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '-v' || arg === '--version') return { kind: 'version' };
    const m = /^(--?)([A-Za-z][\w-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new ConfigError(`unexpected argument: ${arg}`);
    const name = m[1] === '-' ? FLAG_ALIASES[m[2]] : m[2];
    if (name && BOOL_FLAGS.has(name)) {
      const v = m[3] ?? 'true';
      if (v !== 'true' && v !== 'false') throw new ConfigError(`invalid boolean value for --${name}: ${v}`);
      flags[name] = v;
      continue;
    }
    if (!name || !VALUE_FLAGS.has(name)) throw new ConfigError(`unknown flag: ${arg}`);
    let value = m[3];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`flag needs an argument: ${arg}`);
    }
    if (LIST_FLAGS.has(name)) flags[name] = [...((flags[name] as string[]) ?? []), value];
    else flags[name] = value;
  }
  return { kind: 'run', config: buildConfig(flags as FlagValues & { host?: string[] }, layout) };
}

function readFileConfig(path: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`unable to read config file ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as FileConfig;
  } catch (err) {
    throw new ConfigError(`unable to configure the daemon with file ${path}: ${(err as Error).message}`);
  }
}

function buildConfig(flags: FlagValues & { host?: string[] }, layout?: LayoutDefaults): Config {
  if (!flags['config-file'] && layout && existsSync(layout.configFile)) flags = { ...flags, 'config-file': layout.configFile };
  const file = flags['config-file'] ? readFileConfig(flags['config-file']) : {};
  const runtimes = runtimeConfig(flags, file);
  const logLevel = flags['log-level'] ?? file['log-level'] ?? DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`invalid log level: ${logLevel}`);
  const hosts = flags.host ?? file.hosts ?? [layout?.host ?? DEFAULTS.host];
  for (const h of hosts) {
    if (!h.startsWith('unix://') && !h.startsWith('/')) throw new ConfigError(`unsupported host ${h}: only unix:// sockets are supported`);
  }
  const execRoot = flags['exec-root'] ?? file['exec-root'] ?? layout?.execRoot ?? DEFAULTS.execRoot;
  const config: Config = {
    ...(layout ? { rootless: layout.rootless } : {}),
    hosts,
    dataRoot: flags['data-root'] ?? file['data-root'] ?? layout?.dataRoot ?? DEFAULTS.dataRoot,
    execRoot,
    pidFile: flags.pidfile ?? file.pidfile ?? layout?.pidFile ?? `${execRoot}/berthd.pid`,
    defaultRuntime: flags['default-runtime'] ?? file['default-runtime'],
    runtimes,
    logLevel: logLevel as Config['logLevel'],
    bridge: flags.bridge ?? file.bridge ?? DEFAULTS.bridge,
    bip: flags.bip ?? file.bip,
    iptables: flags.iptables !== undefined ? flags.iptables === 'true' : file.iptables ?? true,
    userlandProxy: flags['userland-proxy'] !== undefined ? flags['userland-proxy'] === 'true' : file['userland-proxy'] ?? true,
    dnsUpstreams: flags['dns-upstream'] ?? file['dns-upstream'],
    insecureRegistries: flags['insecure-registry'] ?? file['insecure-registries'] ?? [],
    registryMirrors: flags['registry-mirror'] ?? file['registry-mirrors'] ?? [],
    registryHostMirrors: hostMirrors(flags['registry-host-mirror'], file['registry-host-mirrors']),
    registryCertsDir: flags['registry-certs-dir'] ?? file['registry-certs-dir'] ?? DEFAULTS.registryCertsDir,
    // A rootless daemon's socket stays its user's: the host's groups are not mapped (dockerd's too).
    group: flags.group ?? file.group ?? (layout ? '' : DEFAULTS.group),
    seccompProfile: flags['seccomp-profile'] || file['seccomp-profile'] || DEFAULTS.seccompProfile,
    // dockerd: an empty setting is no remapping.
    userNsRemap: flags['userns-remap'] || file['userns-remap'] || undefined,
    storageDriver: storageDriver(flags['storage-driver'] || file['storage-driver'] || undefined),
    cri: criConfig(flags, file, execRoot),
  };
  if (config.userNsRemap !== undefined && typeof config.userNsRemap !== 'string') throw new ConfigError(`invalid userns-remap: ${JSON.stringify(config.userNsRemap)} (expected "default", user[:group] or uid[:gid])`);
  if (typeof config.seccompProfile !== 'string') throw new ConfigError(`invalid seccomp-profile: ${JSON.stringify(config.seccompProfile)} (expected "builtin", "unconfined" or a file path)`);
  for (const m of config.registryMirrors) {
    if (!/^https?:\/\/[^/]+\/?$/.test(m)) throw new ConfigError(`invalid mirror: "${m}" is not a valid URI (expected http(s)://host[:port])`);
  }
  if (config.bridge.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(config.bridge)) throw new ConfigError(`invalid bridge name: ${config.bridge}`);
  if (config.bip !== undefined && !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(config.bip)) throw new ConfigError(`invalid --bip: ${config.bip} (expected an address with a prefix, e.g. 172.29.0.1/16)`);
  return deepFreeze(config);
}

/** `--registry-host-mirror host=URL` (repeatable) over daemon.json `registry-host-mirrors`. */
function hostMirrors(flags: string[] | undefined, file: Record<string, string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (flags) {
    for (const f of flags) {
      const eq = f.indexOf('=');
      if (eq <= 0) throw new ConfigError(`invalid registry-host-mirror: "${f}" (expected host=URL)`);
      (out[f.slice(0, eq)] ??= []).push(f.slice(eq + 1));
    }
  } else if (file) {
    if (typeof file !== 'object' || Array.isArray(file)) throw new ConfigError('invalid registry-host-mirrors: expected an object of host: [URL, ...]');
    for (const [host, urls] of Object.entries(file)) {
      if (!Array.isArray(urls)) throw new ConfigError(`invalid registry-host-mirrors: ${host} must list URLs`);
      out[host] = [...urls];
    }
  }
  for (const urls of Object.values(out)) {
    for (const m of urls) if (!/^https?:\/\/[^/]+\/?$/.test(m)) throw new ConfigError(`invalid mirror: "${m}" is not a valid URI (expected http(s)://host[:port])`);
  }
  return out;
}

/** The CRI's settings, flags over daemon.json; none when `--cri=false` (or `"cri": false`). */
function criConfig(flags: FlagValues, file: FileConfig, execRoot: string): CriConfig | undefined {
  const enabled = flags.cri !== undefined ? flags.cri === 'true' : file.cri ?? true;
  if (typeof enabled !== 'boolean') throw new ConfigError(`invalid cri: ${JSON.stringify(enabled)} (expected true or false)`);
  if (!enabled) return undefined;
  const socket = flags['cri-socket'] ?? file['cri-socket'] ?? `unix://${execRoot}/cri.sock`;
  if (!socket.startsWith('unix://') && !socket.startsWith('/')) throw new ConfigError(`unsupported cri-socket ${socket}: only unix:// sockets are supported`);
  const streamingAddress = flags['cri-streaming-addr'] ?? file['cri-streaming-addr'] ?? DEFAULTS.criStreamingAddress;
  if (!/^[^:]+:\d+$/.test(streamingAddress)) throw new ConfigError(`invalid cri-streaming-addr: ${streamingAddress} (expected host:port)`);
  return {
    socket: socketPath(socket),
    cniConfDir: flags['cni-conf-dir'] ?? file['cni-conf-dir'] ?? DEFAULTS.cniConfDir,
    cniBinDirs: flags['cni-bin-dir'] ?? file['cni-bin-dir'] ?? [...DEFAULTS.cniBinDirs],
    podInfraImage: flags['pod-infra-image'] || file['pod-infra-image'] || undefined,
    streamingAddress,
  };
}

/** dockerd's wording for a driver it does not have (`graphdriver.New`). */
function storageDriver(value: unknown): StorageDriverName | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(STORAGE_DRIVERS as readonly string[]).includes(value)) {
    throw new ConfigError(`error initializing graphdriver: driver not supported: ${String(value)} (Berth has ${STORAGE_DRIVERS.join(' and ')})`);
  }
  return value as StorageDriverName;
}

/** `--add-runtime` with daemon.json `runtimes`, and dockerd's one-source rule for `default-runtime`. */
function runtimeConfig(flags: FlagValues, file: FileConfig): Config['runtimes'] {
  let fromFlags;
  try {
    fromFlags = parseAddRuntimeFlags(flags['add-runtime'] ?? []);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const path = flags['config-file'];
  try {
    if (flags['default-runtime'] !== undefined && file['default-runtime'] !== undefined) {
      throw new Error(`the following directives are specified both as a flag and in the configuration file: default-runtime: (from flag: ${flags['default-runtime']}, from file: ${file['default-runtime']})`);
    }
    return mergeRuntimes(parseFileRuntimes(file.runtimes), fromFlags);
  } catch (err) {
    throw new ConfigError(`unable to configure the daemon with file ${path}: ${(err as Error).message}`);
  }
}

export function socketPath(host: string): string {
  return host.startsWith('unix://') ? host.slice('unix://'.length) : host;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
