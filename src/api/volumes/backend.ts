import type { CreateVolumeOptions } from '../../engine/volumes/volume-service';

/** What the volume routes need from the engine. */
export interface VolumeBackend {
  list(filters: Record<string, string[]>): object;
  create(opts: CreateVolumeOptions): Promise<object>;
  inspect(name: string): object;
  remove(name: string, opts: { force: boolean }): Promise<void>;
  prune(filters: Record<string, string[]>, all: boolean): Promise<object>;
}
