/**
 * Adapter for conmon, the per-container monitor (Debian's conmon 2.1.6). conmon runs
 * `<runtime> create`, then holds the container's stdio, writes the k8s-file log and the exit
 * file, and serves attach; Berth runs `<runtime> start` itself. Measured facts this relies on:
 * - conmon forks, the child calls setsid and points its stdio at /dev/null, so it is detached from
 *   the daemon and survives a daemon restart; the parent exits at once;
 * - with `--api-version 1` and `_OCI_SYNCPIPE=<fd>` it writes one JSON line to that fd once
 *   create is over: `{"data": <container pid>}`, or `{"data": -1, "message": "<runtime stderr>"}`;
 *   it keeps the fd open until it exits, so we stop reading after that line;
 * - the attach socket is `<bundle>/attach`, reachable through the symlink
 *   `<socket-dir>/<cuuid>` -> `<bundle>` that keeps the path under the 108-byte sun_path limit;
 *   conmon leaves that symlink behind when it exits (release() removes it);
 * - FIFOs `<bundle>/ctl` (lines `<type> <height> <width>`, type 1 = resize, 2 = reopen logs) and
 *   `<bundle>/winsz`; a resize reaches the pty of a `-t` container;
 * - the exit file `<exit-dir>/<cid>` holds the exit code, 128+N for a signal;
 * - with runc 1.1 and crun 1.8 a missing or non-executable command fails `create` (so it reaches
 *   launch()); exec failures after start (missing dynamic loader, bad interpreter) show up only as
 *   the container's last stderr line in the log and exit code 1.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError } from '../errors';
import { DEFAULT_COMMAND_ENV, ExternalCommandError, launchDetached } from '../host/command';
import { connectAttachSocket, socketName } from './attach-session';
import { readExitFile } from './exit-watcher';
import { runtimeErrorMessage, translateRuntimeError } from './oci-cli';
import { launchExec } from './conmon-exec';
import type { AttachSession, ContainerMonitor, ExecMonitorOptions, ExecStarted, LaunchedContainer, LaunchOptions, MonitorPaths, RuntimeLog } from './types';

export interface ConmonOptions {
  /** The daemon's exec root; conmon's attach-socket symlinks go to `<execRoot>/sockets`. */
  execRoot: string;
  /** The conmon binary (default /usr/bin/conmon). */
  conmonPath?: string;
  env?: Readonly<Record<string, string>>;
  /** Give up on a launch whose `create` takes longer than this (default 60 s). */
  launchTimeoutMs?: number;
  log?: RuntimeLog;
}

/** sun_path holds 107 bytes; `<execRoot>/sockets/<16 hex>/attach` must fit. */
const MAX_SOCKET_DIR = 107 - '/0123456789abcdef/attach'.length;

export { watchExit } from './exit-watcher';

interface SyncResult {
  data: number;
  message?: string;
}

export class ConmonMonitor implements ContainerMonitor {
  private readonly conmonPath: string;
  private readonly socketDir: string;
  private readonly env: Readonly<Record<string, string>>;
  private readonly launchTimeoutMs: number;
  private readonly log: RuntimeLog | undefined;

  constructor(opts: ConmonOptions) {
    this.socketDir = join(opts.execRoot, 'sockets');
    if (Buffer.byteLength(this.socketDir) > MAX_SOCKET_DIR) {
      throw new Error(`exec root ${opts.execRoot} is too long for unix socket paths (max ${MAX_SOCKET_DIR - 8} bytes)`);
    }
    this.conmonPath = opts.conmonPath ?? '/usr/bin/conmon';
    this.env = opts.env ?? DEFAULT_COMMAND_ENV;
    this.launchTimeoutMs = opts.launchTimeoutMs ?? 60_000;
    this.log = opts.log;
  }

