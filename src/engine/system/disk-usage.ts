/**
 * `docker system df` (GET /system/df): images, containers and volumes with the space they take,
 * in dockerd's DiskUsage shape. Berth has no build cache, so BuildCache is always empty.
 */
export interface DiskUsageSources {
  images(): Promise<{ LayersSize: number; Images: Array<Record<string, unknown>> }>;
  /** Containers (all of them) with SizeRw and SizeRootFs. */
  containers(): Promise<object[]>;
  volumes(): Promise<object[]>;
  /** How many containers use an image. */
  imageUsers(imageId: string): number;
}

export async function diskUsage(src: DiskUsageSources): Promise<object> {
  const [images, containers, volumes] = await Promise.all([src.images(), src.containers(), src.volumes()]);
  return {
    LayersSize: images.LayersSize,
    Images: images.Images.map((i) => ({ ...i, Containers: src.imageUsers(String(i.Id)) })),
    Containers: containers,
    Volumes: volumes,
    BuildCache: [],
  };
}
