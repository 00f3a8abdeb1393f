/*
 * What create and exec share beyond runtime.h: the channel between the runtime's process and the
 * container process it is making (channel.c), the rootfs steps (rootfs.c) and the console
 * (console.c). Private to create.c and exec.c.
 */
#ifndef BERTH_SETUP_H
#define BERTH_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include <sched.h>
#include <string.h>

#include "runtime.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* A `namespace` record's type: its CLONE_NEW* flag and its name under /proc/<pid>/ns/. */
static inline int ns_flag(const char *type, const char **proc_name) {
  static const struct { const char *type, *proc; int flag; } t[] = {
      {"user", "user", CLONE_NEWUSER}, {"pid", "pid", CLONE_NEWPID},
      {"network", "net", CLONE_NEWNET}, {"mount", "mnt", CLONE_NEWNS},
      {"ipc", "ipc", CLONE_NEWIPC},    {"uts", "uts", CLONE_NEWUTS},
      {"cgroup", "cgroup", CLONE_NEWCGROUP}, {"time", "time", CLONE_NEWTIME}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(type, t[i].type) == 0) {
      if (proc_name) *proc_name = t[i].proc;
      return t[i].flag;
    }
  return 0;
}

/* A verb's option in `--name value` or `--name=value` form at argv[*i]; advances *i past a
 * separate value. Returns false when argv[*i] is not this option. */
static inline bool option_value(int argc, char **argv, int *i, const char *name, const char **value) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n) != 0) return false;
  if (a[n] == '=') {
    *value = a + n + 1;
    return true;
  }
  if (a[n] != '\0') return false;
  if (*i + 1 >= argc) fail("flag needs an argument: %s", name);
  *value = argv[++*i];
  return true;
}

/* ---- channel.c: a SOCK_SEQPACKET pair, one message per step ----
 * child -> parent: 'E' + error text (the child then exits), 'H' (at the createRuntime hooks'
 * point), 'O' (ready); parent -> child: 'G' (go on), 'G' + state JSON after the hooks. */
extern int channel_fd;  /* the child's end, where child_fail reports */
void channel_send(int fd, char type, const char *data, size_t len);
/* One message: its type in *type and its payload (NUL-terminated, malloc'd); 0 at EOF. */
int channel_recv(int fd, char *type, char **payload);
/* In the child before it execs: report the error to the parent and exit. */
void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void child_fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- rootfs.c: the container's filesystem, in its mount namespace ---- */
/* rootfs-propagation, the rootfs bound onto itself, `mount`, `device`, `symlink` records, the
 * cwd made; returns an O_PATH fd of the rootfs. `userns`: devices are bind mounts of the host's. */
int rootfs_prepare(const struct plan *plan, bool userns);
/* Make the rootfs `/` (pivot_root, or MS_MOVE + chroot with no_pivot). */
void rootfs_enter(int rootfd, bool no_pivot);
/* After the root changed: `readonly`, `masked`, `sysctl`, then `readonly-rootfs`. */
void rootfs_finish(const struct plan *plan);

/* ---- console.c ---- */
/* Connect to the console socket (a host path: before the root changes). */
int console_connect(const char *path);
/* Open a pty in the container's /dev/ptmx, send the master to `sock`, make the slave stdio and
 * the controlling terminal (the caller has called setsid), apply `console-size`; for the init
 * (`dev_console`) also bind the slave over /dev/console. */
void console_setup(int sock, const struct plan *plan, bool dev_console);

#endif
