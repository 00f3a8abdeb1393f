/**
 * The CRI's Exec, Attach and PortForward (face.ts adds them with one line): each checks the
 * request as containerd does and answers the streaming server's one-time URL; the streams run
 * when the client connects to it (streaming-server.ts).
 */
import type { ContainerEngine } from '../../engine/containers/compose';
import type { ContainerRecord } from '../../engine/containers/types';
import { ConflictError, InvalidParameterError } from '../../errors';
import { containerState } from '../container-status';
import { getContainer } from '../containers';
import { getSandbox } from '../sandboxes';
import type { RuntimeHandlers } from '../server';
import type { RemoteCommandOptions } from './remote-command';
import type { StreamingServer } from './streaming-server';

export interface StreamingHandlerDeps {
  containers: ContainerEngine;
  streaming: Pick<StreamingServer, 'urlFor'>;
}

export function streamingHandlers(deps: StreamingHandlerDeps): Pick<RuntimeHandlers, 'Exec' | 'Attach' | 'PortForward'> {
  const { containers, streaming } = deps;
  return {
    Exec: async (req) => {
      const c = runningContainer(containers, req.container_id);
      const opts = streamOptions(req, 'one of stdin, stdout, or stderr must be set');
      if (!req.cmd?.length) throw new InvalidParameterError('cmd must not be empty');
      return { url: streaming.urlFor({ kind: 'exec', containerId: c.id, cmd: [...req.cmd], opts }) };
    },
    Attach: async (req) => {
      const c = runningContainer(containers, req.container_id);
      const opts = streamOptions(req, 'one of stdin, stdout, and stderr must be set');
      return { url: streaming.urlFor({ kind: 'attach', containerId: c.id, opts }) };
    },
    PortForward: async (req) => {
      if (!req.pod_sandbox_id) throw new InvalidParameterError('missing required pod_sandbox_id');
      const infra = getSandbox(containers, req.pod_sandbox_id);
      if (!infra.state.Running) throw new ConflictError('sandbox container is not running');
      return { url: streaming.urlFor({ kind: 'portforward', podSandboxId: infra.id }) };
    },
  };
}

function runningContainer(containers: ContainerEngine, id: string): ContainerRecord {
  if (!id) throw new InvalidParameterError('missing required container_id');
  const c = getContainer(containers, id);
  const state = containerState(c);
  if (state !== 'CONTAINER_RUNNING') throw new ConflictError(`container is in ${state} state`);
  return c;
}

/** kubelet's streaming server's rules: no stderr with a TTY (one stream), at least one stream. */
function streamOptions(req: { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }, noneMessage: string): RemoteCommandOptions {
  if (req.tty && req.stderr) throw new InvalidParameterError('tty and stderr cannot both be true');
  if (!req.stdin && !req.stdout && !req.stderr) throw new InvalidParameterError(noneMessage);
  return { stdin: !!req.stdin, stdout: !!req.stdout, stderr: !!req.stderr, tty: !!req.tty };
}
