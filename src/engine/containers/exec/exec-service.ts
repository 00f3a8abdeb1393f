/**
 * `docker exec`: exec instances of running containers (`[moby] daemon/exec.go`). An instance is
 * created, started once (attached or detached), inspected and resized; its process runs under
 * its own conmon (see runtime/conmon-exec.ts). Instances live in memory, like dockerd's, and go
 * with their container.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readExitFile } from '../../../runtime/exit-watcher';
import { ExternalCommandError } from '../../../host/command-error';
import { runcExecWording, runtimeErrorKind } from '../../../runtime/oci-cli';
import type { AttachSession, ContainerMonitor, OciRuntime } from '../../../runtime/types';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../../errors';
import type { ContainerRecords } from '../container-records';
import type { AttachStreams, ContainerRecord } from '../types';
import { execProcess, type ExecProcessConfig } from './exec-process';
import { DEFAULT_DETACH_KEYS, DetachScanner, parseDetachKeys } from '../detach-keys';

export interface ExecConfig extends ExecProcessConfig {
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  /** Unset: Docker's default keys; null: none (the CRI's clients have no detach keys). */
  DetachKeys?: string | null;
}

interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  dir: string;
}

/** dockerd keeps the first 4 KiB of a probe's output. */
const PROBE_OUTPUT_LIMIT = 4096;

export interface ExecHost {
  /** The container (404 when unknown), its directories, and container events. */
  records: Pick<ContainerRecords, 'get' | 'dirs' | 'emit'>;
  runtimeOf(c: ContainerRecord): OciRuntime;
  monitor: ContainerMonitor;
  watchExit(exitDir: string, id: string, onExit: () => void): { close(): void };
  log: Logger;
}

export interface ExecStartOptions {
  detach: boolean;
  consoleSize?: [number, number] | null;
  /** Called once the start is accepted; the API hijacks the connection then. */
  getStreams?(tty: boolean): AttachStreams;
  /** A process that cannot start rejects the start even when attached (health probes). */
  raiseStartError?: boolean;
}

export class ExecService {
  private readonly execs = new Map<string, ExecInstance>();

  constructor(private readonly host: ExecHost) {}

  /** POST /containers/{id}/exec */
  create(containerRef: string, config: Omit<ExecConfig, 'ConsoleSize'> & { ConsoleSize?: ExecConfig['ConsoleSize'] }): string {
    const c = this.host.records.get(containerRef);
    if (!Array.isArray(config.Cmd) || config.Cmd.length === 0) throw new InvalidParameterError('No exec command specified');
    if (config.DetachKeys) parseDetachKeys(config.DetachKeys);
    this.assertRunning(c);
    const id = randomBytes(32).toString('hex');
    this.execs.set(id, { id, containerId: c.id, config, running: false, started: false, exitCode: null, pid: 0, dir: join(this.host.records.dirs(c.id).dir, 'exec', id) });
    this.host.records.emit(c, `exec_create: ${config.Cmd.join(' ')}`, { execID: id });
    return id;
  }