  async launch(opts: LaunchOptions): Promise<LaunchedContainer> {
    const { paths, runtime, id } = opts;
    // A second conmon on the same bundle would take over the attach socket and FIFOs of the first.
    if (await this.isAlive(paths.monitorPidFile)) {
      throw new ConflictError(`container ${id} already has a running monitor`);
    }
    await Promise.all([mkdir(paths.exitDir, { recursive: true }), mkdir(this.socketDir, { recursive: true })]);
    // A restarted container reuses its paths: an old exit file would report the new run as
    // exited, an old monitor pid file could name an unrelated process by now.
    await Promise.all([join(paths.exitDir, id), paths.pidFile, paths.monitorPidFile].map((p) => rm(p, { force: true })));

    const argv = this.launchArgs(opts);
    let sync: SyncResult;
    try {
      sync = await this.spawnAndSync(argv, paths.bundle);
    } catch (err) {
      await this.cleanupFailedLaunch(opts, true);
      throw err;
    }
    if (sync.data > 0) {
      return { pid: sync.data, monitorPid: await readPidFile(paths.monitorPidFile, 1000) };
    }
    const stderr = sync.message ?? '';
    const createArgv = [...runtime.globalArgs, 'create', '--bundle', paths.bundle, '--pid-file', paths.pidFile, id];
    const err = translateRuntimeError(
      new ExternalCommandError({
        program: runtime.path,
        argv: createArgv,
        exitCode: null, // conmon does not report the runtime's exit status
        stderr,
        message: runtimeErrorMessage(stderr) || `${runtime.name} create failed`,
      }),
      { id },
    );
    // "already exists" means another container owns this id: never delete it.
    const takenId = err instanceof ConflictError && /container with id exists|already exists/.test(err.message);
    await this.cleanupFailedLaunch(opts, !takenId);
    throw err;
  }

  exec(opts: ExecMonitorOptions): Promise<ExecStarted> {
    const resize = (h: number, w: number) => this.resizeExec(opts.dir, h, w);
    return launchExec(this.conmonPath, this.socketDir, { ...opts, resize }, this.env, this.launchTimeoutMs);
  }

  resizeExec(dir: string, height: number, width: number): Promise<void> {
    return this.resize({ bundle: dir } as MonitorPaths, height, width);
  }

  async releaseExec(dir: string): Promise<void> {
    await rm(join(this.socketDir, socketName(dir)), { force: true });
  }

  async attach(paths: MonitorPaths): Promise<AttachSession> {
    return connectAttachSocket(join(this.socketDir, socketName(paths.bundle), 'attach'));
  }

