/**
 * dockerd's default seccomp profile, built at daemon start from the profile Debian ships in
 * `golang-github-containers-common` (/usr/share/containers/seccomp.json, Podman's default, of
 * the same lineage as dockerd's) plus Berth's own corrections where the two answer differently.
 * Why this and not a copy of dockerd's file: docs/seccomp.md.
 *
 * The base file decides only what no capability or argument affects: its unconditional
 * allow-list, its architecture-specific rules and its `personality` values. Every syscall whose
 * answer in dockerd depends on a capability, an argument or the kernel, and every one where
 * the two profiles disagree, is decided here whatever the base file says, so a newer base file
 * can only change the answers for syscalls this module does not name.
 */
import { readFileSync } from 'node:fs';
import type { DaemonSeccomp, DockerProfile, DockerSyscall } from './seccomp';
import { parseProfile } from './seccomp';

/** Where Debian's containers-common package puts its profile. */
export const BASE_PROFILE_PATH = '/usr/share/containers/seccomp.json';

const EPERM = 1;
const ENOSYS = 38;

/**
 * Refused in every case by dockerd (the base allows some of them): the kernel keyring (not
 * namespaced), io_uring (a large attack surface, refused by dockerd since 2023), pivot_root,
 * and old 32-bit x86 entry points dockerd does not list.
 */
const REFUSED = [
  'add_key', 'keyctl', 'request_key',
  'io_uring_enter', 'io_uring_register', 'io_uring_setup',
  'pivot_root', 'userfaultfd', 'query_module',
  'readdir', 'sigaction', 'signal', 'sigpending', 'sigsuspend', 'syscall', 'timerfd',
];

/** Allowed by dockerd for everyone; newer than the base file, or refused by it. */
const ALLOWED = [
  'cachestat', 'fchmodat2', 'futex_requeue', 'futex_wait', 'futex_waitv', 'futex_wake',
  'getxattrat', 'listxattrat', 'removexattrat', 'setxattrat', 'io_pgetevents', 'io_pgetevents_time64',
  'listmount', 'statmount', 'map_shadow_stack', 'mseal', 'riscv_hwprobe', 'uretprobe', 'vmsplice',
];

/** Allowed only to a container holding the capability (dockerd's capability-conditional rules). */
const BY_CAPABILITY: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
  [
    'CAP_SYS_ADMIN',
    [
      'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick',
      'lookup_dcookie', 'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount',
      'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd',
      'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
    ],
  ],
  ['CAP_SYS_BOOT', ['reboot']],
  ['CAP_SYS_CHROOT', ['chroot']],
  ['CAP_SYS_MODULE', ['delete_module', 'init_module', 'finit_module']],
  ['CAP_SYS_PACCT', ['acct']],
  ['CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace']],
  ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
  ['CAP_SYS_TIME', ['settimeofday', 'stime', 'clock_settime', 'clock_settime64']],
  ['CAP_SYS_TTY_CONFIG', ['vhangup']],
  ['CAP_SYS_NICE', ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node']],
  ['CAP_SYSLOG', ['syslog']],
  ['CAP_BPF', ['bpf']],
  ['CAP_PERFMON', ['perf_event_open']],
];

/** The clone(2) flags that create namespaces (CLONE_NEWNS ... CLONE_NEWNET, CLONE_NEWTIME excluded as dockerd does). */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
/** Socket families dockerd refuses: AF_ALG (38) and AF_VSOCK (40). */
const AF_ALG = 38;
const AF_VSOCK = 40;

/** Rules with conditions on arguments, capabilities or the kernel, written out whole. */
function conditionalRules(): DockerSyscall[] {
  const allow = 'SCMP_ACT_ALLOW';
  return [
    // Tracing one's own processes is safe since 4.8 (seccomp is re-checked after a tracer changes a syscall).
    { names: ['process_vm_readv', 'process_vm_writev', 'ptrace'], action: allow, includes: { minKernel: '4.8' } },
    // Architecture-specific calls the base file does not know.
    { names: ['swapcontext'], action: allow, includes: { arches: ['ppc64le'] } },
    { names: ['riscv_flush_icache'], action: allow, includes: { arches: ['riscv64'] } },
    // Every socket family but the two above.
    { names: ['socket'], action: allow, args: [{ index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }] },
    { names: ['socket'], action: allow, args: [{ index: 0, value: AF_ALG + 1, op: 'SCMP_CMP_EQ' }] },
    { names: ['socket'], action: allow, args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }] },
    ...BY_CAPABILITY.map(([cap, names]): DockerSyscall => ({ names: [...names], action: allow, includes: { caps: [cap] } })),
    // Without CAP_SYS_ADMIN: clone without namespace flags (the flags are the second argument on s390).
    { names: ['clone'], action: allow, args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] } },
    { names: ['clone'], action: allow, args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }], includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    // clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone.
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  ];
}

