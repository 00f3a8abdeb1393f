/**
 * `docker exec` through conmon (`--exec`), so an exec session is monitored like a container: its
 * stdio, attach socket, resize FIFO and exit file. Measured/read facts (conmon 2.1.x):
 * - with `_OCI_STARTPIPE` conmon blocks on a first read of that pipe before forking; with
 *   `--exec-attach` its runtime child reads it a second time before running `<runtime> exec`;
 * - with `--exec-attach`, once the attach socket exists, conmon writes `{"data": 0}` on
 *   `_OCI_ATTACHPIPE`: attaching then and only then writing the second start message means no
 *   output is lost;
 * - `_OCI_SYNCPIPE` gets `{"data": <pid>}` once `<runtime> exec -d` returned, or
 *   `{"data": <negative>, "message": "<runtime stderr>"}` when it failed;
 * - the socket, the `ctl` FIFO and (with `--exit-dir`) the exit file `<exit-dir>/<container id>`
 *   are per session because the bundle path and the exit dir given are the session's own dir.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { connectAttachSocket, socketName } from './attach-session';
import { DEFAULT_COMMAND_ENV, ExternalCommandError } from '../host/command';
import { spawnDetached } from '../host/detached-process';
import { runtimeErrorMessage, translateRuntimeError } from './oci-cli';
import type { AttachSession, ExecMonitorOptions, ExecStarted } from './types';

export interface ExecLaunchOptions extends ExecMonitorOptions {
  resize?: (height: number, width: number) => Promise<void>;
}

export interface ExecPaths {
  exitDir: string;
  logPath: string;
  pidFile: string;
  monitorPidFile: string;
}

export const execPaths = (dir: string): ExecPaths => ({
  exitDir: join(dir, 'exit'),
  logPath: join(dir, 'exec.log'),
  pidFile: join(dir, 'pid'),
  monitorPidFile: join(dir, 'conmon.pid'),
});

export async function launchExec(
  conmonPath: string,
  socketDir: string,
  opts: ExecLaunchOptions,
  env: Readonly<Record<string, string>> = DEFAULT_COMMAND_ENV,
  timeoutMs = 60_000,
): Promise<ExecStarted> {
  const paths = execPaths(opts.dir);
  await Promise.all([mkdir(paths.exitDir, { recursive: true }), mkdir(socketDir, { recursive: true })]);
  const argv = [
    '--api-version', '1',
    '--exec', '--exec-process-spec', opts.processPath,
    ...(opts.attach ? ['--exec-attach'] : []),
    '--cid', opts.containerId,
    '--cuuid', socketName(opts.dir),
    '--name', opts.containerId,
    '--runtime', opts.runtime.directPath,
    ...opts.runtime.globalArgs.flatMap((arg) => ['--runtime-arg', arg]),
    '--bundle', opts.dir,
    '--exit-dir', paths.exitDir,
    '--socket-dir-path', socketDir,
    '--log-path', `k8s-file:${paths.logPath}`,
    '--container-pidfile', paths.pidFile,
    '--conmon-pidfile', paths.monitorPidFile,
    ...(opts.tty ? ['--terminal'] : []),
    ...(opts.stdin ? ['--stdin'] : []),
  ];
  // Spawned from this thread, which drives its pipes: fd 3 sync, fd 4 start, fd 5 attach.
  const child = spawnDetached(conmonPath, argv, {
    cwd: opts.dir,
    env: { ...env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', ...(opts.attach ? { _OCI_ATTACHPIPE: '5' } : {}) },
    extraPipes: ['read', 'write', opts.attach ? 'read' : 'none'],
  });
  const syncPipe = child.pipes[0] as Readable;
  const startPipe = child.pipes[1] as Writable;
  const attachPipe = child.pipes[2] as Readable | null;
  const lines = { sync: lineReader(syncPipe), attach: attachPipe ? lineReader(attachPipe) : undefined };
  const failure = (why: string) => new ExternalCommandError({ program: conmonPath, argv, exitCode: child.exitCode(), stderr: child.stderr(), message: why });
  let session: AttachSession | undefined;
  const timer = setTimeout(() => child.kill(), timeoutMs);
  try {
    startPipe.write('0\n'); // conmon's first read: go ahead and fork
    if (lines.attach) {
      await lines.attach.next(failure('conmon exited before its attach socket was ready'));
      session = await connectAttachSocket(join(socketDir, socketName(opts.dir), 'attach'));
      if (opts.tty && opts.consoleSize && opts.resize) await opts.resize(opts.consoleSize.height, opts.consoleSize.width).catch(() => undefined);
      startPipe.write('0\n'); // the runtime child's read: attached, run the command
    }
    startPipe.end();
    const msg = parseSync(await lines.sync.next(failure(child.stderr().trim() || 'conmon exited before starting the exec process')));
    if (msg.data > 0) return { pid: msg.data, session, exitDir: paths.exitDir };
    session?.close();
    const message = msg.message ?? '';
    throw translateRuntimeError(
      new ExternalCommandError({
        program: opts.runtime.directPath,
        argv: [...opts.runtime.globalArgs, 'exec', '--process', opts.processPath, opts.containerId],
        exitCode: null,
        stderr: message,
        message: runtimeErrorMessage(message) || `${opts.runtime.name} exec failed`,
      }),
      { id: opts.containerId },
    );
  } catch (err) {
    session?.close();
    throw err;
  } finally {
    clearTimeout(timer);
    syncPipe.destroy();
    attachPipe?.destroy();
    child.release();
  }
}

function parseSync(line: string): { data: number; message?: string } {
  const msg = JSON.parse(line) as { data?: unknown; message?: unknown };
  const data = Number(msg.data);
  if (!Number.isInteger(data)) throw new Error(`conmon wrote an unexpected sync message: ${line}`);
  return { data, message: typeof msg.message === 'string' ? msg.message : undefined };
}

/** Newline-separated messages of a pipe, one at a time; `next` rejects with `onEnd` at EOF. */
function lineReader(stream: Readable) {
  let buf = '';
  let ended = false;
  const waiting: Array<() => void> = [];
  stream.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    waiting.splice(0).forEach((w) => w());
  });
  const finish = () => {
    ended = true;
    waiting.splice(0).forEach((w) => w());
  };
  stream.on('end', finish);
  stream.on('close', finish);
  stream.on('error', finish);
  return {
    async next(onEnd: Error): Promise<string> {
      for (;;) {
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          return line;
        }
        if (ended) throw onEnd;
        await new Promise<void>((r) => waiting.push(r));
      }
    },
  };
}
