/**
 * The image manifests Berth writes (save, push), in the two formats registries know: Docker v2
 * schema 2, which dockerd pushes for Docker images, and OCI, for images that arrived as OCI
 * (ImageRecord.format).
 */
import type { ImageFormat, LayerBlob } from './types';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

const TYPES = {
  docker: { manifest: MEDIA.dockerManifest, config: MEDIA.dockerConfig, layer: MEDIA.dockerLayer, layerGzip: MEDIA.dockerLayerGzip },
  oci: { manifest: MEDIA.ociManifest, config: MEDIA.ociConfig, layer: MEDIA.ociLayer, layerGzip: MEDIA.ociLayerGzip },
};

/** The manifest's media type in `format`. */
export const manifestMediaType = (format: ImageFormat): string => TYPES[format].manifest;

/** The manifest of a config and its layer blobs, bottom first, in `format`. */
export function imageManifest(format: ImageFormat, configDigest: string, configSize: number, layers: LayerBlob[]): Buffer {
  const t = TYPES[format];
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: t.manifest,
      config: { mediaType: t.config, digest: configDigest, size: configSize },
      layers: layers.map((b) => ({ mediaType: b.compression === 'gzip' ? t.layerGzip : t.layer, digest: b.digest, size: b.size })),
    }),
  );
}

/**
 * The format of an image that arrived with this manifest: OCI when the manifest or its config
 * say so, Docker otherwise (Docker schema 2, and manifests that name no type).
 */
export function formatOfManifest(manifest: { mediaType?: string; config?: { mediaType?: string } }): ImageFormat {
  if (manifest.mediaType === MEDIA.ociManifest) return 'oci';
  if (!manifest.mediaType && manifest.config?.mediaType === MEDIA.ociConfig) return 'oci';
  return 'docker';
}
