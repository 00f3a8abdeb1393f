/**
 * The streaming server's runtime over Berth's engine: an Exec is an exec instance of the engine
 * (what `docker exec` runs: its own monitor, a TTY with its size, resizes), an Attach is a
 * client of the container's monitor (what `docker attach` is), and a PortForward connection is
 * made from inside the pod's network namespace (the infra container's) by a small helper.
 */
import type { ContainerEngine } from '../../engine/containers/compose';
import type { AttachStreams } from '../../engine/containers/types';
import { connectInNetns } from '../../host/netns-connect';
import { getContainer } from '../containers';
import { getSandbox } from '../sandboxes';
import type { RemoteCommandIo, RemoteCommandOutcome } from './remote-command';
import type { StreamingRuntime } from './streaming-server';
import type { TerminalSize } from './terminal-size';

/** How long an exec with a TTY waits for the client's first terminal size before it starts. */
const FIRST_SIZE_WAIT_MS = 1000;

export function engineStreamingRuntime(containers: ContainerEngine): StreamingRuntime {
  return {
    exec: async (containerId, cmd, io) => {
      const c = getContainer(containers, containerId);
      const size = io.tty ? await io.firstSize(FIRST_SIZE_WAIT_MS) : undefined;
      const id = containers.execs.create(c.id, { Cmd: cmd, Tty: io.tty, Privileged: false, AttachStdin: !!io.stdin, AttachStdout: !!io.stdout, AttachStderr: !!io.stderr, DetachKeys: null });
      const { streams, ended } = attachStreams(io);
      const onResize = (s: TerminalSize) => void containers.execs.resize(id, s.height, s.width).catch(() => undefined);
      io.resizes.on('resize', onResize);
      // containerd kills an exec whose client went away: nobody could read it or end it anymore.
      io.onClientGone(() => killExec(containers, id));
      try {
        await containers.execs.start(id, {
          detach: false,
          consoleSize: size && size.height > 0 && size.width > 0 ? [size.height, size.width] : null,
          getStreams: () => streams,
          raiseStartError: true,
        });
        await ended;
        return { exitCode: containers.execs.inspect(id).ExitCode ?? 126, command: cmd };
      } finally {
        io.resizes.off('resize', onResize);
        containers.execs.discard(id);
      }
    },

    attach: async (containerId, io): Promise<RemoteCommandOutcome> => {
      const c = getContainer(containers, containerId);
      const { streams, ended } = attachStreams(io);
      const onResize = (s: TerminalSize) => void containers.streams.resize(c.id, s.height, s.width).catch(() => undefined);
      io.resizes.on('resize', onResize);
      try {
        await containers.streams.attach(c.id, { stdin: !!io.stdin, stdout: !!io.stdout, stderr: !!io.stderr, stream: true, logs: false, detachKeys: null, getStreams: () => streams });
        await ended;
        return { exitCode: 0 };
      } finally {
        io.resizes.off('resize', onResize);
      }
    },

    portForward: async (podSandboxId, port, stream) => {
      const infra = getSandbox(containers, podSandboxId);
      const pid = infra.state.Running ? infra.state.Pid : 0;
      if (!pid) throw new Error(`sandbox ${infra.id} is not running`);
      await connectInNetns(`/proc/${pid}/ns/net`, port, stream);
    },
  };
}

function killExec(containers: ContainerEngine, id: string): void {
  let pid = 0;
  try {
    const e = containers.execs.inspect(id);
    pid = e.Running ? e.Pid : 0;
  } catch {
    return; // already gone
  }
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited meanwhile
  }
}

/** The engine's view of the client's streams, and when the engine is done with them. */
function attachStreams(io: RemoteCommandIo): { streams: AttachStreams; ended: Promise<void> } {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const streams: AttachStreams = {
    stdin: io.stdin,
    write: (stream, data) => {
      const out = stream === 2 && io.stderr ? io.stderr : io.stdout;
      if (out && !out.writableEnded && !out.destroyed) out.write(data);
    },
    end: () => end(),
    onClose: (cb) => io.onClientGone(cb),
  };
  return { streams, ended };
}