  /** GET /exec/{id}/json */
  inspect(id: string) {
    const e = this.get(id);
    const cfg = e.config;
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: { tty: cfg.Tty, entrypoint: cfg.Cmd[0], arguments: cfg.Cmd.slice(1), privileged: cfg.Privileged, ...(cfg.User ? { user: cfg.User } : {}) },
      OpenStdin: cfg.AttachStdin,
      OpenStderr: cfg.AttachStderr,
      OpenStdout: cfg.AttachStdout,
      CanRemove: false,
      ContainerID: e.containerId,
      // dockerd keeps the keys as bytes, so its JSON shows them in base64 (`ctrl-x` → "GA==").
      DetachKeys: cfg.DetachKeys ? parseDetachKeys(cfg.DetachKeys).toString('base64') : '',
      Pid: e.pid,
    };
  }

  /** POST /exec/{id}/start: resolves when a detached process started, or an attached one ended. */
  async start(id: string, opts: ExecStartOptions): Promise<void> {
    const e = this.get(id);
    if (e.started) throw new ConflictError(e.running ? `Exec command ${id} is already running` : `Exec command ${id} has already run`);
    const c = this.host.records.get(e.containerId);
    this.assertRunning(c);
    e.started = true;
    e.running = true;
    const cfg = { ...e.config, ...(opts.consoleSize ? { ConsoleSize: opts.consoleSize } : {}) };
    const attach = !opts.detach && !!opts.getStreams;
    const streams = attach ? opts.getStreams!(cfg.Tty) : undefined;
    let session: AttachSession | undefined;
    try {
      const d = this.host.records.dirs(c.id);
      await mkdir(e.dir, { recursive: true });
      const processPath = join(e.dir, 'process.json');
      const proc = await execProcess(d.bundle, d.merged, cfg, c.hostConfig.GroupAdd ?? []);
      await writeFile(processPath, JSON.stringify(proc));
      const runtime = this.host.runtimeOf(c);
      await runtime.prepareProcess?.(c.id, processPath, proc, d.merged);
      const [height, width] = cfg.ConsoleSize ?? [0, 0];
      const started = await this.host.monitor.exec({
        containerId: c.id,
        runtime,
        dir: e.dir,
        processPath,
        tty: cfg.Tty,
        stdin: attach && cfg.AttachStdin,
        attach,
        consoleSize: height > 0 && width > 0 ? { height, width } : undefined,
      });
      e.pid = started.pid;
      session = started.session;
      this.host.records.emit(c, `exec_start: ${cfg.Cmd.join(' ')}`, { execID: id });
      const exited = this.whenExited(e, started.exitDir);
      if (!streams || !session) {
        void exited;
        return;
      }
      const piped = pipeSession(session, streams, cfg);
      await new Promise<void>((resolve) => session!.onClose(resolve));
      // Detached with the detach keys: the process goes on; the client is done.
      if (!piped.detached) await exited;
      streams.end();
    } catch (cause) {
      session?.close();
      e.running = false;
      // dockerd: 126 for every exec whose process could not be started, whatever the reason.
      e.exitCode = 126;
      await this.release(e);
      const err = execStartError(cause, cfg.Cmd[0]);
      if (!streams || opts.raiseStartError) throw err;
      // Headers are out: dockerd writes the error into the stdout stream and the CLI reads the
      // exit code from exec inspect.
      streams.write(1, Buffer.from(`${err.message}\r\n`));
      streams.end();
    }
  }

  /**
   * Runs `cmd` in the container and collects its output (healthchecks): an exec instance like
   * any other (dockerd's health probes are execs too, with their events). After `timeoutMs` the
   * process is killed and the result is exit code -1. A process that cannot start rejects.
   */
  async run(containerId: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const chunks: Buffer[] = [];
    let size = 0;
    const r = await this.runCollecting(containerId, cmd, timeoutMs, (_stream, data) => {
      if (size < PROBE_OUTPUT_LIMIT) chunks.push(data);
      size += data.length;
    });
    const output = Buffer.concat(chunks).subarray(0, PROBE_OUTPUT_LIMIT).toString('utf8');
    return { ...r, output };
  }

  /**
   * Runs `cmd` and keeps stdout and stderr apart, up to `limit` bytes each (the CRI's ExecSync).
   * `timeoutMs` 0 waits for as long as the process runs.
   */
  async runSeparate(containerId: string, cmd: string[], timeoutMs: number, limit: number): Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer; timedOut: boolean }> {
    const out: Record<1 | 2, { chunks: Buffer[]; size: number }> = { 1: { chunks: [], size: 0 }, 2: { chunks: [], size: 0 } };
    const r = await this.runCollecting(containerId, cmd, timeoutMs, (stream, data) => {
      const o = out[stream];
      if (o.size < limit) o.chunks.push(data.subarray(0, limit - o.size));
      o.size += data.length;
    });
    return { ...r, stdout: Buffer.concat(out[1].chunks), stderr: Buffer.concat(out[2].chunks) };
  }

  private async runCollecting(containerId: string, cmd: string[], timeoutMs: number, write: AttachStreams['write']): Promise<{ exitCode: number; timedOut: boolean }> {
    const id = this.create(containerId, { Cmd: cmd, Tty: false, Privileged: false, AttachStdin: false, AttachStdout: true, AttachStderr: true });
    let ended!: () => void;
    const done = new Promise<void>((resolve) => (ended = resolve));
    const streams: AttachStreams = { write, end: () => ended(), onClose: () => undefined };
    let timedOut = false;
    const timer = timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          const e = this.execs.get(id);
          if (e?.pid) {
            try {
              process.kill(e.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }, timeoutMs)
      : undefined;
    try {
      await this.start(id, { detach: false, getStreams: () => streams, raiseStartError: true });
      await done;
    } catch (err) {
      // Not started (the caller records it as dockerd does: exit code -1 with the error).
      this.execs.delete(id);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const e = this.execs.get(id);
    this.execs.delete(id);
    return { exitCode: timedOut ? -1 : (e?.exitCode ?? -1), timedOut };
  }

  /** POST /exec/{id}/resize */
  async resize(id: string, height: number, width: number): Promise<void> {
    const e = this.get(id);
    if (!e.running) throw new ConflictError(`Exec ${id} is not running`);
    if (!e.config.Tty) return;
    await this.host.monitor.resizeExec(e.dir, height, width);
  }

  /** Forgets an instance that has run, once its caller read the exit code (the CRI's Exec). */
  discard(id: string): void {
    const e = this.execs.get(id);
    if (e && e.started && !e.running) this.execs.delete(id);
  }

  /** The container is gone: its exec instances go with it. */
  forget(containerId: string): void {
    for (const [id, e] of this.execs) if (e.containerId === containerId) this.execs.delete(id);
  }

  private get(id: string): ExecInstance {
    const e = this.execs.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    return e;
  }

  private assertRunning(c: ContainerRecord): void {
    if (c.state.Paused || c.state.Status === 'paused') throw new ConflictError(`Container ${c.id} is paused, unpause the container before exec`);
    if (!c.state.Running) throw new ConflictError(`Container ${c.id} is not running`);
  }

  /** Records the exit code once the monitor wrote it, publishes exec_die, cleans up. */
  private whenExited(e: ExecInstance, exitDir: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const watch = this.host.watchExit(exitDir, e.containerId, () => {
        watch.close();
        void (async () => {
          e.exitCode = (await readExitFile(exitDir, e.containerId).catch(() => undefined)) ?? 126;
          e.running = false;
          const c = this.findContainer(e.containerId);
          if (c) this.host.records.emit(c, 'exec_die', { execID: e.id, exitCode: String(e.exitCode) });
          await this.release(e);
          resolve();
        })();
      });
    });
  }

  private findContainer(id: string): ContainerRecord | undefined {
    try {
      return this.host.records.get(id);
    } catch {
      return undefined;
    }
  }

  private async release(e: ExecInstance): Promise<void> {
    await this.host.monitor.releaseExec(e.dir).catch(() => undefined);
    await rm(e.dir, { recursive: true, force: true }).catch((err) => this.host.log.debug({ err, exec: e.id }, 'removing exec dir failed'));
  }
}

