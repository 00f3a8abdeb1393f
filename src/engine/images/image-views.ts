/**
 * The shapes dockerd answers with for images: items of GET /images/json (ImageSummary) and
 * GET /images/{name}/json (ImageInspect), as of API v1.50. Fields older API versions had
 * (`Container`, `ContainerConfig`, `VirtualSize`, the legacy Config fields) are the API layer's
 * business; `Container` and `ContainerConfig` are included here so that it can keep them for
 * clients older than 1.45 (docker-compose v1 reads `ContainerConfig.Volumes`).
 */
import type { ImageFiles } from './image-store-files';
import { familiarOfStored } from './reference';
import type { ContainerImageConfig, ImageRecord } from './types';

/** Go's zero time.Time as JSON: what dockerd shows for a time that was never set. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Re-formats an RFC 3339 time the way Go's `time.RFC3339Nano` prints it. */
export function formatRfc3339Nano(s: string): string | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const frac = (m[5] ?? '').slice(0, 9).replace(/0+$/, '');
  const offset = /^[Zz]$|^[+-]00:00$/.test(m[6]) ? 'Z' : m[6];
  return `${m[1]}T${m[2]}:${m[3]}:${m[4]}${frac ? `.${frac}` : ''}${offset}`;
}

/** Seconds since the epoch of an RFC 3339 time (Go's `Time.Unix()`), 0 when absent or invalid. */
export function unixSeconds(s: string | undefined): number {
  const m = s ? RFC3339.exec(s) : null;
  if (!m) return 0;
  const [y, mo, d] = m[1].split('-').map(Number);
  let seconds = Date.UTC(y, mo - 1, d, Number(m[2]), Number(m[3]), Number(m[4])) / 1000;
  if (!/^[Zz]$/.test(m[6])) {
    const sign = m[6][0] === '-' ? -1 : 1;
    const [oh, om] = m[6].slice(1).split(':').map(Number);
    seconds -= sign * (oh * 3600 + om * 60);
  }
  return Math.floor(seconds);
}

/** The image-config fields dockerd's API knows (`DockerOCIImageConfig`). */
const CONFIG_FIELDS = [
  'User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels',
  'StopSignal', 'ArgsEscaped', 'Healthcheck', 'OnBuild', 'Shell',
] as const;

/** Fields dockerd always includes in an inspected image's Config, null or "" when unset. */
const ALWAYS_PRESENT_CONFIG: Record<string, unknown> = {
  Cmd: null, Entrypoint: null, Env: null, Labels: null, OnBuild: null, User: '', Volumes: null, WorkingDir: '',
};

/** A zero container Config (what dockerd shows as ContainerConfig of an image without one). */
const EMPTY_CONTAINER_CONFIG: Record<string, unknown> = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
  Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
  WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
};

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

function imageConfigView(config: ContainerImageConfig | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_FIELDS) {
    const value = config?.[key];
    if (!isEmpty(value)) out[key] = value;
  }
  for (const [key, value] of Object.entries(ALWAYS_PRESENT_CONFIG)) if (!(key in out)) out[key] = value;
  return out;
}

function containerConfigView(rec: ImageRecord): Record<string, unknown> {
  const legacy = rec.config.container_config;
  const out: Record<string, unknown> = { ...EMPTY_CONTAINER_CONFIG };
  if (legacy && typeof legacy === 'object') Object.assign(out, legacy);
  if (out.Volumes === null || out.Volumes === undefined) out.Volumes = rec.config.config?.Volumes ?? null;
  return out;
}

/**
 * Stored references of an image split into familiar RepoTags and RepoDigests, in the order of
 * the full references (what dockerd's reference store sorts by): `foo/bar:1` before `busybox`.
 */
export function repoNames(rec: ImageRecord, refs: readonly string[]): { RepoTags: string[]; RepoDigests: string[] } {
  const sorted = [...refs].sort();
  const tags = sorted.filter((r) => !r.includes('@')).map(familiarOfStored);
  const digests = new Set(sorted.filter((r) => r.includes('@')).map(familiarOfStored));
  for (const d of rec.repoDigests) digests.add(d);
  return { RepoTags: tags, RepoDigests: [...digests] };
}

/**
 * A GET /images/json item. `shown` limits the names listed (dockerd lists only the ones a
 * `reference` filter matched).
 */
export function imageSummary(rec: ImageRecord, refs: readonly string[], shown: (familiar: string) => boolean = () => true): ImageSummary {
  const names = repoNames(rec, refs);
  const RepoTags = names.RepoTags.filter(shown);
  const RepoDigests = names.RepoDigests.filter(shown);
  return {
    Containers: -1,
    Created: unixSeconds(rec.config.created),
    Id: rec.id,
    Labels: rec.config.config?.Labels ?? {},
    ParentId: rec.parent ?? '',
    RepoDigests,
    RepoTags,
    SharedSize: -1,
    Size: rec.size,
  };
}

function graphDriver(rec: ImageRecord, files: ImageFiles, name: string): { Name: string; Data: Record<string, string> } {
  const dirs = rec.chainIds.map((c) => files.layerDir(c)).reverse();
  if (dirs.length === 0) return { Name: name, Data: {} };
  const [top, ...lower] = dirs;
  const data: Record<string, string> = {};
  if (lower.length > 0) data.LowerDir = lower.map((d) => `${d}/diff`).join(':');
  data.MergedDir = `${top}/merged`;
  data.UpperDir = `${top}/diff`;
  data.WorkDir = `${top}/work`;
  return { Name: name, Data: data };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** GET /images/{name}/json, fields in dockerd's order (optional ones only when set). */
export function imageInspect(rec: ImageRecord, refs: readonly string[], files: ImageFiles, storageDriver = 'overlay2') {
  const cfg = rec.config;
  const created = cfg.created ? formatRfc3339Nano(cfg.created) : undefined;
  const osVersion = str(cfg['os.version']);
  const layers = cfg.rootfs?.diff_ids ?? [];
  const rootFs: { Type: string; Layers?: string[] } = layers.length > 0 ? { Type: cfg.rootfs.type, Layers: layers } : { Type: cfg.rootfs?.type ?? 'layers' };
  return {
    Id: rec.id,
    ...repoNames(rec, refs),
    Parent: rec.parent ?? '',
    Comment: str(cfg.comment),
    ...(created ? { Created: created } : {}),
    DockerVersion: str(cfg.docker_version),
    Author: str(cfg.author),
    Config: imageConfigView(cfg.config),
    Architecture: str(cfg.architecture),
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: str(cfg.os),
    ...(osVersion ? { OsVersion: osVersion } : {}),
    Size: rec.size,
    GraphDriver: graphDriver(rec, files, storageDriver),
    RootFS: rootFs,
    Metadata: { LastTagTime: (rec.lastTagTime && formatRfc3339Nano(rec.lastTagTime)) || ZERO_TIME },
    Container: str(cfg.container),
    ContainerConfig: containerConfigView(rec),
  };
}

/** An item of GET /images/json (and of system df's Images). */
export type ImageSummary = {
  Containers: number;
  Created: number;
  Id: string;
  Labels: Record<string, string>;
  ParentId: string;
  RepoDigests: string[];
  RepoTags: string[];
  SharedSize: number;
  Size: number;
};

export type ImageInspect = ReturnType<typeof imageInspect>;
