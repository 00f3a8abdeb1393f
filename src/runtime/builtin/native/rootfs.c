/*
 * The container's filesystem, built in its mount namespace by the container process itself
 * (see setup.h). Every path of a `mount`, `device` or `symlink` record is resolved inside the
 * rootfs with openat2(RESOLVE_IN_ROOT) and mounted onto /proc/self/fd/<n> of what was opened, so
 * a symlink in an image can never make a step land on the host.
 */
#define _GNU_SOURCE
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static unsigned long long num(const char *s) { return strtoull(s, NULL, 10); }

static int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT};
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

static void fdpath(int fd, char *buf, size_t len) { snprintf(buf, len, "/proc/self/fd/%d", fd); }

/* An O_PATH fd of `path` in the rootfs, making what is missing: directories, and the last
 * component as an empty file when `file`. */
static int make_in_root(int rootfd, const char *path, bool file) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd;
  char *p = strdup(path);
  if (!p) child_fail("out of memory");
  int parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
  if (parent < 0) child_fail_errno("open the rootfs");
  char *s = p;
  while (*s == '/') s++;
  while (*s) {
    char *end = strchrnul(s, '/');
    bool last = true;
    for (char *t = end; *t; t++)
      if (*t != '/') last = false;
    char save = *end;
    *end = '\0';
    char *name = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
    int next = open_in_root(rootfd, p, O_PATH);
    if (next < 0 && errno == ENOENT) {
      if (last && file) {
        int f = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0 && errno != EEXIST) child_fail_errno("create %s in the rootfs", p);
        if (f >= 0) close(f);
      } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
        child_fail_errno("mkdir %s in the rootfs", p);
      }
      next = open_in_root(rootfd, p, O_PATH);
    }
    if (next < 0) child_fail_errno("open %s in the rootfs", p);
    close(parent);
    parent = next;
    *end = save;
    s = end;
    while (*s == '/') s++;
  }
  free(p);
  return parent;
}

/* The rootfs path of `path`'s parent, made if missing, as an O_PATH fd; *base = the last name. */
static int parent_in_root(int rootfd, const char *path, char *dir, size_t len, const char **base) {
  snprintf(dir, len, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || !slash[1]) child_fail("bad path %s", path);
  *base = path + (slash - dir) + 1;
  if (slash == dir) slash[1] = '\0';
  else *slash = '\0';
  return make_in_root(rootfd, dir, false);
}

static void do_mount(int rootfd, const struct record *r) {
  if (r->nfields < 6) child_fail("mount record needs six fields");
  const char *dest = r->fields[0], *src = r->fields[1], *type = r->fields[2], *data = r->fields[5];
  unsigned long flags = (unsigned long)num(r->fields[3]), prop = (unsigned long)num(r->fields[4]);
  bool bind = flags & MS_BIND;
  bool file = false;
  if (bind) {
    struct stat st;
    if (stat(src, &st) < 0) child_fail_errno("mount %s: stat source %s", dest, src);
    file = !S_ISDIR(st.st_mode);
  }
  int fd = make_in_root(rootfd, dest, file);
  if (fd < 0) child_fail_errno("mount %s: open its mount point in the rootfs", dest);
  char target[64];
  fdpath(fd, target, sizeof target);
  unsigned long first = bind ? flags & (MS_BIND | MS_REC) : flags;
  if (mount(*src ? src : NULL, target, *type ? type : NULL, first, *data ? data : NULL) < 0)
    child_fail_errno("mount %s on %s (%s)", src, dest, type);
  close(fd);
  bool remount = bind && (flags & ~(unsigned long)(MS_BIND | MS_REC));
  if (!remount && !prop) return;
  /* The fd named the mount point under the new mount: reopen to reach the mount itself. */
  fd = open_in_root(rootfd, dest, O_PATH);
  if (fd < 0) child_fail_errno("reopen %s in the rootfs", dest);
  fdpath(fd, target, sizeof target);
  if (remount && mount(NULL, target, NULL, flags | MS_REMOUNT | MS_BIND, NULL) < 0)
    child_fail_errno("remount %s", dest);
  if (prop && mount(NULL, target, NULL, prop, NULL) < 0)
    child_fail_errno("set the propagation of %s", dest);
  close(fd);
}

static void do_device(int rootfd, const struct record *r, bool userns) {
  if (r->nfields < 7) child_fail("device record needs seven fields");
  const char *path = r->fields[0], *base;
  char dir[4096];
  int dfd = parent_in_root(rootfd, path, dir, sizeof dir, &base);
  if (userns) {
    int f = openat(dfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0 && errno != EEXIST) child_fail_errno("create %s", path);
    if (f >= 0) close(f);
    int fd = open_in_root(rootfd, path, O_PATH);
    if (fd < 0) child_fail_errno("open %s in the rootfs", path);
    char target[64];
    fdpath(fd, target, sizeof target);
    if (mount(path, target, NULL, MS_BIND, NULL) < 0) child_fail_errno("bind device %s", path);
    close(fd);
  } else {
    mode_t type = r->fields[1][0] == 'b' ? S_IFBLK : r->fields[1][0] == 'p' ? S_IFIFO : S_IFCHR;
    mode_t mode = type | (mode_t)(num(r->fields[4]) & 07777);
    dev_t dev = makedev((unsigned)num(r->fields[2]), (unsigned)num(r->fields[3]));
    if (mknodat(dfd, base, mode, dev) < 0) {
      if (errno != EEXIST || unlinkat(dfd, base, 0) < 0 || mknodat(dfd, base, mode, dev) < 0)
        child_fail_errno("mknod %s", path);
    }
    if (fchownat(dfd, base, (uid_t)num(r->fields[5]), (gid_t)num(r->fields[6]), AT_SYMLINK_NOFOLLOW) < 0)
      child_fail_errno("chown %s", path);
  }
  close(dfd);
}