/** Client stdin to the process, process output to the client (only the streams asked for). */
function pipeSession(session: AttachSession, streams: AttachStreams, cfg: ExecConfig): { detached: boolean } {
  const state = { detached: false };
  session.onData((stream, data) => {
    if (stream === 1 && cfg.AttachStdout) streams.write(1, data);
    else if (stream === 2 && cfg.AttachStderr) streams.write(2, data);
  });
  if (cfg.AttachStdin && streams.stdin) {
    // dockerd looks for the detach keys only with a TTY: without one stdin is binary-safe.
    const scanner = cfg.Tty && cfg.DetachKeys !== null ? new DetachScanner(parseDetachKeys(cfg.DetachKeys || DEFAULT_DETACH_KEYS)) : undefined;
    streams.stdin.on('data', (d: Buffer) => {
      const { forward, detached } = scanner ? scanner.feed(d) : { forward: d, detached: false };
      if (forward.length) session.write(forward);
      if (detached) {
        state.detached = true;
        session.close();
      }
    });
    streams.stdin.on('end', () => session.closeStdin());
    streams.stdin.resume();
  }
  streams.onClose(() => session.close());
  return state;
}

/**
 * dockerd's error for a process the runtime could not start: containerd's wording around the
 * runtime's message; 400 for a command that is missing or not executable, else 500.
 */
function execStartError(cause: unknown, cmd: string): Error {
  if (!(cause instanceof ExternalCommandError)) return cause instanceof Error ? cause : new Error(String(cause));
  const wording = runcExecWording(cause.message, cmd);
  const message = `OCI runtime exec failed: ${wording}: unknown`;
  const kind = runtimeErrorKind(wording);
  const invalid = (kind === 'command-not-found' && wording.includes(cmd)) || /permission denied/i.test(wording);
  return invalid ? new InvalidParameterError(message, { cause }) : new Error(message, { cause });
}

/** GET /exec/{id}/json */
export type ExecInspect = ReturnType<ExecService['inspect']>;