  async resize(paths: MonitorPaths, height: number, width: number): Promise<void> {
    for (const v of [height, width]) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`invalid terminal size ${height}x${width}`);
    }
    await writeCtl(paths.bundle, `1 ${height} ${width}\n`);
  }

  async reopenLog(paths: MonitorPaths): Promise<void> {
    await writeCtl(paths.bundle, '2 0 0\n');
  }

  readExitCode(id: string, exitDir: string): Promise<number | undefined> {
    return readExitFile(exitDir, id);
  }

  async isAlive(monitorPidFile: string): Promise<boolean> {
    let pid: number;
    try {
      pid = await readPidFile(monitorPidFile, 0);
    } catch {
      return false;
    }
    return isLiveConmon(pid);
  }

  /** Remove what conmon leaves behind after it exits (the attach-socket symlink). */
  async release(paths: MonitorPaths): Promise<void> {
    await rm(join(this.socketDir, socketName(paths.bundle)), { force: true });
  }

  private launchArgs(opts: LaunchOptions): string[] {
    const { id, runtime, paths } = opts;
    return [
      '--api-version', '1',
      '--cid', id,
      '--cuuid', socketName(paths.bundle),
      '--name', id,
      '--runtime', runtime.path,
      ...runtime.globalArgs.flatMap((arg) => ['--runtime-arg', arg]),
      '--bundle', paths.bundle,
      '--exit-dir', paths.exitDir,
      '--socket-dir-path', this.socketDir,
      '--log-path', opts.logDriver === 'none' ? 'none:' : `k8s-file:${paths.logPath}`,
      '--container-pidfile', paths.pidFile,
      '--conmon-pidfile', paths.monitorPidFile,
      ...(opts.tty ? ['--terminal'] : []),
      ...(opts.stdin ? ['--stdin'] : []),
      ...(opts.stdin && !opts.stdinOnce ? ['--leave-stdin-open'] : []),
    ];
  }

  /**
   * Start conmon detached (from the command thread) and wait for the one line it writes on the
   * sync pipe (fd 3).
   */
  private async spawnAndSync(argv: string[], bundle: string): Promise<SyncResult> {
    const timeout = AbortSignal.timeout(this.launchTimeoutMs);
    const failure = (why: string, exitCode: number | null = null, stderr = '') =>
      new ExternalCommandError({ program: this.conmonPath, argv, exitCode, stderr, message: why });
    const outcome = await launchDetached(this.conmonPath, argv, { cwd: bundle, env: { ...this.env, _OCI_SYNCPIPE: '3' }, signal: timeout });
    if (timeout.aborted) throw failure(`conmon did not report the container as created within ${this.launchTimeoutMs} ms`);
    switch (outcome.kind) {
      case 'not-started':
        throw failure(`cannot run ${this.conmonPath}: ${outcome.message}`);
      // All of conmon's ends of the pipes closed without a sync line: it failed before running
      // the runtime (bad flag, missing directory).
      case 'closed':
        throw failure(outcome.stderr.trim() || 'conmon exited before creating the container', outcome.code, outcome.stderr);
      case 'synced':
        try {
          const msg = JSON.parse(outcome.line) as { data?: unknown; pid?: unknown; message?: unknown };
          const data = Number(msg.data ?? msg.pid);
          if (!Number.isInteger(data)) throw new Error('no pid');
          return { data, message: typeof msg.message === 'string' ? msg.message : undefined };
        } catch {
          throw failure(`conmon wrote an unexpected sync message: ${outcome.line}`, null, outcome.stderr);
        }
      default:
        throw failure(`unexpected outcome ${outcome.kind}`);
    }
  }

  private async cleanupFailedLaunch(opts: LaunchOptions, deleteContainer: boolean): Promise<void> {
    const pid = await readPidFile(opts.paths.monitorPidFile, 0).catch(() => undefined);
    if (pid !== undefined && (await isLiveConmon(pid))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (deleteContainer) {
      await opts.runtime.delete(opts.id, true).catch((err: unknown) => {
        this.log?.debug({ err, container: opts.id }, 'runtime delete after a failed launch');
      });
    }
    await this.release(opts.paths);
  }
}

/** One message to conmon's `ctl` FIFO (1 = resize, 2 = reopen the log). */
async function writeCtl(bundle: string, line: string): Promise<void> {
  // Non-blocking: with no reader (monitor gone) this fails with ENXIO instead of hanging.
  const fh = await open(join(bundle, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    await fh.write(line);
  } finally {
    await fh.close();
  }
}

/** Read a pid file, retrying for up to `waitMs` while it is missing or empty. */
export async function readPidFile(path: string, waitMs: number): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const pid = Number((await readFile(path, 'utf8')).trim());
      if (Number.isInteger(pid) && pid > 0) return pid;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || Date.now() >= deadline) throw err;
    }
    if (Date.now() >= deadline) throw new Error(`no pid in ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A running (not zombie) process whose command is conmon; guards against pid reuse. */
async function isLiveConmon(pid: number): Promise<boolean> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "<pid> (<comm>) <state> ...": comm may contain spaces and parentheses.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(open + 1, close);
  const state = stat.slice(close + 2, close + 3);
  return comm === 'conmon' && state !== 'Z' && state !== 'X';
}
