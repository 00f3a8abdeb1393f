/*
 * berth-idmapped-overlay: mounts a container's root filesystem under a userns-remap id mapping
 * (src/host/idmapped-overlay.ts runs it, as root in the daemon's mount namespace).
 *
 *   berth-idmapped-overlay --uid C:H:S [--uid ...] --gid C:H:S [--gid ...]
 *       --lower DIR [--lower DIR ...] --upper DIR --work DIR --scratch DIR --target DIR
 *
 * Each lower dir (top-most first) is cloned as a detached mount, made idmapped with a user
 * namespace holding the mapping (an id k on disk shows as host id toHost(k)), and moved onto
 * <scratch>/<n>; overlayfs is then mounted at the target with those as its lower dirs, and the
 * scratch mounts are detached again (overlayfs keeps private clones of its layers). The upper
 * and work dirs are plain: on this kernel family an idmapped upper makes overlayfs fail to make
 * its work dir, and an idmapped overlay mount is refused, so the upper holds host ids.
 *
 * Exit status: 0 mounted; 2 usage; 3 the kernel or the filesystem refuses idmapped mounts;
 * 1 any other failure. A message naming the failed step goes to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* <sys/mount.h> clashes with <linux/mount.h> on some glibc versions: declare what is used. */
extern int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data);
extern int umount2(const char *target, int flags);
#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif

#define MAX_LAYERS 500
#define MAX_RANGES 64
#define EXIT_UNSUPPORTED 3

static const char *prog = "berth-idmapped-overlay";

static void fail(int status, const char *fmt, ...) {
  int saved = errno;
  va_list ap;
  fprintf(stderr, "%s: ", prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, ": %s\n", strerror(saved));
  exit(status);
}

static void usage(const char *why) {
  fprintf(stderr, "%s: %s\nusage: %s --uid C:H:S... --gid C:H:S... --lower DIR... --upper DIR --work DIR --scratch DIR --target DIR\n", prog, why, prog);
  exit(2);
}

/* Appends one "C H S\n" line of /proc/<pid>/uid_map syntax from a "C:H:S" argument. */
static void add_range(char *map, size_t cap, int *count, const char *arg) {
  unsigned long c, h, s;
  char extra;
  if (sscanf(arg, "%lu:%lu:%lu%c", &c, &h, &s, &extra) != 3 || s == 0) usage("a range is CONTAINER:HOST:SIZE");
  if (++*count > MAX_RANGES) usage("too many ranges");
  size_t len = strlen(map);
  if ((size_t)snprintf(map + len, cap - len, "%lu %lu %lu\n", c, h, s) >= cap - len) usage("ranges too long");
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(1, "open %s", path);
  ssize_t n = write(fd, text, strlen(text));
  if (n < 0 || (size_t)n != strlen(text)) fail(1, "write %s", path);
  close(fd);
}

/*
 * A user namespace holding the mapping, as an fd: a child unshares CLONE_NEWUSER and waits,
 * the parent (root in the daemon's namespace) writes its maps and opens /proc/<child>/ns/user.
 */
static int userns_fd(const char *uid_map, const char *gid_map) {
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) fail(1, "pipe");
  pid_t child = fork();
  if (child < 0) fail(1, "fork");
  if (child == 0) {
    close(ready[0]);
    close(done[1]); /* else the read below never sees EOF */
    char b = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    if (write(ready[1], &b, 1) != 1) _exit(1);
    ssize_t r = read(done[0], &b, 1); /* returns at EOF: the parent has the fd */
    _exit(r < 0);
  }
  close(ready[1]);
  close(done[0]);
  char b = 0;
  if (read(ready[0], &b, 1) != 1 || b != 'y') {
    errno = b == 'n' ? EPERM : EIO;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    fail(EXIT_UNSUPPORTED, "unshare(CLONE_NEWUSER) (user namespaces)");
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
  write_file(path, uid_map);
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
  write_file(path, gid_map);
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(1, "open %s", path);
  close(done[1]);
  waitpid(child, NULL, 0);
  return fd;
}

static char scratch_paths[MAX_LAYERS][4096];
static int scratch_count;

