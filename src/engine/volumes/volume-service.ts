/**
 * Owns Docker volumes of the `local` driver: their records (`volume:<name>`), their directories
 * `<root>/<name>/_data`, and the host mounts that `type`/`device`/`o` options describe. Which
 * containers use a volume is the container service's knowledge; this service asks `usersOf`.
 *
 * Mutations (create, remove, prune, mounting on first use) are serialized by one lock; reads use
 * the in-memory copy of the records. Messages and semantics follow dockerd
 * (moby daemon/volume/service, daemon/volume/local).
 */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import type { Logger } from 'pino';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../errors';
import type { Store } from '../store/store';
import { KEY, PREFIX } from '../store/schema';
import { listFilter, pruneFilter, type Filters } from './filters';
import { mountOptionsOf, nameProblem, optionsProblem } from './local-options';
import { hostMounter, type Mounter } from './mounter';
import { treeSize } from '../tree-size';
import type { EventSink } from '../events/event-log';
import {
  ANONYMOUS_LABEL,
  type CreateVolumeOptions,
  type VolumeListResult,
  type VolumeMountSource,
  type VolumePruneResult,
  type VolumeRecord,
  type VolumeView,
} from './types';

export type { CreateVolumeOptions, VolumeRecord, VolumeView } from './types';

export interface VolumeServiceDeps {
  store: Store;
  /** `<data-root>/volumes` */
  root: string;
  log: Logger;
  /** IDs of containers that use the volume (the container service knows them). */
  usersOf: (name: string) => string[];
  /** Host mounts; the real mount(8)/umount(8) unless given. */
  mounter?: Mounter;
  events?: EventSink;
  /** userns-remap: the host ids of the containers' root, who owns a new volume's `_data` (dockerd). */
  dataOwner?: { uid: number; gid: number };
}

