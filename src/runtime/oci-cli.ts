/**
 * Adapter for any runc-compatible OCI runtime command line (runc, crun, runsc, sysbox-runc).
 * Thin by design: it builds argv, runs the program and turns known stderr patterns into engine
 * errors; callers own all state logic. Every call passes `--root <state dir>` so one daemon never
 * sees another engine's containers.
 */
import { basename } from 'node:path';
import { ConflictError, NotFoundError, NotImplementedError } from '../errors';
import { ExternalCommandError, runCommand, type RunCommandOptions } from '../host/command';
import { SeccompFilterCache } from './seccomp-filter-cache';
import type { ExecProcessOptions, OciRuntime, OciState, RuntimeResources, RuntimeSpec, SpecContext } from './types';

export interface OciCliOptions {
  name: string;
  /** Executable to run (may be a wrapper script, see crun-hybrid.ts). */
  path: string;
  /**
   * The runtime itself, for the calls that set up no cgroup (start, state, kill, delete, and
   * exec under conmon) when `path` is a wrapper that only create and the cgroup calls need:
   * every process costs.
   */
  directPath?: string;
  /** Executable for `start` when it needs its own wrapper (runsc on some kernels, see runsc.ts); default directPath. */
  startPath?: string;
  /** Per-daemon state directory, passed as `--root`. */
  root: string;
  /**
   * Further global flags (daemon.json `runtimeArgs`), placed before `--root` as dockerd's wrapper
   * script places them before the shim's: the daemon's `--root` always wins.
   */
  extraGlobalArgs?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Kill a runtime call that takes longer than this (default 120 s). */
  timeoutMs?: number;
  /** Reuse the seccomp filters the runtime compiled (crun only, see seccomp-filter-cache.ts). */
  cacheSeccompFilters?: boolean;
  /** What this runtime adds to every spec (runsc: its network mode, see runsc.ts). */
  addToSpec?: (spec: RuntimeSpec, ctx: SpecContext) => void;
  /** See OciRuntime.ownLoopback (runsc). */
  ownLoopback?: boolean;
  /**
   * Containers have no cgroup (a rootless daemon on cgroup v1): `kill --all` finds no processes
   * to signal (crun signals none, runc fails), so only the init is signalled; its pid namespace
   * goes with it.
   */
  noCgroups?: boolean;
  /** See OciRuntime.prepareBundle and prepareProcess (the built-in runtime's plans). */
  prepareBundle?: OciRuntime['prepareBundle'];
  prepareProcess?: OciRuntime['prepareProcess'];
}

const OCI_STATUSES = new Set<OciState['status']>(['creating', 'created', 'running', 'paused', 'stopped']);

export class OciCli implements OciRuntime {
  readonly name: string;
  readonly path: string;
  readonly globalArgs: readonly string[];
  readonly directPath: string;
  readonly ownLoopback: boolean;
  private readonly startPath: string;
  private readonly root: string;
  private readonly runOptions: RunCommandOptions;
  private readonly seccompFilters: SeccompFilterCache | undefined;
  private readonly addToSpec: OciCliOptions['addToSpec'];
  private readonly noCgroups: boolean;
  readonly prepareBundle: OciCliOptions['prepareBundle'];
  readonly prepareProcess: OciCliOptions['prepareProcess'];

  constructor(opts: OciCliOptions) {
    this.name = opts.name;
    this.path = opts.path;
    this.directPath = opts.directPath ?? opts.path;
    this.startPath = opts.startPath ?? this.directPath;
    this.ownLoopback = opts.ownLoopback ?? false;
    this.root = opts.root;
    this.globalArgs = Object.freeze([...(opts.extraGlobalArgs ?? []), '--root', opts.root]);
    this.runOptions = { env: opts.env, timeoutMs: opts.timeoutMs ?? 120_000 };
    this.seccompFilters = opts.cacheSeccompFilters ? new SeccompFilterCache(opts.root) : undefined;
    this.addToSpec = opts.addToSpec;
    this.noCgroups = opts.noCgroups ?? false;
    this.prepareBundle = opts.prepareBundle;
    this.prepareProcess = opts.prepareProcess;
  }

  prepareSpec(id: string, spec: RuntimeSpec, ctx: SpecContext): void {
    this.addToSpec?.(spec, ctx);
    this.seccompFilters?.prepare(id, spec);
  }

  async created(id: string, ok: boolean): Promise<void> {
    if (ok) await this.seccompFilters?.created(id);
    else this.seccompFilters?.forget(id);
  }

  async create(id: string, bundle: string, pidFile: string): Promise<void> {
    await this.run(id, this.createArgs(id, bundle, pidFile));
  }

