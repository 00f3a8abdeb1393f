import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isMounted, mountFilesystem, unmount } from '../containers/rootfs';
import { ConflictError, InvalidParameterError, NotFoundError } from '../errors';
import { labelsMatch } from '../labels';
import type { Store } from '../store/store';
import { KEY, PREFIX } from '../store/schema';

/** A volume as stored (LevelDB `volume:<name>`). */
export interface VolumeRecord {
  name: string;
  driver: 'local';
  createdAt: string;
  labels: Record<string, string>;
  /** Local driver options as given (`type`, `device`, `o`), or null. */
  options: Record<string, string> | null;
}

export interface CreateVolumeOptions {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface VolumeServiceDeps {
  store: Store;
  /** `<data-root>/volumes` */
  root: string;
  log: Logger;
  /** IDs of containers that mount the volume (the container service knows them). */
  usersOf(name: string): string[];
}

const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const KNOWN_FILTERS = new Set(['dangling', 'name', 'label', 'driver']);

/** dockerd's CreatedAt: RFC 3339 with seconds. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Volumes with the local driver: a directory `<root>/<name>/_data`, or what the `type`/`device`/`o`
 * options describe (tmpfs, a bind of a host path, any other mountable filesystem).
 */
export class VolumeService {
  private readonly volumes = new Map<string, VolumeRecord>();
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: VolumeServiceDeps) {}

