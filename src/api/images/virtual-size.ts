import { versionAtLeast } from '../version';

/**
 * `VirtualSize` of GET /images/json and GET /images/{name}/json: equal to `Size` since
 * content-addressed images (dockerd fills it from the same number), deprecated in API 1.43 and
 * omitted from 1.44 on. Clients of older versions rely on it: cri-dockerd refuses an image whose
 * VirtualSize is missing ("Id or size of image ... is not set").
 *
 * Placed right after `Size`, where dockerd's struct puts it.
 */
export function withVirtualSize<T extends object>(image: T, apiVersion: string): T & { VirtualSize?: number } {
  if (versionAtLeast(apiVersion, '1.44')) return image;
  const size = (image as { Size?: unknown }).Size;
  if (typeof size !== 'number') return image;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(image)) {
    if (k === 'VirtualSize') continue;
    out[k] = v;
    if (k === 'Size') out.VirtualSize = size;
  }
  return out as T & { VirtualSize?: number };
}
