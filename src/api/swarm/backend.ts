/** What the swarm, node, service, task, secret and config routes need from the engine. */
export interface SwarmBackend {
  /** Calls only a manager answers (inspect, list, create, update, remove, logs, unlock). */
  managerOnly(): never;
  leave(): never;
  /** `swarm init` / `swarm join`. */
  create(): never;
}
