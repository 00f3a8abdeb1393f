import type { CreateVolumeOptions, VolumeListResult, VolumePruneResult, VolumeView } from '../../engine/volumes/types';
import type { Filters } from '../../engine/filter-args';

/** What the volume routes need from the engine (the volume service answers all of it). */
export interface VolumeBackend {
  list(filters: Filters): VolumeListResult | Promise<VolumeListResult>;
  create(opts: CreateVolumeOptions): Promise<VolumeView>;
  inspect(name: string): VolumeView | Promise<VolumeView>;
  remove(name: string, opts: { force: boolean }): Promise<void>;
  /** `all=true` in the filters considers named volumes too. */
  prune(filters: Filters): Promise<VolumePruneResult>;
}