  async init(): Promise<void> {
    await mkdir(this.deps.root, { recursive: true, mode: 0o701 });
    for (const { value } of await this.deps.store.list<VolumeRecord>(PREFIX.volume)) this.volumes.set(value.name, value);
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private dataDir(name: string): string {
    return join(this.deps.root, name, '_data');
  }

  private get(name: string): VolumeRecord {
    const v = this.volumes.get(name);
    if (!v) throw new NotFoundError(`get ${name}: no such volume`);
    return v;
  }

  /** Creates a volume; an existing one of the same name is returned as it is (dockerd). */
  create(opts: CreateVolumeOptions): Promise<ReturnType<VolumeService['view']>> {
    return this.serialize(async () => {
      const driver = opts.Driver || 'local';
      if (driver !== 'local') throw new NotFoundError(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
      const name = opts.Name || randomBytes(32).toString('hex');
      if (!VALID_NAME.test(name)) {
        throw new InvalidParameterError(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
      }
      const existing = this.volumes.get(name);
      if (existing) return this.view(existing);
      const options = opts.DriverOpts && Object.keys(opts.DriverOpts).length ? { ...opts.DriverOpts } : null;
      checkOptions(name, options);
      const rec: VolumeRecord = { name, driver: 'local', createdAt: rfc3339(new Date()), labels: { ...(opts.Labels ?? {}) }, options };
      await mkdir(this.dataDir(name), { recursive: true, mode: 0o755 });
      await this.deps.store.put(KEY.volume(name), rec);
      this.volumes.set(name, rec);
      return this.view(rec);
    });
  }

  /** For containers: the named volume (created on first use) or a new anonymous one. */
  async ensure(name: string | undefined, labels?: Record<string, string>): Promise<string> {
    if (name && this.volumes.has(name)) return name;
    return (await this.create({ Name: name, Labels: labels ?? (name ? undefined : { [ANONYMOUS_LABEL]: '' }) })).Name;
  }

  inspect(name: string) {
    return this.view(this.get(name));
  }

  list(filters: Record<string, string[]>) {
    for (const key of Object.keys(filters)) if (!KNOWN_FILTERS.has(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
    const dangling = filters.dangling?.[0];
    if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) {
      throw new InvalidParameterError(`invalid filter 'dangling=${dangling}'`);
    }
    const vols = [...this.volumes.values()].filter((v) => {
      if (dangling !== undefined && (this.deps.usersOf(v.name).length === 0) !== (dangling === 'true' || dangling === '1')) return false;
      if (filters.name?.length && !filters.name.some((n) => v.name.includes(n))) return false;
      if (filters.driver?.length && !filters.driver.includes(v.driver)) return false;
      return labelsMatch(filters.label ?? [], v.labels);
    });
    return { Volumes: vols.map((v) => this.view(v)), Warnings: [] as string[] };
  }

  remove(name: string, opts: { force: boolean }): Promise<void> {
    return this.serialize(async () => {
      const v = this.volumes.get(name);
      if (!v) {
        if (opts.force) return;
        throw new NotFoundError(`get ${name}: no such volume`);
      }
      const users = this.deps.usersOf(name);
      if (users.length) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      await this.unmountIfMounted(name);
      await rm(join(this.deps.root, name), { recursive: true, force: true });
      await this.deps.store.del(KEY.volume(name));
      this.volumes.delete(name);
    });
  }

  /** Removes unused volumes: anonymous ones only unless `all` (API ≥ 1.42 semantics). */
  async prune(filters: Record<string, string[]>, all: boolean): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of [...this.volumes.values()]) {
      if (this.deps.usersOf(v.name).length) continue;
      if (!all && !(ANONYMOUS_LABEL in v.labels)) continue;
      if (!labelsMatch(filters.label ?? [], v.labels)) continue;
      reclaimed += await dirSize(this.dataDir(v.name));
      await this.remove(v.name, { force: true }).catch((err) => this.deps.log.warn({ err, volume: v.name }, 'prune failed'));
      deleted.push(v.name);
    }
    return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  async isEmpty(name: string): Promise<boolean> {
    return (await readdir((await this.mountSource(name)).source).catch(() => [])).length === 0;
  }

  /** How a container mounts the volume: its data dir, a host path (bind), or a tmpfs. */
  async mountSource(name: string): Promise<{ source: string; type: 'bind' | 'tmpfs' | 'mount'; options?: string[] }> {
    const v = this.get(name);
    const o = v.options ?? {};
    const mountOpts = (o.o ?? '').split(',').filter(Boolean);
    if (o.type === 'tmpfs') return { source: 'tmpfs', type: 'tmpfs', options: mountOpts };
    if (o.type === 'none' && mountOpts.includes('bind') && o.device) {
      if (!(await stat(o.device).catch(() => undefined))) throw new InvalidParameterError(`error while mounting volume '${this.dataDir(name)}': failed to mount local volume: no such file or directory: ${o.device}`);
      return { source: o.device, type: 'bind' };
    }
    if (o.type && o.device) {
      // Any other filesystem: mounted once on the data dir, which containers then bind.
      await this.mountDevice(name, o.type, o.device, mountOpts);
      return { source: this.dataDir(name), type: 'mount' };
    }
    return { source: this.dataDir(name), type: 'bind' };
  }

  private async mountDevice(name: string, type: string, device: string, options: string[]): Promise<void> {
    const target = this.dataDir(name);
    if (await isMounted(target)) return;
    await mountFilesystem(type, device, target, options).catch((err) => {
      throw new InvalidParameterError(`error while mounting volume '${target}': failed to mount local volume: ${(err as Error).message}`, { cause: err });
    });
  }

  private async unmountIfMounted(name: string): Promise<void> {
    const target = this.dataDir(name);
    if (await isMounted(target)) await unmount(target).catch(() => undefined);
  }

  private view(v: VolumeRecord) {
    return {
      CreatedAt: v.createdAt,
      Driver: v.driver,
      Labels: v.labels,
      Mountpoint: this.dataDir(v.name),
      Name: v.name,
      Options: v.options,
      Scope: 'local',
    };
  }
}

function checkOptions(name: string, options: Record<string, string> | null): void {
  for (const key of Object.keys(options ?? {})) {
    if (!['type', 'device', 'o', 'size'].includes(key)) throw new InvalidParameterError(`create ${name}: invalid option key: "${key}"`);
  }
  if (options && options.type && options.type !== 'tmpfs' && !options.device) {
    throw new InvalidParameterError(`create ${name}: missing required option: "device"`);
  }
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