static void do_symlink(int rootfd, const struct record *r) {
  if (r->nfields < 2) child_fail("symlink record needs two fields");
  const char *base;
  char dir[4096];
  int dfd = parent_in_root(rootfd, r->fields[1], dir, sizeof dir, &base);
  if (symlinkat(r->fields[0], dfd, base) < 0 && errno != EEXIST)
    child_fail_errno("symlink %s -> %s", r->fields[1], r->fields[0]);
  close(dfd);
}

int rootfs_prepare(const struct plan *plan, bool userns) {
  const struct record *r = plan_find(plan, "rootfs");
  if (!r || r->nfields < 1 || r->fields[0][0] != '/') child_fail("the plan has no absolute rootfs");
  const char *rootfs = r->fields[0];
  const struct record *p = plan_find(plan, "rootfs-propagation");
  unsigned long prop = p && p->nfields > 0 ? (unsigned long)num(p->fields[0]) : MS_SLAVE | MS_REC;
  if (prop && mount(NULL, "/", NULL, prop, NULL) < 0) child_fail_errno("rootfs propagation");
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) child_fail_errno("bind the rootfs %s", rootfs);
  int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) child_fail_errno("open the rootfs %s", rootfs);

  for (int i = 0; i < plan->nrecords; i++) {
    const struct record *rec = &plan->records[i];
    if (strcmp(rec->key, "mount") == 0) do_mount(rootfd, rec);
    else if (strcmp(rec->key, "device") == 0) do_device(rootfd, rec, userns);
  }
  int cur = 0;
  while ((r = plan_next(plan, "symlink", &cur))) do_symlink(rootfd, r);
  const struct record *cwd = plan_find(plan, "cwd");
  if (cwd && cwd->nfields > 0 && cwd->fields[0][0]) {
    int fd = make_in_root(rootfd, cwd->fields[0], false);
    if (fd < 0) child_fail_errno("make the cwd %s", cwd->fields[0]);
    close(fd);
  }
  return rootfd;
}

void rootfs_enter(int rootfd, bool no_pivot) {
  if (fchdir(rootfd) < 0) child_fail_errno("chdir to the rootfs");
  if (no_pivot) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) child_fail_errno("move the rootfs to /");
    if (chroot(".") < 0) child_fail_errno("chroot");
  } else {
    /* Stack the new root over the old one, then detach the old one from under it. */
    if (syscall(SYS_pivot_root, ".", ".") < 0) child_fail_errno("pivot_root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) child_fail_errno("make the old root a slave");
    if (umount2(".", MNT_DETACH) < 0) child_fail_errno("unmount the old root");
  }
  if (chdir("/") < 0) child_fail_errno("chdir /");
  close(rootfd);
}

/* Remount read-only, keeping the mount's other flags: a bind remount sets exactly the flags it
 * is given (and in a user namespace the kernel refuses to clear locked ones). */
static int remount_ro(const char *path, unsigned long extra) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0) return -1;
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | extra;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return mount(NULL, path, NULL, flags, NULL);
}

static void sysctl(const struct record *r) {
  if (r->nfields < 2) child_fail("sysctl record needs a path and a value");
  char file[4200];
  snprintf(file, sizeof file, "/proc/sys/%s", r->fields[0]);
  if (write_text(file, r->fields[1]) < 0) child_fail_errno("write sysctl %s", r->fields[0]);
}

static void readonly(const char *path) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT) return;
    child_fail_errno("bind readonly path %s", path);
  }
  if (remount_ro(path, MS_REC) < 0) child_fail_errno("remount %s read-only", path);
}

static void masked(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT) return;
    child_fail_errno("stat masked path %s", path);
  }
  int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL)
                               : mount("/dev/null", path, NULL, MS_BIND, NULL);
  if (rc < 0) child_fail_errno("mask %s", path);
}

void rootfs_finish(const struct plan *plan) {
  /* runc's order: sysctls while /proc/sys is writable, then read-only paths, then masks. */
  const struct record *r;
  int cur = 0;
  while ((r = plan_next(plan, "sysctl", &cur))) sysctl(r);
  cur = 0;
  while ((r = plan_next(plan, "readonly", &cur)))
    if (r->nfields > 0) readonly(r->fields[0]);
  cur = 0;
  while ((r = plan_next(plan, "masked", &cur)))
    if (r->nfields > 0) masked(r->fields[0]);
  const struct record *ro = plan_find(plan, "readonly-rootfs");
  if (ro && ro->nfields > 0 && strcmp(ro->fields[0], "1") == 0 && remount_ro("/", 0) < 0)
    child_fail_errno("remount the rootfs read-only");
}
