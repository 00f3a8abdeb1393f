/** `docker rm` (with `--link` and `-v`) and `docker container prune`. */
import { ownerNamespace } from './owner-namespace';
import type { Logger } from 'pino';
import { ConflictError, errNoSuchContainer } from '../../errors';
import { labelsMatch, parseTimeFilter, validateFilterKeys, type Filters } from '../filter-args';
import type { ContainerDisposal } from './container-disposal';
import type { ContainerNetworking } from './container-network';
import type { ContainerQueries } from './container-queries';
import type { ContainerRecords } from './container-records';
import type { ContainerRuns } from './container-runs';
import { removeAnonymousVolumes } from './container-volumes';
import type { VolumeLookup } from './mount-spec';
import type { RestartTimers } from './restart-policy';
import type { RemoveContainerOptions } from './types';

export interface ContainerRemovalDeps {
  records: ContainerRecords;
  runs: ContainerRuns;
  restarts: RestartTimers;
  disposal: ContainerDisposal;
  networking: ContainerNetworking;
  queries: ContainerQueries;
  volumes: VolumeLookup;
  log: Logger;
}

export class ContainerRemoval {
  constructor(private readonly deps: ContainerRemovalDeps) {}

  async remove(ref: string, opts: RemoveContainerOptions): Promise<void> {
    if (opts.link) return this.removeLink(ref);
    const { records } = this.deps;
    const c = records.get(ref);
    await records.locked(c.id, async () => {
      if (c.state.Running || c.state.Status === 'paused') {
        if (!opts.force) {
          throw new ConflictError(`cannot remove container "${c.name}": container is running: stop the container before removing or force remove`);
        }
        await this.deps.runs.killAndWait(c, 'SIGKILL', 30_000);
      }
      if (c.state.Status === 'removing') throw new ConflictError(`removal of container ${c.id} is already in progress`);
      if (c.state.Restarting) {
        if (!opts.force) throw new ConflictError('You cannot remove a restarting container. Stop the container before attempting removal or force remove');
        this.deps.restarts.reset(c.id);
      }
      await this.deps.disposal.dispose(c);
      if (opts.removeVolumes) await removeAnonymousVolumes(this.deps.volumes, this.deps.log, c.mounts ?? []);
    });
  }

  /** `docker rm --link parent/alias` (dockerd's rmLink): the link goes, both containers stay. */
  private async removeLink(ref: string): Promise<void> {
    const { records } = this.deps;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    const cut = name.lastIndexOf('/');
    if (cut === 0) {
      records.get(ref);
      throw new Error('Conflict, cannot remove the default link name of the container');
    }
    const parentName = name.slice(0, cut);
    const alias = name.slice(cut + 1);
    const parent = records.all().find((c) => c.name === parentName);
    const link = parent?.network?.links?.find((l) => l.alias === alias && records.has(l.id));
    if (!parent || !link) throw errNoSuchContainer(ref);
    await records.locked(parent.id, async () => {
      await this.deps.networking.links.remove(parent, alias);
      await records.save(parent);
    });
  }

  /** POST /containers/prune: stopped containers that pass the filters (until, label, label!). */
  async prune(filters: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    validateFilterKeys(filters, new Set(['until', 'label', 'label!']));
    const until = filters.until?.length ? parseTimeFilter(filters.until[0], Date.now()) : undefined;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of this.deps.records.all()) {
      if (c.state.Running || c.state.Paused || c.state.Restarting || c.state.Status === 'removing') continue;
      // Kubernetes' containers are kubelet's to collect, never the user's prune.
      if (ownerNamespace(c)) continue;
      const labels = c.config.Labels ?? {};
      if (until !== undefined && !(Date.parse(c.created) < until)) continue;
      if (!labelsMatch(filters.label ?? [], labels)) continue;
      if (filters['label!']?.length && labelsMatch(filters['label!'], labels)) continue;
      const size = (await this.deps.queries.sizes(c, 0)).SizeRw;
      try {
        await this.remove(c.id, { force: false, removeVolumes: false });
        deleted.push(c.id);
        reclaimed += size;
      } catch (err) {
        this.deps.log.debug({ err, container: c.id }, 'container kept by prune');
      }
    }
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }
}
