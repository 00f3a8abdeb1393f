/**
 * The LevelDB key schema, written down once.
 *
 * One LevelDB database lives at `<data-root>/db`. Keys are UTF-8 strings, values JSON.
 *
 *   meta:schema-version                 -> number (SCHEMA_VERSION)
 *   container:<id>                      -> ContainerRecord (engine/containers/types.ts)
 *   container-name:<name without '/'>   -> <container id>      (unique name reservation)
 *   image:<sha256:hex>                  -> ImageRecord (engine/images/types.ts)
 *   tag:<normalized reference>          -> <image id>          (e.g. docker.io/library/busybox:latest)
 *   layer:<sha256:chain-id>             -> LayerRecord (engine/images/types.ts)
 *   build-cache:<parent id or ->:<key>  -> <image id>          (the build cache: ImageRecord.buildKey)
 *   network:<id>                        -> NetworkRecord (engine/networks/types.ts); <id> is 64 hex,
 *                                          random, also for the predefined bridge/host/none. Names
 *                                          are unique; the network service checks that under its lock
 *                                          (no name index: there are few networks, all kept in memory).
 *   volume:<name>                       -> VolumeRecord (engine/volumes/types.ts); <name> is the
 *                                          volume name (64 hex for anonymous volumes)
 *
 * Writes that must agree (a container and its name, a tag and its image, an image and its layer
 * refcounts) are written in one batch so a crash never leaves one without the other.
 */
export const SCHEMA_VERSION = 1;

export const KEY = {
  schemaVersion: 'meta:schema-version',
  container: (id: string) => `container:${id}`,
  containerName: (name: string) => `container-name:${name.replace(/^\//, '')}`,
  image: (id: string) => `image:${id}`,
  tag: (ref: string) => `tag:${ref}`,
  layer: (chainId: string) => `layer:${chainId}`,
  buildCache: (parentId: string | undefined, buildKey: string) => `build-cache:${parentId ?? '-'}:${buildKey}`,
  network: (id: string) => `network:${id}`,
  volume: (name: string) => `volume:${name}`,
} as const;

export const PREFIX = {
  container: 'container:',
  containerName: 'container-name:',
  image: 'image:',
  tag: 'tag:',
  layer: 'layer:',
  network: 'network:',
  volume: 'volume:',
} as const;
