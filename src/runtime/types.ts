/**
 * The runtime layer: OCI runtimes (runc, crun, ...) behind one interface, and the per-container
 * monitor (conmon) that owns a container's stdio, log and exit status so containers outlive the
 * daemon. Nothing here knows about Docker's API or the engine; it consumes plain specs and paths.
 */

/** The slice of the daemon's pino logger the runtime layer uses. */
export interface RuntimeLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What `<runtime> state <id>` reports. */
export interface OciState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
}

/** Resources `<runtime> update` can change (subset grows with later issues). */
export interface RuntimeResources {
  memory?: number;
  memorySwap?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** Set at create only (the runtimes' `update` has no flag for them). */
  hugepageLimits?: Array<{ pageSize: string; limit: number }>;
  pidsLimit?: number;
}

export interface ExecProcessOptions {
  /** Path of an OCI process.json. */
  processPath: string;
  tty: boolean;
  detach: boolean;
  pidFile: string;
}

/** The parts of an OCI spec a runtime may adjust before the bundle is written (see prepareSpec). */
export interface RuntimeSpec {
  annotations?: Record<string, string>;
  linux?: { seccomp?: unknown; namespaces?: ReadonlyArray<{ type: string; path?: string }>; cgroupsPath?: string; resources?: unknown; sysctl?: Record<string, string> };
}

/** What a runtime may need to know about a container that its spec does not say. */
export interface SpecContext {
  /** The network namespace the spec names by path is another container's (or the host's) too. */
  sharedNetns: boolean;
}

/** The nine verbs of the OCI runtime command line, shared by runc, crun, runsc and sysbox-runc. */
export interface OciRuntime {
  readonly name: string;
  /** Executable the monitor runs (may be a wrapper script, e.g. crun on hybrid cgroup hosts). */
  readonly path: string;
  /** The runtime itself when `path` is a wrapper that only create and the cgroup calls need (conmon's exec does not). */
  readonly directPath: string;
  /** Global arguments the runtime needs on every call (e.g. `--root <dir>`). */
  readonly globalArgs: readonly string[];
  /**
   * The container's loopback may be the runtime's own, not its network namespace's (gVisor's
   * netstack): the 127.0.0.11 redirect to the embedded DNS, set up in the namespace, does not
   * reach it, so the container is pointed at the DNS server's own address instead.
   */
  readonly ownLoopback?: boolean;
  create(id: string, bundle: string, pidFile: string): Promise<void>;
  start(id: string): Promise<void>;
  state(id: string): Promise<OciState | undefined>;
  kill(id: string, signal: string, all?: boolean): Promise<void>;
  delete(id: string, force?: boolean): Promise<void>;
  exec(id: string, opts: ExecProcessOptions): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  update(id: string, resources: RuntimeResources): Promise<void>;
  /**
   * Runtime-specific additions to a bundle's spec before it is written (crun: a compiled seccomp
   * filter; runsc: its network mode, see runsc.ts).
   */
  prepareSpec?(id: string, spec: RuntimeSpec, ctx: SpecContext): void;
  /**
   * Runtime files beside a bundle's config.json, written right after it (the built-in runtime:
   * its compiled plan, so no compiler runs per container).
   */
  prepareBundle?(id: string, bundle: string, spec: object): Promise<void>;
  /** The same for an exec's process.json; `rootfs` is the container's root on the host. */
  prepareProcess?(id: string, processPath: string, process: object, rootfs: string): Promise<void>;
  /** After the create of `id` (run by the monitor) succeeded or failed. */
  created?(id: string, ok: boolean): Promise<void>;
}

/** Where a container's monitor keeps its files. All paths are absolute. */
export interface MonitorPaths {
  /** OCI bundle directory (holds config.json); conmon's attach socket and ctl FIFO go beside it. */
  bundle: string;
  /** k8s-file formatted log: `<RFC3339Nano> stdout|stderr F|P <text>` per line. */
  logPath: string;
  /** Directory where the monitor writes `<id>` containing the exit code. */
  exitDir: string;
  /** File the runtime writes the container's pid into. */
  pidFile: string;
  /** File conmon writes its own pid into. */
  monitorPidFile: string;
}

export interface LaunchOptions {
  id: string;
  runtime: OciRuntime;
  paths: MonitorPaths;
  tty: boolean;
  /** Keep the container's stdin open (OpenStdin). */
  stdin: boolean;
  /** Close the container's stdin when the first attached client closes its input (StdinOnce). */
  stdinOnce: boolean;
  /** `none`: the monitor keeps no log (default: the k8s-file at paths.logPath). */
  logDriver?: 'k8s-file' | 'none';
}

/** The result of launching: the container is created (runtime `create` done), not yet started. */
export interface LaunchedContainer {
  pid: number;
  monitorPid: number;
}

/** One attach session to a container through its monitor. */
export interface AttachSession {
  /** Send bytes to the container's stdin. */
  write(data: Buffer): void;
  /** Half-close: the container's stdin gets EOF (when the monitor was told to close on detach). */
  closeStdin(): void;
  /** Output from the container: stream 1 = stdout, 2 = stderr. */
  onData(cb: (stream: 1 | 2, data: Buffer) => void): void;
  /** The monitor closed the session (container exited or monitor gone). */
  onClose(cb: () => void): void;
  close(): void;
}

/** An exec session for the monitor to run (see conmon-exec.ts). */
export interface ExecMonitorOptions {
  containerId: string;
  runtime: OciRuntime;
  /** The session's own directory. */
  dir: string;
  processPath: string;
  tty: boolean;
  stdin: boolean;
  /** Attach before the process starts (else it runs detached). */
  attach: boolean;
  consoleSize?: { height: number; width: number };
}

export interface ExecStarted {
  pid: number;
  session?: AttachSession;
  /** Where the monitor writes the exit file named after the container ID. */
  exitDir: string;
}

export interface ContainerMonitor {
  /** Run a process in a running container under its own monitor; resolves once it started. */
  exec(opts: ExecMonitorOptions): Promise<ExecStarted>;
  /** Makes the monitor reopen its log file (after Berth moved it aside to rotate it). */
  reopenLog(paths: MonitorPaths): Promise<void>;
  /** Resize the pty of an exec session. */
  resizeExec(dir: string, height: number, width: number): Promise<void>;
  /** Remove what an exec session's monitor leaves behind. */
  releaseExec(dir: string): Promise<void>;
  /** Start a monitor that runs `runtime create`; resolves once the container is created. */
  launch(opts: LaunchOptions): Promise<LaunchedContainer>;
  attach(paths: MonitorPaths): Promise<AttachSession>;
  resize(paths: MonitorPaths, height: number, width: number): Promise<void>;
  /** Read the exit code the monitor recorded, or undefined if the container has not exited. */
  readExitCode(id: string, exitDir: string): Promise<number | undefined>;
  /** Is the monitor process for this container alive? */
  isAlive(monitorPidFile: string): Promise<boolean>;
  /** Remove what the monitor leaves behind once it has exited (e.g. conmon's socket symlink). */
  release(paths: MonitorPaths): Promise<void>;
}
