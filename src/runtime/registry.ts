/**
 * The table of OCI runtimes a daemon can use, built once from configuration: the built-in runc
 * and crun when installed, plus `--add-runtime name=path` entries. The default is crun when it is
 * installed and can run here (about twice as fast as runc per container), else runc, else Berth's
 * own `berth` (src/runtime/builtin/) when it is built. Each runtime
 * keeps its state under `<stateDir>/<name>` (its `--root`).
 * On hybrid cgroup hosts crun is run through a wrapper script (see crun-hybrid.ts). A configured
 * runtime whose `--version` says runsc gets what gVisor needs (see runsc.ts).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { InvalidParameterError } from '../errors';
import { BERTH_RUNTIME_NAME, BERTH_RUNTIME_PATH, berthPlanHooks } from './builtin/runtime-entry';
import type { CgroupLayout } from './cgroups';
import { writeHybridWrapper, writeRootlessHybridWrapper, type HybridWrapperTools } from './crun-hybrid';
import type { RootlessCgroups } from './rootless-cgroups';
import { highestMappedGid, rootlessSpec } from './rootless-spec';
import { MissingRuntime } from './missing-runtime';
import { OciCli } from './oci-cli';
import { runscCliOptions, type StartWrapperTools } from './runsc';
import type { OciRuntime, RuntimeLog } from './types';

export interface ConfiguredRuntime {
  /** Absolute path, or a program name looked up in `searchPath`. */
  path: string;
  /** Extra global arguments for every call (daemon.json `runtimeArgs`). */
  runtimeArgs?: readonly string[];
}

export interface RuntimeRegistryConfig {
  /** The daemon's exec root: runtime `x` keeps its state in `<execRoot>/runtime-state/x` (its
   *  `--root`), generated wrapper scripts go to `<execRoot>/runtimes/`. */
  execRoot: string;
  cgroupLayout: CgroupLayout;
  /** A rootless daemon (inside rootlesskit): the cgroups it may use (rootless-cgroups.ts). */
  rootless?: RootlessCgroups;
  /** `--default-runtime`; when absent: crun if installed and usable here, else runc. */
  defaultRuntime?: string;
  /** `--add-runtime name=path` and daemon.json `runtimes`. */
  configured?: Readonly<Record<string, ConfiguredRuntime>>;
  /** Directories searched for runc, crun and helper tools. */
  searchPath?: readonly string[];
  /** The built-in runtime's executor (default: beside the compiled builtin/berth-runtime.js). */
  berthPath?: string;
  /** Environment for runtime calls. */
  env?: Readonly<Record<string, string>>;
  log?: RuntimeLog;
}

export interface RuntimeInfo {
  name: string;
  /** As configured (`--add-runtime`, daemon.json), as dockerd shows it; for runc and crun found
   *  on the search path, their absolute path. */
  path: string;
  runtimeArgs: readonly string[];
  available: boolean;
}

export const DEFAULT_SEARCH_PATH: readonly string[] = Object.freeze([
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
]);

const BUILT_IN = ['runc', 'crun'] as const;
const RUNTIME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

interface Entry {
  runtime: OciRuntime;
  info: RuntimeInfo;
}

export class RuntimeRegistry {
  private constructor(
    private readonly entries: ReadonlyMap<string, Entry>,
    readonly defaultName: string,
    /** false for a rootless daemon without delegated cgroups (rootless-cgroups.ts). */
    readonly cgroupLimits = true,
  ) {}

