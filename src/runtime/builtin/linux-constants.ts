/**
 * Kernel numbers the plan compiler turns names into: rlimit resources (asm-generic/resource.h)
 * and mount(2) flags (linux/mount.h); capabilities are in ../capabilities.ts, shared with the
 * engine. Names, not numbers, are what OCI specs carry; the executor only ever sees numbers.
 */

/** RLIMIT_* in kernel order: index = resource number. */
export const RLIMITS: readonly string[] = Object.freeze(
  ['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME'].map(
    (r) => `RLIMIT_${r}`,
  ),
);

export const MS = Object.freeze({
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
});

/** RLIM_INFINITY as the plan writes it. */
export const UNLIMITED = 18446744073709551615n;
