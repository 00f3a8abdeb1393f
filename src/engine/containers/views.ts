import { humanDuration } from './human-duration';
import { NULL_TIME, type ContainerRecord } from './types';

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
}

/** `docker ps` Status column text. */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state;
  switch (s.Status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
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

/** An item of GET /containers/json. */
export function containerSummary(c: ContainerRecord) {
  return {
    Id: c.id,
    Names: [c.name],
    Image: c.config.Image ?? c.image,
    ImageID: c.image,
    Command: commandLine(c),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: [],
    Labels: c.config.Labels ?? {},
    State: c.state.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.hostConfig.NetworkMode || 'none' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

/** GET /containers/{id}/json. */
export function containerInspect(c: ContainerRecord, paths: ContainerFilePaths) {
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: { ...c.state },
    Image: c.image,
    ResolvConfPath: paths.resolvConfPath,
    HostnamePath: paths.hostnamePath,
    HostsPath: paths.hostsPath,
    LogPath: paths.logPath,
    Name: c.name,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: c.hostConfig,
    GraphDriver: {
      Name: 'overlay2',
      Data: { LowerDir: paths.lowerDirs.join(':'), UpperDir: paths.upper, WorkDir: paths.work, MergedDir: paths.merged },
    },
    Mounts: [],
    Config: c.config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: '',
      Ports: {},
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      MacAddress: '',
      Networks: {},
    },
  };
}
