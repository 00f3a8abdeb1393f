import { createHash } from 'node:crypto';
import { humanDuration } from './human-duration';
import { normalizeLogConfig } from './log-config';
import { mountView } from './mounts';
import { parsePortKey } from './network-plan';
import { NULL_TIME, type ContainerRecord, type EndpointSettings, type PortBinding } from './types';

/** Where a container's files live, for inspect's *Path fields. */
export interface ContainerFilePaths {
  logPath: string;
  hostnamePath: string;
  hostsPath: string;
  resolvConfPath: string;
  upper: string;
  work: string;
  merged: string;
  lowerDirs: string[];
  /** The daemon's storage driver (overlay2 when unset), for Driver and GraphDriver.Name. */
  driver?: string;
}

/** dockerd's ` (healthy)`, ` (health: starting)`, ` (unhealthy)` after "Up ...". */
function healthSuffix(c: ContainerRecord): string {
  const h = c.state.Health?.Status;
  if (!h) return '';
  return h === 'starting' ? ' (health: starting)' : ` (${h})`;
}

/** `docker ps` Status column text. */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state;
  switch (s.Status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${healthSuffix(c)}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return s.FinishedAt === NULL_TIME ? 'Created' : `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    default:
      return 'Created';
  }
}

const commandLine = (c: ContainerRecord) => [c.path, ...c.args].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');

/** Endpoints as the API shows them (without Berth's private fields). */
function networksView(c: ContainerRecord): Record<string, EndpointSettings> {
  const out: Record<string, EndpointSettings> = {};
  for (const [name, ep] of Object.entries(c.network?.networks ?? {})) {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { ifname, requestedMac, ...view } = ep;
    out[name] = view;
  }
  return out;
}

/** Live port bindings while running; exposed ports only otherwise (dockerd's Ports). */
function portsView(c: ContainerRecord): Record<string, PortBinding[] | null> {
  if (c.state.Running && c.network?.ports) return c.network.ports;
  return {};
}

/** `docker ps` Ports: one entry per binding, plus exposed unpublished ports. */
function portsSummary(c: ContainerRecord) {
  const out: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> = [];
  const live = c.state.Running ? c.network?.ports ?? {} : {};
  const keys = new Set([...Object.keys(c.config.ExposedPorts ?? {}), ...Object.keys(live)]);
  for (const key of keys) {
    const [port, type = 'tcp'] = key.split('/');
    // A key no client can decode (stored before create checked them, or from an image) is left out.
    if (!parsePortKey(key)) continue;
    const bindings = live[key];
    if (!bindings?.length) out.push({ PrivatePort: Number(port), Type: type });
    else for (const b of bindings) out.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}

/** An item of GET /containers/json. */
export function containerSummary(c: ContainerRecord, linkNames: readonly string[] = []) {
  return {
    Id: c.id,
    Names: [c.name, ...linkNames],
    Image: c.config.Image ?? c.image,
    ImageID: c.image,
    Command: commandLine(c),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: portsSummary(c),
    Labels: c.config.Labels ?? {},
    State: c.state.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.hostConfig.NetworkMode || 'bridge', ...(c.hostConfig.Annotations ? { Annotations: c.hostConfig.Annotations } : {}) },
    NetworkSettings: { Networks: networksView(c) },
    Mounts: (c.mounts ?? []).map(mountView),
  };
}

/** GET /containers/{id}/json; `sizes` when the client asked `size=1` (dockerd puts them after GraphDriver). */
export function containerInspect(c: ContainerRecord, paths: ContainerFilePaths, links: string[] | null = null, sizes?: { SizeRw: number; SizeRootFs: number }) {
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    // dockerd keeps Running true between a restart policy's attempts (Restarting says why).
    State: { ...c.state, Running: c.state.Running || c.state.Restarting },
    Image: c.image,
    ResolvConfPath: paths.resolvConfPath,
    HostnamePath: paths.hostnamePath,
    HostsPath: paths.hostsPath,
    // dockerd names the file once the json-file driver has started writing it.
    LogPath: c.hostConfig.LogConfig?.Type === 'json-file' || !c.hostConfig.LogConfig?.Type ? (c.state.StartedAt !== NULL_TIME ? paths.logPath : '') : '',
    Name: c.name,
    RestartCount: c.restartCount,
    Driver: paths.driver ?? 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: { ...c.hostConfig, LogConfig: normalizeLogConfig(c.hostConfig.LogConfig), Links: links },
    GraphDriver: {
      Name: paths.driver ?? 'overlay2',
      Data: { LowerDir: paths.lowerDirs.join(':'), UpperDir: paths.upper, WorkDir: paths.work, MergedDir: paths.merged },
    },
    ...sizes,
    Mounts: (c.mounts ?? []).map(mountView),
    Config: c.config,
    NetworkSettings: networkSettings(c),
  };
}

/** Inspect's NetworkSettings; the top-level address fields describe the default bridge only. */
function networkSettings(c: ContainerRecord) {
  const networks = networksView(c);
  const bridge = networks.bridge;
  const netns = c.network?.netnsPath ?? '';
  return {
    Bridge: '',
    SandboxID: netns ? createHash('sha256').update(netns).digest('hex') : '',
    SandboxKey: netns,
    Ports: portsView(c),
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: bridge?.EndpointID ?? '',
    Gateway: bridge?.Gateway ?? '',
    GlobalIPv6Address: bridge?.GlobalIPv6Address ?? '',
    GlobalIPv6PrefixLen: bridge?.GlobalIPv6PrefixLen ?? 0,
    IPAddress: bridge?.IPAddress ?? '',
    IPPrefixLen: bridge?.IPPrefixLen ?? 0,
    IPv6Gateway: bridge?.IPv6Gateway ?? '',
    MacAddress: bridge?.MacAddress ?? '',
    Networks: networks,
  };
}

/** An item of GET /containers/json; with `size`, also the bytes the container takes. */
export type ContainerSummary = ReturnType<typeof containerSummary> & { SizeRw?: number; SizeRootFs?: number };

/** GET /containers/{id}/json */
export type ContainerInspect = ReturnType<typeof containerInspect>;
