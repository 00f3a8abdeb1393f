/**
 * A user-namespace id mapping (userns-remap): which host uids and gids stand for a container's
 * ids. The one shape every part of the engine shares: the OCI spec's uidMappings, the idmapped
 * layer mounts, the ownership of a container's files and volumes, and archives crossing the
 * boundary (`docker cp`, export, commit), which carry container ids on the wire and host ids on
 * disk.
 */

/** `size` consecutive ids starting at `containerId` inside are `hostId`... on the host. */
export interface IdRange {
  containerId: number;
  hostId: number;
  size: number;
}

export interface IdMap {
  uids: readonly IdRange[];
  gids: readonly IdRange[];
}

/** The kernel's overflow id: what an unmapped id shows as (`nobody`). */
export const OVERFLOW_ID = 65534;

/** The host id of container id `id`; ids outside every range show as the overflow id. */
export function toHostId(ranges: readonly IdRange[], id: number): number {
  for (const r of ranges) if (id >= r.containerId && id < r.containerId + r.size) return r.hostId + (id - r.containerId);
  return OVERFLOW_ID;
}

/** The container id of host id `id`; host ids outside every range show as the overflow id. */
export function toContainerId(ranges: readonly IdRange[], id: number): number {
  for (const r of ranges) if (id >= r.hostId && id < r.hostId + r.size) return r.containerId + (id - r.hostId);
  return OVERFLOW_ID;
}

/** The host uid and gid of the container's root: the owner of what the container must write. */
export function hostRoot(map: IdMap): { uid: number; gid: number } {
  return { uid: toHostId(map.uids, 0), gid: toHostId(map.gids, 0) };
}

/** The mapping as the OCI spec's `linux.uidMappings` / `gidMappings`. */
export function ociMappings(map: IdMap): { uidMappings: OciIdMapping[]; gidMappings: OciIdMapping[] } {
  const oci = (ranges: readonly IdRange[]) => ranges.map((r) => ({ containerID: r.containerId, hostID: r.hostId, size: r.size }));
  return { uidMappings: oci(map.uids), gidMappings: oci(map.gids) };
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}
