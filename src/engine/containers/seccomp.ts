/**
 * Seccomp filters, chosen and shaped as dockerd does. Every container runs under the daemon's
 * profile unless it names its own: dockerd's default (`builtin`, see seccomp-default.ts), a
 * profile file given with `--seccomp-profile`, or none with `--seccomp-profile unconfined`.
 * A container may override it with `--security-opt seccomp=unconfined|builtin|<profile JSON>`
 * (the CLI sends the file's JSON; cri-dockerd passes a pod's `localhost/...` profile so).
 * Privileged containers always run unconfined, as dockerd did up to 26 and as Kubernetes' CRI
 * validation expects (dockerd 27+ would apply a profile they name; see docs/seccomp.md). A Docker-format profile becomes the OCI spec's `linux.seccomp` as dockerd turns
 * it: the native architecture and its sub-architectures from `archMap`, rules kept or dropped by
 * their `includes`/`excludes` (architectures, capabilities, minimum kernel). Execs run under
 * their container's filter: the runtime applies the bundle's filter to every process it joins.
 */
import { release } from 'node:os';
import { InvalidParameterError } from '../../errors';

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface OciSeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  syscalls?: OciSeccompSyscall[];
}

export interface SeccompFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

/** One rule of a Docker-format profile. */
export interface DockerSyscall {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[] | null;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
  comment?: string;
}

/** A Docker-format profile (what `--security-opt seccomp=` and `--seccomp-profile` take). */
export interface DockerProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures?: string[] }> | null;
  flags?: string[];
  listenerPath?: string;
  syscalls?: DockerSyscall[] | null;
}

/** The daemon's seccomp setting, resolved once at start (see seccomp-default.ts). */
export interface DaemonSeccomp {
  /** What `docker info` names: `builtin`, `unconfined` or the profile file's path. */
  readonly profile: string;
  /** The profile of a container that names none; undefined means unconfined. */
  readonly containerDefault?: DockerProfile;
  /** dockerd's default profile (`seccomp=builtin`); undefined when it could not be built. */
  readonly builtin?: DockerProfile;
  /** Why `builtin` is missing, to tell a client that asks for it. */
  readonly builtinMissing?: string;
}

/** The profile named in SecurityOpt (`seccomp=...`, or the old `seccomp:...`), if any. */
export function seccompOption(securityOpt: unknown): string | undefined {
  let found: string | undefined;
  for (const opt of Array.isArray(securityOpt) ? (securityOpt as unknown[]) : []) {
    if (typeof opt !== 'string') continue;
    const sep = opt.includes('=') ? '=' : ':';
    const i = opt.indexOf(sep);
    if (i > 0 && opt.slice(0, i) === 'seccomp') found = opt.slice(i + 1);
  }
  return found;
}

/** Node's architecture names → libseccomp's native name (what `includes.arches` lists) and its SCMP constant (what `archMap` lists). */
const ARCHES: Record<string, { native: string; scmp: string }> = {
  x64: { native: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  ia32: { native: 'x86', scmp: 'SCMP_ARCH_X86' },
  arm64: { native: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  arm: { native: 'arm', scmp: 'SCMP_ARCH_ARM' },
  ppc64: { native: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  s390x: { native: 's390x', scmp: 'SCMP_ARCH_S390X' },
  riscv64: { native: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
  loong64: { native: 'loongarch64', scmp: 'SCMP_ARCH_LOONGARCH64' },
};

/** This machine's architecture in libseccomp's native naming (`amd64`, `arm64`, ...). */
export function nativeArch(): string {
  return ARCHES[process.arch]?.native ?? process.arch;
}

export interface SeccompContext {
  /** The container's capabilities (bounding set), `CAP_...`. */
  capabilities: readonly string[];
  privileged: boolean;
  /** libseccomp's native name of the architecture (`amd64`); default: this machine's. */
  arch?: string;
  /** Kernel release; default: this machine's. */
  kernel?: string;
}

/**
 * The filter for a container, or undefined for none: `unconfined` or privileged → none;
 * `builtin` → dockerd's default; a JSON profile → that; nothing named → the daemon's choice.
 */
export function seccompFor(securityOpt: unknown, ctx: SeccompContext, daemon: DaemonSeccomp): OciSeccomp | undefined {
  const named = seccompOption(securityOpt);
  if (named === 'unconfined' || ctx.privileged) return undefined;
  let profile: DockerProfile | undefined;
  if (named === 'builtin') {
    if (!daemon.builtin) throw new InvalidParameterError(daemon.builtinMissing ?? 'the built-in seccomp profile is not available');
    profile = daemon.builtin;
  } else if (named) {
    profile = parseProfile(named);
  } else {
    profile = daemon.containerDefault;
  }
  return profile ? convertProfile(profile, ctx) : undefined;
}

/** A profile's JSON text, checked as dockerd checks it; bad input is the client's error. */
export function parseProfile(text: string): DockerProfile {
  let parsed: DockerProfile;
  try {
    parsed = JSON.parse(text) as DockerProfile;
  } catch (err) {
    throw new InvalidParameterError(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof parsed.defaultAction !== 'string') {
    throw new InvalidParameterError('Decoding seccomp profile failed: defaultAction is required');
  }
  if (parsed.architectures?.length && parsed.archMap?.length) {
    throw new InvalidParameterError("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  for (const s of parsed.syscalls ?? []) {
    if (s?.name && s.names?.length) throw new InvalidParameterError("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
  }
  return parsed;
}

export function convertProfile(p: DockerProfile, ctx: SeccompContext): OciSeccomp {
  const arch = ctx.arch ?? nativeArch();
  const scmpArch = Object.values(ARCHES).find((a) => a.native === arch)?.scmp;
  const kernel = ctx.kernel ?? release();
  let architectures = p.architectures ?? [];
  if (p.archMap?.length) {
    const own = p.archMap.find((a) => a.architecture === scmpArch);
    architectures = own ? [own.architecture, ...(own.subArchitectures ?? [])] : [];
  }
  const caps = new Set(ctx.capabilities);
  const atLeast = (v: string) => compareKernel(kernel, v) >= 0;
  const applies = (s: DockerSyscall): boolean => {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (exc.arches?.length && exc.arches.includes(arch)) return false;
    if (exc.caps?.length && exc.caps.some((c) => caps.has(c))) return false;
    if (exc.minKernel && atLeast(exc.minKernel)) return false;
    if (inc.arches?.length && !inc.arches.includes(arch)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
    if (inc.minKernel && !atLeast(inc.minKernel)) return false;
    return true;
  };
  const syscalls: OciSeccompSyscall[] = [];
  for (const s of p.syscalls ?? []) {
    if (!applies(s)) continue;
    const names = s.names?.length ? s.names : s.name ? [s.name] : [];
    if (!names.length) continue;
    syscalls.push({
      names: [...names],
      action: s.action,
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
      ...(s.args?.length ? { args: s.args.map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}), op: a.op })) } : {}),
    });
  }
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    ...(architectures.length ? { architectures } : {}),
    ...(p.flags?.length ? { flags: [...p.flags] } : {}),
    ...(p.listenerPath ? { listenerPath: p.listenerPath } : {}),
    syscalls,
  };
}

/** Compares `major.minor` kernel versions (anything after them is ignored). */
function compareKernel(a: string, b: string): number {
  const parse = (v: string) => (/^(\d+)\.(\d+)/.exec(v) ?? [0, 0, 0]).slice(1, 3).map(Number);
  const [a1, a2] = parse(a);
  const [b1, b2] = parse(b);
  return a1 - b1 || a2 - b2;
}
