/**
 * Read-only views over the records: `docker ps`, inspect, stats, sizes, the counts `docker info`
 * shows, and which containers use an image, a volume or a network namespace.
 */
import { treeSize } from '../tree-size';
import type { ImageLookup } from './container-deps';
import type { ContainerRecords } from './container-records';
import { matchesFilters, validateContainerFilters } from './filters';
import { linkName } from './legacy-links';
import { statsSamples, type ContainerStats, type StatsOptions } from './stats';
import type { ContainerRecord, ListContainersOptions } from './types';
import { containerInspect, containerSummary } from './views';
import { filterNamesNamespace, ownerNamespace } from './owner-namespace';

export interface ContainerQueriesDeps {
  records: ContainerRecords;
  images: ImageLookup;
  cgroupVersion: 1 | 2;
  /** The daemon's storage driver, named by container inspect (default overlay2). */
  storageDriver?: string;
}

export class ContainerQueries {
  constructor(private readonly deps: ContainerQueriesDeps) {}

  list(opts: ListContainersOptions) {
    const { records } = this.deps;
    validateContainerFilters(opts.filters);
    const createdOf = (ref: string) => {
      try {
        return records.get(ref).created;
      } catch {
        return undefined;
      }
    };
    const resolveImage = (ref: string) => records.all().find((c) => c.config.Image === ref)?.image;
    // Kubernetes' containers (owner-namespace.ts) only when the filter names their label.
    const namespaced = filterNamesNamespace(opts.filters.label);
    let items = records.all()
      .filter((c) => namespaced || !ownerNamespace(c))
      .filter((c) => opts.all || (opts.limit ?? 0) > 0 || opts.filters.status?.length || c.state.Running || c.state.Status === 'paused' || c.state.Status === 'restarting')
      .filter((c) => matchesFilters(c, opts.filters, resolveImage, createdOf))
      .sort((a, b) => (a.created < b.created ? 1 : -1));
    if (opts.limit !== undefined && opts.limit > 0) items = items.slice(0, opts.limit);
    const linkNames = this.linkNamesByChild();
    const summary = (c: ContainerRecord) => containerSummary(c, linkNames.get(c.id));
    if (!opts.size) return items.map(summary);
    return Promise.all(
      items.map(async (c) => {
        const image = await this.deps.images.resolve(c.image).catch(() => undefined);
        return { ...summary(c), ...(await this.sizes(c, image?.size ?? 0)) };
      }),
    );
  }

  /**
   * Bytes a container wrote to its own layer (SizeRw) and that plus its image (SizeRootFs), as
   * `docker ps -s` and `docker system df` show them.
   */
  async sizes(c: ContainerRecord, imageSize: number): Promise<{ SizeRw: number; SizeRootFs: number }> {
    const rw = await treeSize(this.deps.records.dirs(c.id).upper).catch(() => 0);
    return { SizeRw: rw, SizeRootFs: rw + imageSize };
  }

  /** `size`: also SizeRw and SizeRootFs (cri-dockerd's stats read them and fail without). */
  async inspect(ref: string, opts: { size?: boolean } = {}) {
    const c = this.deps.records.get(ref);
    const d = this.deps.records.dirs(c.id);
    const lowerDirs = await this.deps.images.layerDirs(c.image).catch(() => []);
    const image = opts.size ? await this.deps.images.resolve(c.image).catch(() => undefined) : undefined;
    return containerInspect(c, { ...d, lowerDirs, driver: this.deps.storageDriver }, this.linksOf(c), opts.size ? await this.sizes(c, image?.size ?? 0) : undefined);
  }

  /** GET /containers/{id}/stats (see stats.ts). */
  stats(ref: string, opts: StatsOptions): AsyncGenerator<ContainerStats> {
    return statsSamples(this.deps.records.get(ref), this.deps.cgroupVersion, opts);
  }

  /** Counts for `docker info`: the user's containers; other owners' per namespace. */
  counts() {
    const namespaces: Record<string, number> = {};
    for (const c of this.deps.records.all()) {
      const ns = ownerNamespace(c);
      if (ns) namespaces[ns] = (namespaces[ns] ?? 0) + 1;
    }
    const all = this.deps.records.all().filter((c) => !ownerNamespace(c));
    return {
      namespaces,
      total: all.length,
      running: all.filter((c) => c.state.Status === 'running').length,
      paused: all.filter((c) => c.state.Status === 'paused').length,
      stopped: all.filter((c) => !['running', 'paused'].includes(c.state.Status)).length,
    };
  }

  isRunning(id: string): boolean {
    const c = this.deps.records.find(id);
    return !!c && (c.state.Running || c.state.Status === 'paused');
  }

  /** IDs of containers created from `imageId` (the image service refuses to delete those). */
  usersOfImage(imageId: string): string[] {
    return this.deps.records.all().filter((c) => c.image === imageId).map((c) => c.id);
  }

  /** Containers that mount a volume (the volume service refuses to remove those). */
  usersOfVolume(name: string): string[] {
    return this.deps.records.all().filter((c) => c.mounts?.some((m) => m.Type === 'volume' && m.Name === name)).map((c) => c.id);
  }

  /** Running containers' namespaces, so the network layer keeps them at start-up cleanup. */
  liveNetns(): string[] {
    return this.deps.records.all().map((c) => c.network?.netnsPath).filter((p): p is string => !!p);
  }

  /** Legacy link names by child ID (`/<parent>/<alias>`), shown among the child's Names. */
  private linkNamesByChild(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const p of this.deps.records.all()) {
      for (const l of p.network?.links ?? []) out.set(l.id, [...(out.get(l.id) ?? []), linkName(p.name, l.alias)]);
    }
    return out;
  }

  /** HostConfig.Links as dockerd shows them: `/<child>:/<parent>/<alias>`, null when none. */
  private linksOf(c: ContainerRecord): string[] | null {
    const out: string[] = [];
    for (const l of c.network?.links ?? []) {
      const child = this.deps.records.find(l.id);
      if (child) out.push(`${child.name}:${linkName(c.name, l.alias)}`);
    }
    return out.length ? out : null;
  }
}
