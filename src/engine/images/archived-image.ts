/**
 * One image as a `docker save` archive describes it, whatever the archive's format (manifest.json,
 * OCI layout, or the per-layer directories of Docker before 1.10): what save-manifest.ts and
 * legacy-save.ts read and image-load.ts loads.
 */
import type { ImageFormat } from './types';

export interface ArchivedImage {
  /** Archive path of the image config. */
  config: string;
  /** Digest the config is named by (legacy `<hex>.json`, OCI `blobs/sha256/<hex>`), if any. */
  configDigest?: string;
  /** Repository tags as written in the archive (e.g. `busybox:latest`). */
  repoTags: string[];
  /** Archive paths of the layers, bottom to top. */
  layers: Array<{ path: string; digest?: string }>;
  /** The config, when the archive holds none and it was made from what it holds (legacy format). */
  configBytes?: Buffer;
  /** The image's parent (legacy format: the image of its parent layer). */
  parent?: string;
  /** Read from the format of Docker before 1.10: dockerd prints no `Loaded image` lines for it. */
  legacy?: boolean;
  /** `oci` for an image read from an OCI layout's OCI manifest (manifest.json names Docker images). */
  format?: ImageFormat;
}