/* Detaches and removes the scratch mounts made so far (after the overlay mount, or on failure). */
static void drop_scratch(const char *scratch) {
  for (int i = 0; i < scratch_count; i++) {
    if (umount2(scratch_paths[i], MNT_DETACH) < 0 && errno != EINVAL) fprintf(stderr, "%s: umount %s: %s\n", prog, scratch_paths[i], strerror(errno));
    rmdir(scratch_paths[i]);
  }
  scratch_count = 0;
  rmdir(scratch);
}

static const char *scratch_dir;

static void fail_clean(int status, const char *fmt, const char *arg) {
  int saved = errno;
  drop_scratch(scratch_dir);
  errno = saved;
  fail(status, fmt, arg);
}

/* Clones `dir` as a detached mount, idmaps it with `ns`, and moves it onto the next scratch dir. */
static void idmapped_clone(const char *dir, int ns) {
  char *at = scratch_paths[scratch_count];
  snprintf(at, sizeof scratch_paths[0], "%s/%d", scratch_dir, scratch_count);
  if (mkdir(at, 0700) < 0 && errno != EEXIST) fail_clean(1, "mkdir %s", at);
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) fail_clean(errno == ENOSYS ? EXIT_UNSUPPORTED : 1, "open_tree %s", dir);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64)ns };
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    int unsupported = errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP;
    fail_clean(unsupported ? EXIT_UNSUPPORTED : 1, "idmapped mount of %s (mount_setattr MOUNT_ATTR_IDMAP)", dir);
  }
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, at, MOVE_MOUNT_F_EMPTY_PATH) < 0) fail_clean(1, "move_mount onto %s", at);
  close(tree);
  scratch_count++;
}

int main(int argc, char **argv) {
  static char uid_map[MAX_RANGES * 40], gid_map[MAX_RANGES * 40];
  int uids = 0, gids = 0, lowers = 0;
  const char *lower[MAX_LAYERS];
  const char *upper = NULL, *work = NULL, *target = NULL;
  static const struct option opts[] = {
    { "uid", required_argument, NULL, 'u' }, { "gid", required_argument, NULL, 'g' },
    { "lower", required_argument, NULL, 'l' }, { "upper", required_argument, NULL, 'U' },
    { "work", required_argument, NULL, 'w' }, { "scratch", required_argument, NULL, 's' },
    { "target", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 },
  };
  for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    switch (o) {
      case 'u': add_range(uid_map, sizeof uid_map, &uids, optarg); break;
      case 'g': add_range(gid_map, sizeof gid_map, &gids, optarg); break;
      case 'l':
        if (lowers == MAX_LAYERS) usage("too many lower dirs");
        lower[lowers++] = optarg;
        break;
      case 'U': upper = optarg; break;
      case 'w': work = optarg; break;
      case 's': scratch_dir = optarg; break;
      case 't': target = optarg; break;
      default: usage("unknown option");
    }
  }
  if (optind != argc || !uids || !gids || !lowers || !upper || !work || !scratch_dir || !target) usage("missing or extra arguments");

  int ns = userns_fd(uid_map, gid_map);
  if (mkdir(scratch_dir, 0700) < 0 && errno != EEXIST) fail(1, "mkdir %s", scratch_dir);
  for (int i = 0; i < lowers; i++) idmapped_clone(lower[i], ns);
  close(ns);

  /* lowerdir names relative to the scratch dir keep the option short (one page at most). */
  if (chdir(scratch_dir) < 0) fail_clean(1, "chdir %s", scratch_dir);
  static char data[4096];
  size_t len = (size_t)snprintf(data, sizeof data, "upperdir=%s,workdir=%s,lowerdir=", upper, work);
  for (int i = 0; i < lowers && len < sizeof data; i++) len += (size_t)snprintf(data + len, sizeof data - len, "%s%d", i ? ":" : "", i);
  if (len >= sizeof data) {
    errno = E2BIG;
    fail_clean(1, "overlay options for %s", target);
  }
  if (mount("overlay", target, "overlay", 0, data) < 0) fail_clean(errno == EINVAL ? EXIT_UNSUPPORTED : 1, "mount overlay over idmapped layers at %s", target);
  drop_scratch(scratch_dir);
  return 0;
}