/** Every syscall name this module decides; the base file's rules for them are dropped. */
const DECIDED = new Set<string>([...REFUSED, ...ALLOWED, 'socket', ...BY_CAPABILITY.flatMap(([, names]) => names), ...conditionalRules().flatMap((r) => r.names ?? [])]);

/**
 * dockerd's default profile from the base profile: refusals answer EPERM (the base says ENOSYS);
 * the base's own refusals and capability rules go (the default refusal and the rules above
 * cover them); its unconditional allows, architecture rules and argument rules stay, minus the
 * syscalls decided here. Pure.
 */
export function dockerDefaultProfile(base: DockerProfile): DockerProfile {
  const kept: DockerSyscall[] = [];
  for (const rule of base.syscalls ?? []) {
    if (rule.action !== 'SCMP_ACT_ALLOW') continue;
    if (rule.includes?.caps?.length || rule.excludes?.caps?.length || rule.includes?.minKernel || rule.excludes?.minKernel) continue;
    const names = (rule.names?.length ? rule.names : rule.name ? [rule.name] : []).filter((n) => !DECIDED.has(n));
    if (!names.length) continue;
    kept.push({
      names,
      action: rule.action,
      ...(rule.args?.length ? { args: rule.args.map((a) => ({ ...a })) } : {}),
      ...(rule.includes?.arches?.length ? { includes: { arches: [...rule.includes.arches] } } : {}),
      ...(rule.excludes?.arches?.length ? { excludes: { arches: [...rule.excludes.arches] } } : {}),
    });
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    ...(base.archMap?.length ? { archMap: withOwnArches(base.archMap) } : {}),
    ...(!base.archMap?.length && base.architectures?.length ? { architectures: [...base.architectures] } : {}),
    syscalls: [{ names: [...ALLOWED], action: 'SCMP_ACT_ALLOW' }, ...kept, ...conditionalRules()],
  };
}

/** Single-architecture machines the base file's archMap may not list (without an entry, no architecture is named at all). */
const LONE_ARCHES = ['SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64'];

function withOwnArches(archMap: NonNullable<DockerProfile['archMap']>): NonNullable<DockerProfile['archMap']> {
  const out = archMap.map((a) => ({ architecture: a.architecture, subArchitectures: [...(a.subArchitectures ?? [])] }));
  for (const arch of LONE_ARCHES) if (!out.some((a) => a.architecture === arch)) out.push({ architecture: arch, subArchitectures: [] });
  return out;
}

/** The message when the default profile cannot be built, saying what to do about it. */
function baseMissing(path: string, why: string): string {
  return (
    `the default seccomp profile is built from ${path} (${why}); install it ` +
    `(Debian/Ubuntu: apt-get install golang-github-containers-common), or start berthd with ` +
    `--seccomp-profile unconfined or --seccomp-profile <path to a profile>`
  );
}

export class SeccompSetupError extends Error {}

/**
 * Resolves the daemon's `--seccomp-profile` (`builtin` or empty, `unconfined`, or a file path)
 * as dockerd does at start. Throws SeccompSetupError when it cannot be honoured: berthd will
 * not run containers without the filter it was asked for.
 */
export function loadDaemonSeccomp(setting: string | undefined, basePath: string = BASE_PROFILE_PATH): DaemonSeccomp {
  let builtin: DockerProfile | undefined;
  let builtinMissing: string | undefined;
  try {
    builtin = dockerDefaultProfile(parseProfile(readFileSync(basePath, 'utf8')));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    builtinMissing = baseMissing(basePath, e.code === 'ENOENT' ? 'file not found' : e.message);
  }
  if (!setting || setting === 'builtin') {
    if (!builtin) throw new SeccompSetupError(builtinMissing);
    return { profile: 'builtin', containerDefault: builtin, builtin };
  }
  if (setting === 'unconfined') return { profile: 'unconfined', builtin, builtinMissing };
  let text: string;
  try {
    text = readFileSync(setting, 'utf8');
  } catch (err) {
    throw new SeccompSetupError(`opening seccomp profile (${setting}) failed: ${(err as Error).message}`);
  }
  try {
    return { profile: setting, containerDefault: parseProfile(text), builtin, builtinMissing };
  } catch (err) {
    throw new SeccompSetupError(`seccomp profile ${setting}: ${(err as Error).message}`);
  }
}
