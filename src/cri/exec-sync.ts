/**
 * ExecSync: runs a command in a CRI container through the engine's exec and answers with its
 * stdout, stderr and exit code. A timeout kills the process and answers DEADLINE_EXCEEDED, as
 * containerd does (kubelet's exec probes read that code as a timed-out probe).
 */
import { status } from '@grpc/grpc-js';
import { InvalidParameterError } from '../errors';
import type { ContainerEngine } from '../engine/containers/compose';
import { getContainer } from './containers';
import { CriStatusError } from './grpc-status';
import type { RuntimeHandlers } from './server';

/** containerd's cap on each of stdout and stderr (16 MiB). */
const OUTPUT_LIMIT = 16 * 1024 * 1024;

export function execSyncHandlers(deps: { containers: ContainerEngine }): Pick<RuntimeHandlers, 'ExecSync'> {
  return {
    ExecSync: async (req) => {
      const c = getContainer(deps.containers, req.container_id);
      if (!req.cmd?.length) throw new InvalidParameterError('cmd must not be empty');
      const timeout = Number(req.timeout ?? 0);
      const r = await deps.containers.execs.runSeparate(c.id, req.cmd, timeout > 0 ? timeout * 1000 : 0, OUTPUT_LIMIT);
      if (r.timedOut) throw new CriStatusError(status.DEADLINE_EXCEEDED, `timeout ${timeout}s exceeded: context deadline exceeded`);
      return { stdout: r.stdout, stderr: r.stderr, exit_code: r.exitCode };
    },
  };
}
