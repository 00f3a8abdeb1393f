/**
 * A container's mounts: named and anonymous volumes, bind mounts and tmpfs, from `-v`/Binds,
 * `--mount`/Mounts, `--tmpfs`, the image's VOLUMEs and `--volumes-from`. Parsed and checked at
 * create (dockerd's rules and messages), stored on the record, turned into OCI mounts at start.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import { InvalidParameterError } from '../../errors';
import type { ContainerConfig, HostConfig, MountPoint } from './types';

interface MountRequest {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

function checkDestination(dest: string, spec: string): string {
  if (!dest || !isAbsolute(dest)) throw new InvalidParameterError(`invalid mount config: mount path must be absolute: ${dest || spec}`);
  const clean = posix.normalize(dest).replace(/(.)\/$/, '$1');
  if (clean === '/') throw new InvalidParameterError(`invalid specification: destination can't be '/' in '${spec}'`);
  return clean;
}

/** `-v src:dst[:opts]`, `-v dst` (anonymous volume). */
function parseBind(spec: string): MountPoint {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new InvalidParameterError(`invalid volume specification: '${spec}'`);
  if (parts.length === 1) return { Type: 'volume', Name: '', Source: '', Destination: checkDestination(parts[0], spec), Driver: 'local', Mode: '', RW: true, Propagation: '', anonymous: true };
  const [src, dst, opts = ''] = parts;
  const options = opts ? opts.split(',') : [];
  const rw = !options.includes('ro');
  const propagation = options.find((o) => PROPAGATIONS.includes(o));
  for (const o of options) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', ...PROPAGATIONS].includes(o)) throw new InvalidParameterError(`invalid mode: ${o}`);
  }
  const destination = checkDestination(dst, spec);
  if (isAbsolute(src)) {
    return { Type: 'bind', Source: posix.normalize(src), Destination: destination, Mode: opts, RW: rw, Propagation: propagation ?? 'rprivate' };
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(src)) {
    throw new InvalidParameterError(`create ${src}: "${src}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return { Type: 'volume', Name: src, Source: '', Destination: destination, Driver: 'local', Mode: opts, RW: rw, Propagation: '', noCopy: options.includes('nocopy') };
}

/** `--mount type=...` (HostConfig.Mounts). */
function parseMount(m: MountRequest): MountPoint {
  const spec = `${m.Type}:${m.Source ?? ''}:${m.Target ?? ''}`;
  const destination = checkDestination(m.Target ?? '', spec);
  const rw = !m.ReadOnly;
  switch (m.Type) {
    case 'bind': {
      if (!m.Source || !isAbsolute(m.Source)) throw new InvalidParameterError(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
      if (!existsSync(m.Source)) throw new InvalidParameterError(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
      return { Type: 'bind', Source: posix.normalize(m.Source), Destination: destination, Mode: '', RW: rw, Propagation: m.BindOptions?.Propagation || 'rprivate' };
    }
    case 'volume':
      if (m.Source && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(m.Source)) throw new InvalidParameterError(`invalid mount config for type "volume": invalid volume name: ${m.Source}`);
      return { Type: 'volume', Name: m.Source ?? '', Source: '', Destination: destination, Driver: 'local', Mode: 'z', RW: rw, Propagation: '', anonymous: !m.Source, noCopy: !!m.VolumeOptions?.NoCopy };
    case 'tmpfs': {
      if (m.Source) throw new InvalidParameterError(`invalid mount config for type "tmpfs": source must not be specified`);
      const opts: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      return { Type: 'tmpfs', Source: '', Destination: destination, Mode: '', RW: rw, Propagation: '', tmpfsOptions: opts };
    }
    default:
      throw new InvalidParameterError(`invalid mount config: mount type unknown: "${m.Type ?? ''}"`);
  }
}

/**
 * All mount points of a new container. `volumesFrom` gives the mount points of the containers
 * named in `--volumes-from` (already looked up).
 */
export function planMounts(config: ContainerConfig, hostConfig: HostConfig, volumesFrom: Array<{ mounts: MountPoint[]; mode: string }>): MountPoint[] {
  const out: MountPoint[] = [];
  const add = (m: MountPoint) => {
    if (out.some((o) => o.Destination === m.Destination)) throw new InvalidParameterError(`Duplicate mount point: ${m.Destination}`);
    out.push(m);
  };
  for (const spec of (hostConfig.Binds as string[] | null | undefined) ?? []) add(parseBind(spec));
  for (const m of (hostConfig.Mounts as MountRequest[] | null | undefined) ?? []) add(parseMount(m));
  for (const [dest, opts] of Object.entries((hostConfig.Tmpfs as Record<string, string> | null | undefined) ?? {})) {
    add({ Type: 'tmpfs', Source: '', Destination: checkDestination(dest, dest), Mode: opts, RW: !opts.split(',').includes('ro'), Propagation: '', tmpfsOptions: opts ? opts.split(',').filter((o) => o !== 'ro' && o !== 'rw') : [] });
  }
  for (const from of volumesFrom) {
    for (const m of from.mounts) {
      if (m.Type === 'tmpfs' || out.some((o) => o.Destination === m.Destination)) continue;
      out.push({ ...m, RW: from.mode === 'ro' ? false : from.mode === 'rw' ? true : m.RW, anonymous: false });
    }
  }
  // The image's (and Config's) VOLUMEs not covered by an explicit mount become anonymous volumes.
  for (const dest of Object.keys(config.Volumes ?? {})) {
    const clean = checkDestination(dest, dest);
    if (out.some((o) => o.Destination === clean)) continue;
    out.push({ Type: 'volume', Name: '', Source: '', Destination: clean, Driver: 'local', Mode: '', RW: true, Propagation: '', anonymous: true });
  }
  return out;
}

/** `--volumes-from name[:ro|rw]` entries. */
export function parseVolumesFrom(entries: string[]): Array<{ ref: string; mode: string }> {
  return entries.map((e) => {
    const [ref, mode = ''] = e.split(':');
    if (!ref || (mode && mode !== 'ro' && mode !== 'rw')) throw new InvalidParameterError(`invalid mode: ${mode || e}`);
    return { ref, mode };
  });
}

/** The API's view of a mount point (Berth's private fields dropped). */
export function mountView(m: MountPoint) {
  const view: Record<string, unknown> = { Type: m.Type };
  if (m.Type === 'volume') view.Name = m.Name;
  view.Source = m.Source;
  view.Destination = m.Destination;
  if (m.Type === 'volume') view.Driver = m.Driver ?? 'local';
  view.Mode = m.Mode;
  view.RW = m.RW;
  view.Propagation = m.Propagation;
  return view;
}
