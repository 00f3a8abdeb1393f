/**
 * Swarm mode as a daemon outside any swarm answers it: Berth is never a swarm node, so every
 * cluster object (swarm, nodes, services, tasks, secrets, configs) is out of reach with
 * dockerd's own words (`[moby] daemon/cluster/errors.go`), and joining one is refused plainly.
 */
import { NotImplementedError, UnavailableError } from '../../errors';

/** dockerd's text when a manager-only call reaches a node that is not in a swarm. */
export const NOT_A_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** dockerd's text when `swarm leave` reaches a node that is not in a swarm. */
export const NOT_IN_A_SWARM = 'This node is not part of a swarm';
/** Berth's own refusal of `swarm init` / `swarm join`: there is no swarm implementation to start. */
export const SWARM_NOT_SUPPORTED = 'Berth does not support swarm mode: this node cannot initialize or join a swarm';

/** The swarm state of a daemon that is not (and cannot become) part of a swarm. */
export class NoSwarm {
  /** Any manager-only call: GET /swarm, /nodes, /services, /tasks, /secrets, /configs, … */
  managerOnly(): never {
    throw new UnavailableError(NOT_A_MANAGER);
  }

  leave(): never {
    throw new UnavailableError(NOT_IN_A_SWARM);
  }

  /** `swarm init` and `swarm join`: 501, retrying cannot help. */
  create(): never {
    throw new NotImplementedError(SWARM_NOT_SUPPORTED);
  }
}
