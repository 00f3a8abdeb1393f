/**
 * The CRI's container methods as one handler group (face.ts adds it with one line): lifecycle,
 * status and logs (containers.ts), ExecSync (exec-sync.ts) and stats (container-stats.ts).
 */
import type { ContainerEngine } from '../engine/containers/compose';
import { statsHandlers } from './container-stats';
import { containerHandlers } from './containers';
import { execSyncHandlers } from './exec-sync';
import type { RuntimeHandlers } from './server';

export function podContainerHandlers(deps: { containers: ContainerEngine; readProfile?(path: string): string }): RuntimeHandlers {
  return { ...containerHandlers(deps), ...execSyncHandlers(deps), ...statsHandlers(deps) };
}