  static async create(config: RuntimeRegistryConfig): Promise<RuntimeRegistry> {
    const searchPath = config.searchPath ?? DEFAULT_SEARCH_PATH;
    const wanted = new Map<string, ConfiguredRuntime>();
    for (const name of BUILT_IN) {
      const found = await findProgram(name, searchPath);
      if (found) wanted.set(name, { path: found });
    }
    // Berth's own runtime, when built: listed always, the default only without runc and crun.
    const berthPath = config.berthPath ?? BERTH_RUNTIME_PATH;
    const berth = { path: berthPath };
    if (await isExecutable(berthPath)) wanted.set(BERTH_RUNTIME_NAME, berth);
    for (const [name, rt] of Object.entries(config.configured ?? {})) {
      if (!RUNTIME_NAME.test(name)) throw new InvalidParameterError(`invalid runtime name: ${name}`);
      wanted.set(name, rt);
    }
    const hybrid = config.cgroupLayout === 'hybrid';
    const tools: HybridWrapperTools | undefined = hybrid && !config.rootless ? await findTools(['unshare', 'sh', 'umount'], searchPath) : undefined;
    const rootlessTools = hybrid && config.rootless ? await findTools(['unshare', 'sh', 'mount'], searchPath) : undefined;
    const rootless = config.rootless;
    const highestGid = rootless ? highestMappedGid() : 0;
    if (rootless && rootless.controllers.length === 0) {
      config.log?.warn({ cgroupLayout: config.cgroupLayout }, 'rootless: no cgroup is delegated to this user (cgroup v2 with systemd delegation is needed): containers run without cgroups, limits are discarded');
    } else if (rootless) {
      config.log?.info({ controllers: rootless.controllers, parent: rootless.parent }, 'rootless: containers use the delegated cgroup v2 controllers');
    }
    let startTools: Promise<StartWrapperTools | undefined> | undefined;
    const runscTools = () => (startTools ??= findTools(['unshare', 'sh', 'mount'], searchPath));

    const entries = new Map<string, Entry>();
    for (const [name, rt] of wanted) {
      const binary = isAbsolute(rt.path) ? rt.path : await findProgram(rt.path, searchPath);
      const runtimeArgs = Object.freeze([...(rt.runtimeArgs ?? [])]);
      if (!binary || !(await isExecutable(binary))) {
        config.log?.warn({ runtime: name, path: rt.path }, 'runtime binary not found; its containers can only be listed and removed');
        const info = { name, path: rt.path, runtimeArgs, available: false };
        entries.set(name, { runtime: new MissingRuntime(name, info.path), info });
        continue;
      }
      let path = binary;
      if (tools && basename(binary) === 'crun') {
        path = await writeHybridWrapper(join(config.execRoot, 'runtimes'), name, binary, tools);
        config.log?.info({ runtime: name, wrapper: path }, 'hybrid cgroup host: crun runs without the cgroup2 mount');
      } else if (rootlessTools && basename(binary) === 'crun') {
        // The rootful wrapper's umount needs real root; this one hides the mount under a tmpfs.
        path = await writeRootlessHybridWrapper(join(config.execRoot, 'runtimes'), name, binary, rootlessTools);
        config.log?.info({ runtime: name, wrapper: path }, 'hybrid cgroup host, rootless: crun runs with the cgroup2 mount hidden');
      }
      // A configured runtime may be gVisor under any name: it needs its own spec additions.
      const gvisor = rt === config.configured?.[name]
        ? await runscCliOptions(name, binary, { wrapperDir: join(config.execRoot, 'runtimes'), tools: runscTools, env: config.env, log: config.log })
        : undefined;
      const runtime = new OciCli({
        name,
        path,
        addToSpec: rootless
          ? (spec, ctx) => {
              rootlessSpec(spec, rootless, highestGid);
              gvisor?.addToSpec?.(spec, ctx);
            }
          : gvisor?.addToSpec,
        startPath: gvisor?.startPath,
        ownLoopback: gvisor?.ownLoopback,
        noCgroups: rootless !== undefined && rootless.controllers.length === 0,
        ...(rt === berth ? berthPlanHooks() : {}),
        // crun reads the cgroup layout only where it sets cgroups up (create, update,
        // pause/resume); it keeps what it needs in its state. Measured on Debian 12's crun 1.8.1:
        // start, state, kill (also --all), delete --force and exec (which joins the container's
        // v1 cgroups) work unwrapped on a hybrid host.
        directPath: binary,
        cacheSeccompFilters: basename(binary) === 'crun',
        root: join(config.execRoot, 'runtime-state', name),
        extraGlobalArgs: [...(gvisor?.globalArgs ?? []), ...runtimeArgs],
        env: config.env,
      });
      entries.set(name, { runtime, info: { name, path: rt.path, runtimeArgs, available: true } });
    }

    // crun <= 1.8 runs on a hybrid host only through the wrapper, which needs its tools.
    const crunUsable = !hybrid || tools !== undefined || rootlessTools !== undefined;
    const preferred = [...(crunUsable ? ['crun', 'runc'] : ['runc', 'crun']), BERTH_RUNTIME_NAME];
    const defaultName = config.defaultRuntime ?? (preferred.find((n) => entries.has(n)) || 'runc');
    if (config.defaultRuntime !== undefined && !entries.has(defaultName)) {
      throw new InvalidParameterError(`specified default runtime '${defaultName}' does not exist`);
    }
    if (!entries.has(defaultName)) {
      const info = { name: defaultName, path: '', runtimeArgs: Object.freeze([]), available: false };
      entries.set(defaultName, { runtime: new MissingRuntime(defaultName, ''), info });
    }
    return new RuntimeRegistry(entries, defaultName, !rootless || rootless.controllers.length > 0);
  }

  /** The runtime for a new container; no name means the default. Unknown names are a client error. */
  get(name?: string): OciRuntime {
    const entry = this.entries.get(name || this.defaultName);
    if (!entry) throw new InvalidParameterError(`unknown or invalid runtime name: ${name}`);
    return entry.runtime;
  }

  /** The runtime of an existing container: never throws, a vanished runtime gets the stand-in. */
  forContainer(name: string): OciRuntime {
    return this.entries.get(name || this.defaultName)?.runtime ?? new MissingRuntime(name, '');
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Every runtime with its binary, sorted by name. */
  infos(): RuntimeInfo[] {
    return [...this.entries.values()].map((e) => e.info).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** For `docker info` `Runtimes`: name -> { path, runtimeArgs? }, like dockerd. */
  list(): Record<string, { path: string; runtimeArgs?: string[] }> {
    return Object.fromEntries(
      this.infos().map((i) => [i.name, i.runtimeArgs.length ? { path: i.path, runtimeArgs: [...i.runtimeArgs] } : { path: i.path }]),
    );
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findProgram(name: string, searchPath: readonly string[]): Promise<string | undefined> {
  for (const dir of searchPath) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Each program of `names` found on `searchPath`, or undefined when one of them is missing. */
async function findTools<K extends string>(names: readonly K[], searchPath: readonly string[]): Promise<Record<K, string> | undefined> {
  const found = await Promise.all(names.map((n) => findProgram(n, searchPath)));
  if (found.some((p) => p === undefined)) return undefined;
  return Object.fromEntries(names.map((n, i) => [n, found[i]])) as Record<K, string>;
}
