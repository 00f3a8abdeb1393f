/**
 * Seccomp profiles given with `--security-opt seccomp=<profile JSON>` (how cri-dockerd passes a
 * pod's `localhost/...` profile), turned into the OCI spec's `linux.seccomp` as dockerd does:
 * the native architecture and its sub-architectures from `archMap`, rules filtered by their
 * `includes`/`excludes` (architectures, capabilities, minimum kernel). `seccomp=unconfined` and
 * privileged containers run without a filter.
 * Not reproduced yet: dockerd's built-in default profile (no option given means no filter here).
 */
import { release } from 'node:os';
import { InvalidParameterError } from '../errors';

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

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface DockerSyscall {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[] | null;
  includes?: Filter;
  excludes?: Filter;
}

interface DockerProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures?: string[] }> | null;
  flags?: string[];
  listenerPath?: string;
  syscalls?: DockerSyscall[] | null;
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

/** Node's architecture names → libseccomp's. */
const NATIVE_ARCH: Record<string, string> = {
  x64: 'SCMP_ARCH_X86_64',
  ia32: 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  ppc64: 'SCMP_ARCH_PPC64LE',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
};

export interface SeccompContext {
  /** The container's effective capabilities, `CAP_...`. */
  capabilities: readonly string[];
  privileged: boolean;
  /** Defaults: this machine's. */
  arch?: string;
  kernel?: string;
}

/** The filter for a container, or undefined for none. */
export function seccompFor(securityOpt: unknown, ctx: SeccompContext): OciSeccomp | undefined {
  const profile = seccompOption(securityOpt);
  if (ctx.privileged || profile === undefined || profile === '' || profile === 'unconfined') return undefined;
  let parsed: DockerProfile;
  try {
    parsed = JSON.parse(profile) as DockerProfile;
  } catch (err) {
    throw new InvalidParameterError(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.defaultAction !== 'string') {
    throw new InvalidParameterError('Decoding seccomp profile failed: defaultAction is required');
  }
  return convertProfile(parsed, ctx);
}

export function convertProfile(p: DockerProfile, ctx: SeccompContext): OciSeccomp {
  const arch = ctx.arch ?? NATIVE_ARCH[process.arch] ?? '';
  const kernel = ctx.kernel ?? release();
  let architectures = p.architectures ?? [];
  if (p.archMap?.length) {
    architectures = [];
    for (const a of p.archMap) {
      if (a.architecture === arch) architectures.push(a.architecture, ...(a.subArchitectures ?? []));
    }
  }
  const caps = new Set(ctx.capabilities);
  const applies = (s: DockerSyscall): boolean => {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(arch)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
    if (inc.minKernel && compareKernel(kernel, inc.minKernel) < 0) return false;
    if (exc.arches?.length && exc.arches.includes(arch)) return false;
    if (exc.caps?.length && exc.caps.some((c) => caps.has(c))) return false;
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
