/**
 * Response shapes per negotiated API version: the engine answers in the newest shape Berth
 * serves, and these functions add the fields older versions defined and drop the ones they did
 * not have, following moby's routers and the API version history (`docs/api/version-history.md`).
 * Every version difference in a response body lives here, and nowhere else.
 */
import { compareVersions } from './version';

type Json = Record<string, unknown>;

/** A response body's fields, read by name (the engine's typed views are plain JSON objects). */
const fieldsOf = (body: object): Json => body as Json;

const before = (v: string, version: string) => compareVersions(v, version) < 0;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const isEmpty = (x: unknown) => x === undefined || x === null || (Array.isArray(x) && x.length === 0) || (isObject(x) && Object.keys(x).length === 0);

/** Networks a container joins by name that are not user-defined (moby's `NetworkMode.IsUserDefined`). */
const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none', 'default']);

/**
 * Endpoint fields per version: `DNSNames` arrived in 1.44, `GwPriority` (always written) in 1.48.
 * Builds new objects rather than deleting keys: `delete` turns V8 objects into slow dictionaries,
 * and a list of many containers pays for that on every request.
 */
function shapeEndpoints(networks: Json, v: string): Json {
  const dropDnsNames = before(v, '1.44');
  const dropGwPriority = before(v, '1.48');
  const out: Json = {};
  for (const [name, ep] of Object.entries(networks)) {
    if (!isObject(ep)) {
      out[name] = ep;
      continue;
    }
    const shaped: Json = {};
    for (const [k, value] of Object.entries(ep)) {
      if ((k === 'DNSNames' && dropDnsNames) || (k === 'GwPriority' && dropGwPriority)) continue;
      shaped[k] = value;
    }
    if (!dropGwPriority && shaped.GwPriority === undefined) shaped.GwPriority = 0;
    out[name] = shaped;
  }
  return out;
}

/** A copy of `o` without `key`. */
function without(o: Json, key: string): Json {
  const out: Json = {};
  for (const [k, value] of Object.entries(o)) if (k !== key) out[k] = value;
  return out;
}

/** GET /containers/{id}/json */
export function shapeContainerInspect(inspect: object, v: string): Json {
  const body = fieldsOf(inspect);
  const hostConfig = isObject(body.HostConfig) ? { ...body.HostConfig } : undefined;
  if (hostConfig) {
    // Until 1.42 both kernel-memory limits were always written; since then only when set.
    if (before(v, '1.42')) {
      hostConfig.KernelMemory ??= 0;
      hostConfig.KernelMemoryTCP ??= 0;
    } else {
      if (!hostConfig.KernelMemory) delete hostConfig.KernelMemory;
      if (!hostConfig.KernelMemoryTCP) delete hostConfig.KernelMemoryTCP;
    }
    // Annotations came in 1.43 and are written only when set.
    if (before(v, '1.43') || isEmpty(hostConfig.Annotations)) delete hostConfig.Annotations;
  }
  const settings = isObject(body.NetworkSettings) ? { ...body.NetworkSettings } : undefined;
  if (settings && isObject(settings.Networks)) {
    const networks: Json = {};
    for (const [name, ep] of Object.entries(settings.Networks)) networks[name] = isObject(ep) ? { ...ep } : ep;
    // Before 1.45, user-defined networks listed the short ID and the hostname among the aliases.
    if (before(v, '1.45')) {
      const shortId = String(body.Id ?? '').slice(0, 12);
      const hostname = isObject(body.Config) ? String(body.Config.Hostname ?? '') : '';
      for (const [name, ep] of Object.entries(networks)) {
        if (!isObject(ep) || BUILTIN_NETWORKS.has(name) || name.startsWith('container:')) continue;
        const aliases = Array.isArray(ep.Aliases) ? (ep.Aliases as string[]) : [];
        ep.Aliases = [...new Set([...aliases, shortId, hostname].filter((a) => a !== ''))];
      }
    }
    settings.Networks = shapeEndpoints(networks, v);
  }
  return { ...body, ...(hostConfig ? { HostConfig: hostConfig } : {}), ...(settings ? { NetworkSettings: settings } : {}) };
}

/** One item of GET /containers/json (and of system df's Containers). */
export function shapeContainerSummary(item: object, v: string): Json {
  const out: Json = { ...item };
  if (isObject(out.HostConfig)) {
    // Listed from 1.46, and only when set.
    const dropAnnotations = before(v, '1.46') || isEmpty(out.HostConfig.Annotations);
    out.HostConfig = dropAnnotations ? without(out.HostConfig, 'Annotations') : { ...out.HostConfig };
  }
  if (isObject(out.NetworkSettings) && isObject(out.NetworkSettings.Networks)) {
    out.NetworkSettings = { ...out.NetworkSettings, Networks: shapeEndpoints(out.NetworkSettings.Networks, v) };
  }
  return out;
}

/** The image Config in Go's field order, with the container-only fields images carried until 1.50. */
const LEGACY_IMAGE_CONFIG: Json = {
  Hostname: '',
  Domainname: '',
  User: '',
  AttachStdin: false,
  AttachStdout: false,
  AttachStderr: false,
  Tty: false,
  OpenStdin: false,
  StdinOnce: false,
  Env: null,
  Cmd: null,
  Image: '',
  Volumes: null,
  WorkingDir: '',
  Entrypoint: null,
  OnBuild: null,
  Labels: null,
};
/** 1.50 and 1.51 dropped the container-only fields but still wrote these when unset. */
const ALWAYS_WRITTEN_IMAGE_CONFIG = ['Cmd', 'Entrypoint', 'Env', 'Labels', 'OnBuild', 'User', 'Volumes', 'WorkingDir'];