/** Go's time.RFC3339 in the host's zone: seconds, then `Z` or `±hh:mm`. */
export function rfc3339(d: Date): string {
  const offsetMin = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + offsetMin * 60_000).toISOString().replace(/\.\d{3}Z$/, '');
  if (offsetMin === 0) return `${local}Z`;
  const abs = Math.abs(offsetMin);
  return `${local}${offsetMin < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const errNoSuchVolume = (name: string) => new NotFoundError(`get ${name}: no such volume`);

export class VolumeService {
  private readonly volumes = new Map<string, VolumeRecord>();
  private readonly mounter: Mounter;
  private lock: Promise<unknown> = Promise.resolve();
  private pruning = false;

  constructor(private readonly deps: VolumeServiceDeps) {
    this.mounter = deps.mounter ?? hostMounter;
  }

  /** Runs `fn` after every mutation queued before it. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Creates the volumes root (0701, as dockerd) and loads the records. */
  init(): Promise<void> {
    return this.serialize(async () => {
      await mkdir(this.deps.root, { recursive: true, mode: 0o701 });
      for (const { value } of await this.deps.store.list<VolumeRecord>(PREFIX.volume)) this.volumes.set(value.name, value);
    });
  }

  /**
   * POST /volumes/create. No name: a random 64-hex name and the anonymous label. An existing
   * name is returned as it is, whatever the options (dockerd: create is idempotent).
   */
  create(opts: CreateVolumeOptions): Promise<VolumeView> {
    return this.serialize(async () => this.view(await this.createRecord(opts)));
  }

  /** For containers: the named volume (created on first use) or a new anonymous one; its name. */
  async ensure(name: string | undefined, labels?: Record<string, string>): Promise<string> {
    if (name && this.volumes.has(name)) return name;
    return this.serialize(async () => (await this.createRecord({ Name: name, Labels: labels })).name);
  }

  /** GET /volumes/{name}. */
  inspect(name: string): VolumeView {
    return this.view(this.get(name));
  }

  /** GET /volumes, sorted by name. */
  /** `docker system df`: every volume with its size and how many containers use it. */
  async usage(): Promise<Array<VolumeView & { UsageData: { Size: number; RefCount: number } }>> {
    return Promise.all(
      [...this.volumes.values()].map(async (rec) => ({
        ...this.view(rec),
        UsageData: { Size: await treeSize(this.dataDir(rec.name)).catch(() => -1), RefCount: this.deps.usersOf(rec.name).length },
      })),
    );
  }

  list(filters: Filters): VolumeListResult {
    const pass = listFilter(filters, (name) => this.deps.usersOf(name).length > 0);
    const found = [...this.volumes.values()].filter(pass).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { Volumes: found.map((v) => this.view(v)), Warnings: null };
  }

  /** DELETE /volumes/{name}. `force` only forgives a missing volume, never one in use. */
  remove(name: string, opts: { force: boolean } = { force: false }): Promise<void> {
    return this.serialize(async () => {
      const rec = this.volumes.get(name);
      if (!rec) {
        if (opts.force) return;
        throw errNoSuchVolume(name);
      }
      await this.removeRecord(rec);
    });
  }

  /**
   * POST /volumes/prune: unused local volumes without driver options that pass the filters;
   * anonymous ones only unless `all=true`. A volume that cannot be removed is skipped.
   */
  async prune(filters: Filters): Promise<VolumePruneResult> {
    const pass = pruneFilter(filters);
    if (this.pruning) throw new ConflictError('a prune operation is already running');
    this.pruning = true;
    try {
      return await this.serialize(async () => {
        const result: VolumePruneResult = { VolumesDeleted: [], SpaceReclaimed: 0 };
        for (const rec of [...this.volumes.values()]) {
          if (rec.options && Object.keys(rec.options).length) continue;
          if (!pass(rec) || this.deps.usersOf(rec.name).length) continue;
          const size = await treeSize(this.dataDir(rec.name)).catch((err) => {
            this.deps.log.warn({ err, volume: rec.name }, 'could not determine size of volume');
            return 0;
          });
          try {
            await this.removeRecord(rec);
          } catch (err) {
            this.deps.log.warn({ err, volume: rec.name }, 'could not remove volume');
            continue;
          }
          result.SpaceReclaimed += size;
          result.VolumesDeleted.push(rec.name);
        }
        return result;
      });
    } finally {
      this.pruning = false;
    }
  }

  /**
   * How a container mounts the volume. Plain volumes: a bind of `_data`. `type=tmpfs`: a tmpfs
   * with the `o` options. `type=none o=bind device=X`: a bind of X (which must exist). Any other
   * type: mounted on `_data` on first use, then bound.
   */
  async mountSource(name: string): Promise<VolumeMountSource> {
    const rec = this.get(name);
    const data = this.dataDir(name);
    const o = rec.options ?? {};
    if (!o.type && !o.device) return { source: data, type: 'bind' };
    const options = mountOptionsOf(o.o);
    const device = o.device ?? '';
    const fstype = o.type ?? '';
    if (fstype === 'tmpfs') return { source: 'tmpfs', type: 'tmpfs', options, device, fstype };
    const failed = (why: string, cause?: unknown) => new Error(`error while mounting volume '${data}': failed to mount local volume: ${why}`, { cause });
    if (options.includes('bind') || options.includes('rbind')) {
      const st = await stat(device).catch(() => undefined);
      if (!st) {
        const flags = options.includes('rbind') ? '0x5000' : '0x1000';
        throw failed(`mount ${device}:${data}, flags: ${flags}: no such file or directory`);
      }
      return { source: device, type: 'bind', options: options.filter((x) => x !== 'bind' && x !== 'rbind'), device, fstype };
    }
    await this.serialize(async () => {
      if (!this.volumes.has(name)) throw errNoSuchVolume(name);
      if (await this.mounter.isMounted(data)) return;
      await mkdir(data, { recursive: true, mode: 0o755 });
      await this.mounter.mount(fstype, device, data, options).catch((err) => {
        throw failed((err as Error).message, err);
      });
      this.deps.log.info({ volume: name, fstype, device }, 'volume mounted');
    });
    return { source: data, type: 'mount', options, device, fstype };
  }

  /** Whether the volume has no content yet (for the copy-up of image content). */
  async isEmpty(name: string): Promise<boolean> {
    const src = await this.mountSource(name);
    if (src.type === 'tmpfs') return true;
    return (await readdir(src.source).catch(() => [])).length === 0;
  }

  /** Unmounts a device volume no container uses any more (dockerd does so on the last unmount). */
  release(name: string): Promise<void> {
    return this.serialize(async () => {
      const rec = this.volumes.get(name);
      if (!rec || this.deps.usersOf(name).length) return;
      await this.unmountData(rec);
    });
  }

  /** The record of a volume; 404 with dockerd's message. */
  get(name: string): VolumeRecord {
    const rec = this.volumes.get(name);
    if (!rec) throw errNoSuchVolume(name);
    return rec;
  }

  private dataDir(name: string): string {
    return join(this.deps.root, name, '_data');
  }

  /** Under the lock. */
  private async createRecord(opts: CreateVolumeOptions): Promise<VolumeRecord> {
    const driver = opts.Driver || 'local';
    const name = opts.Name || randomBytes(32).toString('hex');
    const existing = this.volumes.get(name);
    if (driver !== 'local') throw new NotFoundError(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    if (existing) return existing;
    const problem = nameProblem(name) ?? optionsProblem(opts.DriverOpts);
    if (problem) throw new InvalidParameterError(`create ${name}: ${problem}`);
    let labels = opts.Labels ? { ...opts.Labels } : null;
    if (!opts.Name) labels = { ...labels, [ANONYMOUS_LABEL]: '' };
    const rec: VolumeRecord = {
      name,
      driver: 'local',
      createdAt: rfc3339(new Date()),
      labels,
      options: opts.DriverOpts ? { ...opts.DriverOpts } : null,
    };
    const rootPath = join(this.deps.root, name);
    try {
      await mkdir(rootPath, { recursive: true, mode: 0o701 });
      const made = await mkdir(this.dataDir(name), { mode: 0o755 }).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
          return false;
        },
      );
      const owner = this.deps.dataOwner;
      if (made && owner) await chown(this.dataDir(name), owner.uid, owner.gid);
      await this.deps.store.put(KEY.volume(name), rec);
    } catch (err) {
      await rm(rootPath, { recursive: true, force: true }).catch(() => undefined);
      throw new Error(`create ${name}: error while creating volume data path '${this.dataDir(name)}': ${(err as Error).message}`, { cause: err });
    }
    this.volumes.set(name, rec);
    this.deps.log.info({ volume: name }, 'volume created');
    this.deps.events?.publish('volume', 'create', { ID: name, Attributes: { driver: rec.driver } });
    return rec;
  }

  /** Under the lock. */
  private async removeRecord(rec: VolumeRecord): Promise<void> {
    const users = this.deps.usersOf(rec.name);
    if (users.length) throw new ConflictError(`remove ${rec.name}: volume is in use - [${users.join(', ')}]`);
    await this.unmountData(rec);
    const rootPath = join(this.deps.root, rec.name);
    const rel = relative(this.deps.root, rootPath);
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`unable to remove a directory outside of the local volume root ${this.deps.root}: ${rootPath}`);
    await rm(rootPath, { recursive: true, force: true }).catch((err) => {
      throw new Error(`remove ${rec.name}: error removing volume path '${rootPath}': ${(err as Error).message}`, { cause: err });
    });
    await this.deps.store.del(KEY.volume(rec.name));
    this.volumes.delete(rec.name);
    this.deps.log.info({ volume: rec.name }, 'volume removed');
    this.deps.events?.publish('volume', 'destroy', { ID: rec.name, Attributes: { driver: rec.driver } });
  }

  /** Unmounts `_data` if something is mounted there; fails only if it stays mounted. */
  private async unmountData(rec: VolumeRecord): Promise<void> {
    const data = this.dataDir(rec.name);
    if (!(await this.mounter.isMounted(data))) return;
    try {
      await this.mounter.unmount(data);
    } catch (err) {
      if (await this.mounter.isMounted(data)) throw new Error(`remove ${rec.name}: cannot unmount ${data}: ${(err as Error).message}`, { cause: err });
    }
  }

  private view(rec: VolumeRecord): VolumeView {
    return {
      CreatedAt: rec.createdAt,
      Driver: rec.driver,
      Labels: rec.labels ? { ...rec.labels } : null,
      Mountpoint: this.dataDir(rec.name),
      Name: rec.name,
      Options: rec.options ? { ...rec.options } : null,
      Scope: 'local',
    };
  }
}