  async start(id: string): Promise<void> {
    await this.run(id, this.startArgs(id), this.startPath);
  }

  async state(id: string): Promise<OciState | undefined> {
    let stdout: string;
    try {
      ({ stdout } = await this.run(id, this.stateArgs(id), this.directPath));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    return parseState(stdout);
  }

  async kill(id: string, signal: string, all = false): Promise<void> {
    await this.run(id, this.killArgs(id, signal, all && !this.noCgroups), this.directPath);
  }

  async delete(id: string, force = false): Promise<void> {
    await this.run(id, this.deleteArgs(id, force), this.directPath);
  }

  async exec(id: string, opts: ExecProcessOptions): Promise<void> {
    await this.run(id, this.execArgs(id, opts));
  }

  async pause(id: string): Promise<void> {
    await this.run(id, this.pauseArgs(id));
  }

  async resume(id: string): Promise<void> {
    await this.run(id, this.resumeArgs(id));
  }

  async update(id: string, resources: RuntimeResources): Promise<void> {
    await this.run(id, this.updateArgs(id, resources));
  }

  private async run(id: string, args: string[], program = this.path) {
    const argv = [...this.globalArgs, ...args];
    try {
      return await runCommand(program, argv, this.runOptions);
    } catch (err) {
      throw translateRuntimeError(err, { id, root: this.root, verb: args[0] });
    }
  }

  private createArgs(id: string, bundle: string, pidFile: string): string[] {
    return ['create', '--bundle', bundle, '--pid-file', pidFile, id];
  }

  private startArgs(id: string): string[] {
    return ['start', id];
  }

  private stateArgs(id: string): string[] {
    return ['state', id];
  }

  private killArgs(id: string, signal: string, all: boolean): string[] {
    return ['kill', ...(all ? ['--all'] : []), id, signal];
  }

  private deleteArgs(id: string, force: boolean): string[] {
    return ['delete', ...(force ? ['--force'] : []), id];
  }

  private execArgs(id: string, opts: ExecProcessOptions): string[] {
    return [
      'exec',
      '--process',
      opts.processPath,
      '--pid-file',
      opts.pidFile,
      ...(opts.detach ? ['--detach'] : []),
      ...(opts.tty ? ['--tty'] : []),
      id,
    ];
  }

  private pauseArgs(id: string): string[] {
    return ['pause', id];
  }

  private resumeArgs(id: string): string[] {
    return ['resume', id];
  }

  private updateArgs(id: string, r: RuntimeResources): string[] {
    const flags: Array<[string, number | string | undefined]> = [
      ['--memory', r.memory],
      ['--memory-swap', r.memorySwap],
      ['--cpu-share', r.cpuShares],
      ['--cpu-quota', r.cpuQuota],
      ['--cpu-period', r.cpuPeriod],
      ['--cpuset-cpus', r.cpusetCpus],
      ['--cpuset-mems', r.cpusetMems],
      ['--pids-limit', r.pidsLimit],
    ];
    const args = flags.filter(([, v]) => v !== undefined).map(([flag, v]) => `${flag}=${v}`);
    return ['update', ...args, id];
  }
}

function parseState(stdout: string): OciState {
  const raw = JSON.parse(stdout) as Record<string, unknown>;
  const status = String(raw.status) as OciState['status'];
  if (!OCI_STATUSES.has(status)) throw new Error(`runtime reported unknown container status "${raw.status}"`);
  return { id: String(raw.id), pid: Number(raw.pid) || 0, status, bundle: String(raw.bundle ?? '') };
}

/**
 * The runtime's own error message from its stderr: the `msg` of runc's logrus lines (text or
 * JSON format), otherwise the last non-empty line (crun, runsc).
 */
export function runtimeErrorMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const messages: string[] = [];
  for (const line of lines) {
    const logged = logrusMessage(line);
    if (logged && (logged.level === 'error' || logged.level === 'fatal')) messages.push(logged.msg);
  }
  if (messages.length > 0) return messages[messages.length - 1];
  const last = lines[lines.length - 1] ?? '';
  return logrusMessage(last)?.msg ?? last;
}

function logrusMessage(line: string): { level: string; msg: string } | undefined {
  if (line.startsWith('{')) {
    try {
      const obj = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (typeof obj.msg === 'string') return { level: String(obj.level ?? ''), msg: obj.msg };
    } catch {
      return undefined;
    }
  }
  const m = /(?:^|\s)level=(\w+)\s+msg="((?:[^"\\]|\\.)*)"/.exec(line);
  if (!m) return undefined;
  let msg = m[2];
  try {
    msg = JSON.parse(`"${m[2]}"`) as string;
  } catch {
    msg = m[2].replace(/\\(.)/g, '$1');
  }
  return { level: m[1], msg };
}

