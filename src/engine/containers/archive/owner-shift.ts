/**
 * Owners crossing a userns-remap boundary in archives: a remapped container's upper dir (and
 * what is written into it) holds host ids, while its tars (docker cp out, export, commit
 * layers) and what a client sends in carry container ids, as dockerd's remapped daemon does.
 */
import { InvalidParameterError } from '../../../errors';
import { toContainerId, toHostId, type IdMap } from '../../userns/id-map';

export interface Owner {
  uid: number;
  gid: number;
}

/** Container ids of a host owner; a host id outside the mapping shows as the overflow id, as inside. */
export function toContainerOwner(map: IdMap, o: Owner): Owner {
  return { uid: toContainerId(map.uids, o.uid), gid: toContainerId(map.gids, o.gid) };
}

/** Host ids of a container owner; an id the mapping lacks is refused (dockerd's message). */
export function toHostOwner(map: IdMap, o: Owner): Owner {
  const one = (ranges: IdMap['uids'], id: number) => {
    if (!ranges.some((r) => id >= r.containerId && id < r.containerId + r.size)) {
      throw new InvalidParameterError(`Container ID ${id} cannot be mapped to a host ID`);
    }
    return toHostId(ranges, id);
  };
  return { uid: one(map.uids, o.uid), gid: one(map.gids, o.gid) };
}
