/**
 * docker cp / export / diff over a container's root filesystem (`[moby] daemon/archive*.go`,
 * `daemon/export.go`, `daemon/changes.go`). A running container is read and written through its
 * mounted overlay; a created or stopped one gets its overlay (image layers + its own upper dir)
 * mounted at a private path for the operation, under the container's lifecycle lock so it cannot
 * start meanwhile. Writes land in the upper dir either way, so they persist and show in diff.
 *
 * cp sees the container's volumes and binds at their destinations (archive-root.ts); export and
 * diff see the root filesystem alone, as with dockerd.
 */
import { chmod, lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from 'pino';
import type * as tar from 'tar-stream';
import { InvalidParameterError, NotFoundError } from '../../../errors';
import type { FsTools } from '../../../host/fs-tools';
import { extractLayer } from '../../images/layer-extract';
import { resolveInRoot } from '../../images/safe-path';
import type { ContainerDirs } from '../container-files';
import type { ContainerRecords } from '../container-records';
import type { ContainerRecord } from '../types';
import { resolveUser } from '../user';
import { mountAt, withArchiveRoot, type RootSource } from './archive-root';
import type { StorageDriverName } from '../../../host/overlay-driver';
import { computeChanges, type Change } from './changes';
import { packUpperLayer } from './layer-pack';
import type { MountPoint } from '../types';
import { errNoSuchPath, pathStat, resolveContainerPath, type PathStat } from './container-path';
import { TreePacker } from './tar-pack';
import { spoolArchive } from './upload-spool';
import { packStream } from '../../images/pack-stream';
import type { IdMap } from '../../userns/id-map';
import { toContainerOwner, toHostOwner } from './owner-shift';

export interface ContainerArchiveDeps {
  /** Lookup, directories, and the per-container lifecycle lock. */
  records: Pick<ContainerRecords, 'get' | 'dirs' | 'locked'>;
  layerDirs(imageId: string): Promise<string[]>;
  /** The host directory of a volume (undefined for a tmpfs volume). */
  volumeDir(name: string): Promise<string | undefined>;
  fsTools: FsTools;
  log: Logger;
  /** userns-remap: the mapping container `c` runs under (none: the host's ids). */
  idMapOf?: (c: ContainerRecord) => IdMap | undefined;
  /** How the overlay was mounted: fuse-overlayfs marks opaque dirs and mounts views its own way. */
  storageDriver?: StorageDriverName;
}

export interface PutArchiveOptions {
  path: string;
  noOverwriteDirNonDir: boolean;
  copyUIDGID: boolean;
  signal?: AbortSignal;
  /**
   * The tar is Berth's own (the builder's COPY): extract it as it streams instead of first
   * checking the whole archive (upload-spool.ts).
   */
  trusted?: boolean;
}

export interface ArchiveStream {
  stat: PathStat;
  stream: Readable;
}

export class ContainerArchive {
  constructor(private readonly deps: ContainerArchiveDeps) {}

  /** HEAD /containers/{id}/archive */
  statPath(ref: string, path: string): Promise<PathStat> {
    const c = this.deps.records.get(ref);
    return this.withRoot(c, async (root) => pathStat(root, await resolveContainerPath(root, path, containerName(c))));
  }

  /** GET /containers/{id}/archive: the stat and a tar of the path rebased to its name. */
  getArchive(ref: string, path: string): Promise<ArchiveStream> {
    const c = this.deps.records.get(ref);
    return this.streamFromRoot(c, async (root, pack) => {
      const resolved = await resolveContainerPath(root, path, containerName(c));
      const stat = await pathStat(root, resolved);
      const produce = async () => {
        const name = resolved.name === '/' ? '' : resolved.name;
        await new TreePacker(pack, this.tarOwners(c)).add(resolved.hostPath, name === '.' ? '.' : name, resolved.stat);
      };
      return { stat, produce };
    });
  }

  /** GET /containers/{id}/export: the whole root filesystem. */
  async export(ref: string): Promise<Readable> {
    const c = this.deps.records.get(ref);
    const { stream } = await this.streamFromRoot(c, async (root, pack) => ({
      stat: undefined as unknown as PathStat,
      produce: () => new TreePacker(pack, this.tarOwners(c)).addContents(root),
    }), true);
    return stream;
  }

  /** PUT /containers/{id}/archive: extracts a tar into an existing directory of the container. */
  async putArchive(ref: string, body: Readable, opts: PutArchiveOptions): Promise<void> {
    const c = this.deps.records.get(ref);
    if (opts.trusted) return this.extractInto(c, body, opts);
    // Read to the end before the lock is taken: a slow upload must not hold the container.
    const spool = await spoolArchive(body, this.deps.records.dirs(c.id).dir, opts.signal);
    try {
      await this.extractInto(c, spool.open(), opts);
    } finally {
      await spool.dispose();
    }
  }

  private extractInto(c: ContainerRecord, body: Readable, opts: PutArchiveOptions): Promise<void> {
    const idMap = this.deps.idMapOf?.(c);
    return this.withRoot(c, async (root) => {
      let resolved;
      try {
        resolved = await resolveContainerPath(root, opts.path, containerName(c));
      } catch (err) {
        body.resume();
        throw err;
      }
      // The extraction point is the directory itself, even when reached through a symlink.
      const link = resolved.stat.isSymbolicLink();
      const dirRel = link ? posix.relative(root, await resolveInRoot(root, resolved.rel, { followLast: true, scoped: true })) : resolved.rel;
      const dirStat = link ? await lstat(join(root, dirRel)).catch(() => undefined) : resolved.stat;
      if (!dirStat) {
        body.resume();
        throw errNoSuchPath(opts.path, containerName(c));
      }
      if (!dirStat.isDirectory()) {
        body.resume();
        throw new InvalidParameterError('extraction point is not a directory');
      }
      try {
        assertWritable(c, `/${dirRel}`);
      } catch (err) {
        body.resume();
        throw err;
      }
      await extractLayer(body, root, {
        fsTools: this.deps.fsTools,
        log: this.deps.log,
        signal: opts.signal,
        base: dirRel,
        scoped: true,
        whiteouts: false,
        noOverwriteDirNonDir: opts.noOverwriteDirNonDir,
        owner: opts.copyUIDGID ? await containerUser(c, root) : undefined,
        mapOwner: idMap && ((o) => toHostOwner(idMap, o)),
      });
    });
  }

  /**
   * The container's changes as an image layer tar (docker commit). Read from the upper dir
   * directly; a running container may still be writing (dockerd pauses it first by default).
   */
  async layerTar(c: ContainerRecord): Promise<Readable> {
    const d = this.deps.records.dirs(c.id);
    const lower = await this.deps.layerDirs(c.image);
    const { pack, out } = packStream();
    packUpperLayer(d.upper, lower, pack, { getXattr: (p, n) => this.deps.fsTools.getXattr(p, n), idMap: this.deps.idMapOf?.(c), driver: this.deps.storageDriver }).catch((err: Error) => {
      this.deps.log.warn({ err, container: c.id }, 'packing the container layer failed');
      out.destroy(err);
    });
    return out;
  }

  /** GET /containers/{id}/changes */
  async changes(ref: string): Promise<Change[]> {
    const c = this.deps.records.get(ref);
    const d = this.deps.records.dirs(c.id);
    const lower = await this.deps.layerDirs(c.image);
    return computeChanges(d.upper, lower, { getXattr: (p, n) => this.deps.fsTools.getXattr(p, n), idMap: this.deps.idMapOf?.(c), driver: this.deps.storageDriver });
  }

  /** The tar's owners of host files: container ids under userns-remap. */
  private tarOwners(c: ContainerRecord): ((o: { uid: number; gid: number }) => { uid: number; gid: number }) | undefined {
    const idMap = this.deps.idMapOf?.(c);
    return idMap && ((o) => toContainerOwner(idMap, o));
  }

  /**
   * Runs `fn` while the producer fills a tar stream; resolves with the stream once `fn` has
   * validated (errors before that are ordinary errors) and keeps the rootfs until it ends.
   */
  private streamFromRoot(
    c: ContainerRecord,
    fn: (root: string, pack: tar.Pack) => Promise<{ stat: PathStat; produce: () => Promise<void> }>,
    rootOnly = false,
  ): Promise<ArchiveStream> {
    return new Promise<ArchiveStream>((resolve, reject) => {
      let started = false;
      this.withRoot(c, async (root) => {
        const { pack, out } = packStream();
        const { stat, produce } = await fn(root, pack);
        started = true;
        resolve({ stat, stream: out });
        try {
          await produce();
          pack.finalize();
        } catch (err) {
          this.deps.log.warn({ err, container: c.id }, 'archive stream failed');
          out.destroy(err as Error);
        }
        await finished(out).catch(() => undefined);
      }, rootOnly).catch((err) => {
        if (!started) reject(err);
        else this.deps.log.warn({ err, container: c.id }, 'releasing container rootfs after archive failed');
      });
    });
  }

  /**
   * Runs `fn` with a private view of the container's filesystem: its root plus, unless
   * `rootOnly`, its volumes and binds (see archive-root.ts). A container that is not running
   * is held under its lifecycle lock so it cannot start meanwhile.
   */
  private withRoot<T>(c: ContainerRecord, fn: (root: string) => Promise<T>, rootOnly = false): Promise<T> {
    const d = this.deps.records.dirs(c.id);
    const view = async (src: RootSource) => {
      const mounts = rootOnly ? [] : [...(c.mounts ?? []), ...(await etcMounts(c, d))];
      return withArchiveRoot(src, mounts, { volumeDir: this.deps.volumeDir }, fn);
    };
    if (c.state.Running) return view({ containerDir: d.dir, runningRoot: d.merged });
    return this.deps.records.locked(c.id, async () => {
      if (c.state.Running) return view({ containerDir: d.dir, runningRoot: d.merged });
      const lowerDirs = await this.deps.layerDirs(c.image).catch((cause) => {
        throw new NotFoundError(`No such image: ${c.image}`, { cause });
      });
      return view({ containerDir: d.dir, overlay: { upper: d.upper, work: d.work, lowerDirs }, idMap: this.deps.idMapOf?.(c), driver: this.deps.storageDriver });
    });
  }
}

/**
 * dockerd's checks before extracting (`[moby] daemon/archive.go` extractToDir): a destination in
 * a read-only volume or, outside volumes, on a read-only root filesystem is refused.
 */
function assertWritable(c: ContainerRecord, containerPath: string): void {
  const m = mountAt(c.mounts ?? [], containerPath);
  if (m && m.Type !== 'tmpfs' && !m.RW) throw new InvalidParameterError('mounted volume is marked read-only');
  if (!m && c.hostConfig.ReadonlyRootfs) throw new InvalidParameterError('container rootfs is marked read-only');
}

const containerName = (c: ContainerRecord) => c.name.replace(/^\//, '');

const ETC_FILES = [
  ['/etc/resolv.conf', 'resolvConfPath'],
  ['/etc/hostname', 'hostnamePath'],
  ['/etc/hosts', 'hostsPath'],
] as const;

/**
 * /etc/resolv.conf, /etc/hostname and /etc/hosts as dockerd's cp shows them: the container's
 * own files once it has started (its network mounts), and before that the empty 0755 files of
 * dockerd's init layer. A bind mount of the user's at one of them wins.
 */
async function etcMounts(c: ContainerRecord, d: ContainerDirs): Promise<MountPoint[]> {
  const taken = new Set((c.mounts ?? []).map((m) => posix.normalize(m.Destination)));
  const out: MountPoint[] = [];
  for (const [dest, key] of ETC_FILES) {
    if (taken.has(dest)) continue;
    let source = d[key];
    if (!(await exists(source))) {
      source = join(d.dir, 'init-etc', posix.basename(dest));
      await mkdir(dirname(source), { recursive: true });
      await writeFile(source, '', { mode: 0o755 });
      await chmod(source, 0o755);
    }
    out.push({ Type: 'bind', Source: source, Destination: dest, Mode: '', RW: true, Propagation: 'rprivate' });
  }
  return out;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/** Config.User as uid/gid, names looked up in the container's own passwd/group (`cp -a`). */
async function containerUser(c: ContainerRecord, root: string): Promise<{ uid: number; gid: number }> {
  const u = await resolveUser(root, String(c.config.User ?? ''));
  return { uid: u.uid, gid: u.gid };
}