const CONFLICT_PATTERNS = [
  /\bnot running\b/,
  /No such process/, // crun kill of a container whose process is gone: "open pidfd: No such process"
  /cannot start a container that has stopped/,
  /cannot start an already running container/,
  /cannot start container "[^"]*" in state/, // runsc
  /in the paused state/,
  /that is not stopped/,
  /is not in `created` or `stopped` state/,
  /container with id exists/,
  /already exists/,
];

/**
 * Turn a failed runtime call into an engine error where the pattern is known: a missing container
 * is NotFoundError, a call that does not fit the container's state is ConflictError. Anything else
 * stays an ExternalCommandError whose message is the runtime's own ("exec: \"x\": executable file
 * not found in $PATH" stays intact for the engine to classify with `runtimeErrorKind`).
 */
export function translateRuntimeError(err: unknown, ctx: { id: string; root?: string; verb?: string }): Error {
  if (!(err instanceof ExternalCommandError)) return err instanceof Error ? err : new Error(String(err));
  if (err.exitCode === null && !err.stderr) return err; // never ran, killed or timed out
  // A runtime that prints its usage does not know the command (runsc has no `update`).
  if (ctx.verb && /^Usage: \S+ <flags> <subcommand>/m.test(err.stderr)) {
    return new NotImplementedError(`${basename(err.program)} does not implement "${ctx.verb}"`, { cause: err });
  }
  const message = runtimeErrorMessage(err.stderr) || err.message;
  if (isNotFound(message, ctx)) return new NotFoundError(`No such container: ${ctx.id}`, { cause: err });
  if (CONFLICT_PATTERNS.some((re) => re.test(message))) return new ConflictError(message, { cause: err });
  // crun's `start` of a container that was started already: its exec.fifo is gone.
  if (ctx.root !== undefined && message.includes(`/${ctx.id}/exec.fifo`)) {
    return new ConflictError(`cannot start container ${ctx.id}: it was started already (${message})`, { cause: err });
  }
  return new ExternalCommandError(
    { program: err.program, argv: err.argv, exitCode: err.exitCode, signal: err.signal, stderr: err.stderr, message },
    { cause: err.cause },
  );
}

function isNotFound(message: string, ctx: { id: string; root?: string }): boolean {
  if (/container does not exist/.test(message)) return true; // runc
  if (/^loading container(?: "[^"]*")?: file does not exist$/.test(message)) return true; // runsc
  if (ctx.root === undefined) return false;
  // crun names its own state files: "error opening file `<root>/<id>/status`: No such file or
  // directory" (most verbs), "cannot open directory '<root>/<id>': No such file or directory" (delete).
  const stateDir = `${ctx.root.replace(/\/+$/, '')}/${ctx.id}`;
  return /No such file or directory/.test(message) && (message.includes(`${stateDir}/status`) || message.includes(`'${stateDir}'`));
}

/**
 * An exec that could not start, in runc's words: crun says the same things differently
 * (``executable file `x` not found in $PATH``, `open executable: Permission denied`,
 * ``chdir `/d` ``), while users, their scripts and dockerd's own messages know runc's (dockerd's
 * default runtime). Messages already in runc's words, or about something else, stay as they are.
 */
export function runcExecWording(message: string, cmd: string): string {
  const prefix = 'exec failed: unable to start container process:';
  const missing = /executable file `(.*)` not found in \$PATH/.exec(message);
  if (missing) return `${prefix} exec: "${missing[1]}": executable file not found in $PATH`;
  if (/^open executable: Permission denied$/.test(message)) return `${prefix} exec: "${cmd}": permission denied`;
  const cwd = /^chdir `(.*)`: No such file or directory$/.exec(message);
  if (cwd) return `${prefix} chdir to cwd ("${cwd[1]}") set in config.json failed: no such file or directory`;
  return message;
}

export type RuntimeErrorKind = 'command-not-found' | 'permission-denied';

/**
 * Classify a runtime's message the way dockerd and the docker CLI do for start failures:
 * a missing command maps to exit code 127, a command that cannot be executed to 126.
 */
export function runtimeErrorKind(message: string): RuntimeErrorKind | undefined {
  if (/executable file not found|not found in \$PATH|no such file or directory/i.test(message)) {
    return 'command-not-found';
  }
  if (/permission denied|operation not permitted/i.test(message)) return 'permission-denied';
  return undefined;
}

