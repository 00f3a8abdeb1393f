/**
 * `docker system df` (GET /system/df): images, containers and volumes with the space they take,
 * in dockerd's DiskUsage shape. Berth has no build cache, so BuildCache is always empty.
 */
import type { ContainerSummary } from '../containers/views';
import type { ImageSummary } from '../images/image-views';
import type { VolumeView } from '../volumes/types';

/** A volume as system df lists it. */
export type VolumeUsage = VolumeView & { UsageData: { Size: number; RefCount: number } };

export interface DiskUsageSources {
  images(): Promise<{ LayersSize: number; Images: ImageSummary[] }>;
  /** Containers (all of them) with SizeRw and SizeRootFs. */
  containers(): Promise<ContainerSummary[]>;
  volumes(): Promise<VolumeUsage[]>;
  /** How many containers use an image. */
  imageUsers(imageId: string): number;
}

/** GET /system/df */
export interface DiskUsage {
  LayersSize: number;
  Images: ImageSummary[];
  Containers: ContainerSummary[];
  Volumes: VolumeUsage[];
  /** Always empty: Berth has no build cache. */
  BuildCache: never[];
}

export async function diskUsage(src: DiskUsageSources): Promise<DiskUsage> {
  const [images, containers, volumes] = await Promise.all([src.images(), src.containers(), src.volumes()]);
  return {
    LayersSize: images.LayersSize,
    Images: images.Images.map((i) => ({ ...i, Containers: src.imageUsers(String(i.Id)) })),
    Containers: containers,
    Volumes: volumes,
    BuildCache: [],
  };
}
