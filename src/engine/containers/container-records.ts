/**
 * The container records: the in-memory map (loaded from the store at start), lookup by ID, name
 * or ID prefix, durable writes (one LevelDB batch where a record and its name must agree), name
 * reservation, the per-container lock that serializes operations on one container, and
 * container events. Every part of the container engine reaches records through this class; it
 * depends on none of them.
 */
import { mkdir } from 'node:fs/promises';
import type { MonitorPaths } from '../../runtime/types';
import { ConflictError, InvalidParameterError, errNoSuchContainer } from '../../errors';
import type { EventSink } from '../events/event-log';
import { KEY, PREFIX } from '../store/schema';
import type { Store } from '../store/store';
import { containerDirs, monitorPaths, type ContainerDirs } from './container-files';
import { shortId } from '../ids';
import { generateName, normalizeName } from './names';
import type { ContainerRecord } from './types';

export interface ContainerRecordsDeps {
  store: Store;
  /** `<data-root>/containers` */
  root: string;
  events?: EventSink;
}

export class ContainerRecords {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private nameLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ContainerRecordsDeps) {}

  /** Loads every record from the store (at daemon start). */
  async load(): Promise<void> {
    await mkdir(this.deps.root, { recursive: true });
    for (const { value } of await this.deps.store.list<ContainerRecord>(PREFIX.container)) this.byId.set(value.id, value);
  }

  // ---- lookup ----

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** By full ID only; undefined when there is none. */
  find(id: string): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  /** Full ID, then exact name, then unique ID prefix (dockerd's order); 404 when none. */
  get(ref: string): ContainerRecord {
    const byId = this.byId.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    for (const c of this.byId.values()) if (c.name === name) return c;
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = [...this.byId.values()].filter((c) => c.id.startsWith(ref));
      if (matches.length > 1) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${ref}`);
      if (matches.length === 1) return matches[0];
    }
    throw errNoSuchContainer(ref);
  }

  /** Every record, in a new array (callers may remove containers while they walk it). */
  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  dirs(id: string): ContainerDirs {
    return containerDirs(this.deps.root, id);
  }

  /** The files the container's monitor works with. */
  monitorPaths(id: string): MonitorPaths {
    return monitorPaths(this.dirs(id), this.byId.get(id)?.monitorLogPath);
  }

  // ---- writes ----

  /** Stores a changed record; a container removed meanwhile stays removed. */
  async save(c: ContainerRecord): Promise<void> {
    if (!this.byId.has(c.id)) return;
    await this.deps.store.put(KEY.container(c.id), c);
  }

  /**
   * Stores a new record with its name (`name` as the client asked, or a generated one) in one
   * batch; 409 when the name is taken.
   */
  add(record: ContainerRecord, name: string | undefined): Promise<void> {
    return this.withNameLock(async () => {
      record.name = name ? normalizeName(name) : this.freeGeneratedName(record.id);
      this.assertNameFree(record.name);
      await this.deps.store.batch([
        { type: 'put', key: KEY.container(record.id), value: record },
        { type: 'put', key: KEY.containerName(record.name), value: record.id },
      ]);
      this.byId.set(record.id, record);
    });
  }

  /** POST /containers/{id}/rename */
  async rename(ref: string, newName: string): Promise<void> {
    const c = this.get(ref);
    if (!newName) throw new InvalidParameterError('Neither old nor new names may be empty');
    const name = normalizeName(newName);
    if (name === c.name) throw new InvalidParameterError(`Renaming a container with the same name as its current name`);
    await this.withNameLock(async () => {
      this.assertNameFree(name);
      const old = c.name;
      c.name = name;
      await this.deps.store.batch([
        { type: 'del', key: KEY.containerName(old) },
        { type: 'put', key: KEY.containerName(name), value: c.id },
        { type: 'put', key: KEY.container(c.id), value: c },
      ]);
      this.emit(c, 'rename', { oldName: old });
    });
  }

  /**
   * The durable start of a removal: the record says `removing` (a daemon that dies before the
   * end finishes it at start) and the name is free again, in one batch.
   */
  async markRemoving(c: ContainerRecord): Promise<void> {
    c.state.Status = 'removing';
    await this.deps.store.batch([
      { type: 'put', key: KEY.container(c.id), value: c },
      { type: 'del', key: KEY.containerName(c.name) },
    ]);
  }

  /** The container is gone for clients (its record stays stored until `purge`). */
  drop(id: string): void {
    this.byId.delete(id);
  }

  /** The end of a removal: the stored record goes. */
  async purge(id: string): Promise<void> {
    await this.deps.store.del(KEY.container(id));
  }

  // ---- locking and events ----

  /** Serializes lifecycle operations on one container. */
  locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return run;
  }

  /** A container event: attributes are its labels, image and name (dockerd's). */
  emit(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    const attrs = { ...(c.config.Labels ?? {}), image: String(c.config.Image ?? ''), name: c.name.replace(/^\//, ''), ...extra };
    this.deps.events?.publish('container', action, { ID: c.id, Attributes: attrs });
  }

  // ---- names ----

  private assertNameFree(name: string): void {
    for (const other of this.byId.values()) {
      if (other.name === name) {
        throw new ConflictError(
          `Conflict. The container name "${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
    }
  }

  private freeGeneratedName(id: string): string {
    const taken = new Set([...this.byId.values()].map((c) => c.name));
    for (let i = 0; i < 6; i++) {
      const name = generateName();
      if (!taken.has(name)) return name;
    }
    return `/${shortId(id)}`;
  }

  private withNameLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.nameLock.then(fn, fn);
    this.nameLock = run.catch(() => undefined);
    return run;
  }
}