function shapeImageConfig(config: unknown, v: string): unknown {
  if (!isObject(config)) return config;
  if (before(v, '1.50')) {
    const out: Json = {};
    for (const [k, dflt] of Object.entries(LEGACY_IMAGE_CONFIG)) out[k] = config[k] !== undefined ? config[k] : dflt;
    return { ...out, ...config };
  }
  const out = { ...config };
  for (const k of ALWAYS_WRITTEN_IMAGE_CONFIG) if (out[k] === undefined) out[k] = LEGACY_IMAGE_CONFIG[k];
  for (const k of ['Hostname', 'Domainname', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Image']) delete out[k];
  return out;
}

/** GET /images/{name}/json */
export function shapeImageInspect(body: object, v: string): Json {
  const out: Json = { ...body };
  // Until 1.44 an image without a creation time said Go's zero time.
  if (before(v, '1.44') && !out.Created) out.Created = '0001-01-01T00:00:00Z';
  // Container and ContainerConfig went in 1.45.
  if (before(v, '1.45')) {
    out.Container ??= '';
    out.ContainerConfig = shapeImageConfig(out.ContainerConfig ?? {}, '1.49');
  } else {
    delete out.Container;
    delete out.ContainerConfig;
  }
  // Written even when empty until 1.52.
  for (const k of ['Parent', 'Comment', 'DockerVersion', 'Author']) out[k] ??= '';
  if (out.Config !== undefined) out.Config = shapeImageConfig(out.Config, v);
  return withVirtualSize(out, v);
}

/** One item of GET /images/json. */
export function shapeImageSummary(item: object, v: string): Json {
  const out: Json = { ...item };
  const tags = Array.isArray(out.RepoTags) ? (out.RepoTags as string[]).filter((t) => t !== '<none>:<none>') : [];
  const digests = Array.isArray(out.RepoDigests) ? (out.RepoDigests as string[]).filter((d) => d !== '<none>@<none>') : [];
  if (before(v, '1.43')) {
    // Untagged images said `<none>` until 1.43; otherwise an empty list was written as null.
    const untagged = tags.length === 0 && digests.length === 0;
    out.RepoTags = untagged ? ['<none>:<none>'] : tags.length ? tags : null;
    out.RepoDigests = untagged ? ['<none>@<none>'] : digests.length ? digests : null;
  } else {
    out.RepoTags = tags;
    out.RepoDigests = digests;
  }
  // Counted from 1.51; always -1 before.
  if (before(v, '1.51')) out.Containers = -1;
  return withVirtualSize(out, v);
}

/**
 * `VirtualSize` of image list and inspect: equal to `Size` since content-addressed images
 * (dockerd fills it from the same number), deprecated in API 1.43 and omitted from 1.44 on.
 * Clients of older versions rely on it: cri-dockerd refuses an image whose VirtualSize is
 * missing ("Id or size of image ... is not set"). Placed right after `Size`, as in dockerd's struct.
 */
export function withVirtualSize(image: Json, v: string): Json {
  if (!before(v, '1.44')) return image;
  if (typeof image.Size !== 'number') return image;
  const out: Json = {};
  for (const [k, val] of Object.entries(image)) {
    if (k === 'VirtualSize') continue;
    out[k] = val;
    if (k === 'Size') out.VirtualSize = image.Size;
  }
  return out;
}

/** GET /info */
export function shapeInfo(body: object, v: string): Json {
  const out: Json = { ...body };
  if (before(v, '1.42')) {
    out.KernelMemory ??= false;
    out.KernelMemoryTCP ??= false;
  }
  if (before(v, '1.44')) {
    delete out.CDISpecDirs;
    if (isObject(out.Runtimes)) {
      out.Runtimes = Object.fromEntries(Object.entries(out.Runtimes).map(([k, rt]) => [k, isObject(rt) ? withoutKey(rt, 'status') : rt]));
    }
  } else {
    // A daemon without experimental features always reports an empty list.
    out.CDISpecDirs ??= [];
  }
  if (before(v, '1.46')) delete out.Containerd;
  if (before(v, '1.47') && isObject(out.RegistryConfig)) {
    out.RegistryConfig = { AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], ...out.RegistryConfig };
  }
  if (before(v, '1.49')) {
    delete out.FirewallBackend;
    for (const k of ['ContainerdCommit', 'RuncCommit', 'InitCommit']) {
      const c = out[k];
      if (isObject(c)) out[k] = { ...c, Expected: c.Expected ?? c.ID ?? '' };
    }
  }
  if (before(v, '1.50')) {
    delete out.DiscoveredDevices;
    out.BridgeNfIptables ??= false;
    out.BridgeNfIp6tables ??= false;
  }
  return out;
}

/** GET /networks/{id} and each item of GET /networks: `EnableIPv4` came in 1.48. */
export function shapeNetwork(network: object, v: string): Json {
  const body = fieldsOf(network);
  return before(v, '1.48') ? withoutKey(body, 'EnableIPv4') : body;
}

/** GET /system/df: its containers are listed as GET /containers/json lists them. */
export function shapeSystemDf(df: object, v: string): Json {
  const body = fieldsOf(df);
  if (!Array.isArray(body.Containers)) return body;
  return { ...body, Containers: (body.Containers as Json[]).map((c) => (isObject(c) ? shapeContainerSummary(c, v) : c)) };
}

/** GET /events: image `create` events exist from 1.46. */
export function eventVisible(event: { Type?: string; Action?: string }, v: string): boolean {
  return !(before(v, '1.46') && event.Type === 'image' && event.Action === 'create');
}

function withoutKey(o: Json, key: string): Json {
  const out = { ...o };
  delete out[key];
  return out;
}
