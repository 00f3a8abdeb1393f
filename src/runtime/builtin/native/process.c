/*
 * Setting a process up and exec'ing it, shared by create (the container's init) and exec: the
 * plan's process records (rlimit, oom-score-adj, user, caps, no-new-privileges, seccomp, umask,
 * cwd, env, arg) applied in runc's order, and the PATH lookup of the command.
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static unsigned long long num(const char *s) { return strtoull(s, NULL, 10); }

/* The seccomp program, read while the host's paths are still reachable (process_prepare). */
static struct sock_fprog seccomp_prog;
static unsigned int seccomp_flags;
static bool seccomp_loaded;

static void set_oom_score_adj(const struct plan *plan);
static bool prepared;

void process_prepare(const struct plan *plan, const struct plan *seccomp) {
  /* oom_score_adj is inherited; in the container a user namespace may deny its /proc file. */
  set_oom_score_adj(plan);
  prepared = true;
  const struct record *r = seccomp ? plan_find(seccomp, "seccomp") : NULL;
  if (!r || seccomp_loaded) return;
  if (r->nfields < 2) fail("seccomp record needs a file and flags");
  int fd = open(r->fields[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("open seccomp program %s", r->fields[0]);
  struct stat st;
  if (fstat(fd, &st) < 0) fail_errno("stat %s", r->fields[0]);
  size_t len = (size_t)st.st_size;
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > 0xffff)
    fail("seccomp program %s: %zu bytes is not a BPF program", r->fields[0], len);
  struct sock_filter *filter = malloc(len);
  if (!filter) fail("out of memory");
  for (size_t got = 0; got < len;) {
    ssize_t n = read(fd, (char *)filter + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno("read %s", r->fields[0]);
    got += (size_t)n;
  }
  close(fd);
  seccomp_prog.len = (unsigned short)(len / sizeof(struct sock_filter));
  seccomp_prog.filter = filter;
  seccomp_flags = (unsigned int)num(r->fields[1]);
  seccomp_loaded = true;
}

static void load_seccomp(void) {
  if (!seccomp_loaded) return;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, seccomp_flags, &seccomp_prog) < 0)
    fail_errno("seccomp");
}

static const char *env_path(const struct plan *plan) {
  int cur = 0;
  const struct record *r;
  while ((r = plan_next(plan, "env", &cur))) {
    if (r->nfields > 0 && strncmp(r->fields[0], "PATH=", 5) == 0) return r->fields[0] + 5;
  }
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* Go's findExecutable, which runc's LookPath uses: a directory is EISDIR, an executable is one
 * the effective ids may execute (or, where eaccess cannot tell, one with any x bit). */
static char *lookup(const struct plan *plan);

static int executable(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0) return 0;
  if (errno != EPERM && errno != ENOSYS) return errno;
  return (st.st_mode & 0111) ? 0 : EACCES;
}

char *process_lookup(const struct plan *plan) {
  /* create looks up before it reports success and process_exec again: search once. */
  static const struct plan *last_plan;
  static char *last_path;
  if (plan == last_plan && last_path) return last_path;
  char *found = lookup(plan);
  if (found) last_plan = plan, last_path = found;
  return found;
}

static char *lookup(const struct plan *plan) {
  const struct record *a = plan_find(plan, "arg");
  if (!a || a->nfields < 1 || !a->fields[0][0]) {
    errno = ENOENT;
    return NULL;
  }
  const char *name = a->fields[0];
  if (strchr(name, '/')) {
    int e = executable(name);
    if (e) {
      errno = e;
      return NULL;
    }
    return strdup(name);
  }
  const char *p = env_path(plan);
  size_t nlen = strlen(name);
  for (;;) {
    const char *end = strchrnul(p, ':');
    size_t dlen = (size_t)(end - p);
    char *cand = malloc(dlen + nlen + 3);
    if (!cand) fail("out of memory");
    if (dlen == 0) {
      memcpy(cand, "./", 2);
      memcpy(cand + 2, name, nlen + 1);
    } else {
      memcpy(cand, p, dlen);
      cand[dlen] = '/';
      memcpy(cand + dlen + 1, name, nlen + 1);
    }
    if (executable(cand) == 0) return cand;
    free(cand);
    if (!*end) break;
    p = end + 1;
  }
  errno = ENOENT;
  return NULL;
}

void process_lookup_error(const struct plan *plan, int err, char *buf, size_t len) {
  const struct record *a = plan_find(plan, "arg");
  const char *name = a && a->nfields > 0 ? a->fields[0] : "";
  if (!strchr(name, '/'))
    snprintf(buf, len, "exec: \"%s\": executable file not found in $PATH", name);
  else if (err == ENOENT || err == ENOTDIR)
    snprintf(buf, len, "exec: \"%s\": stat %s: %s", name, name,
             err == ENOENT ? "no such file or directory" : "not a directory");
  else if (err == EISDIR)
    snprintf(buf, len, "exec: \"%s\": is a directory", name);
  else if (err == EACCES)
    snprintf(buf, len, "exec: \"%s\": permission denied", name);
  else
    snprintf(buf, len, "exec: \"%s\": %s", name, strerror(err));
}

static void set_rlimits(const struct plan *plan) {
  int cur = 0;
  const struct record *r;
  while ((r = plan_next(plan, "rlimit", &cur))) {
    if (r->nfields < 3) fail("rlimit record needs resource, soft and hard");
    struct rlimit lim = {.rlim_cur = num(r->fields[1]), .rlim_max = num(r->fields[2])};
    if (setrlimit((int)num(r->fields[0]), &lim) < 0) fail_errno("setrlimit %s", r->fields[0]);
  }
}

static void set_oom_score_adj(const struct plan *plan) {
  const struct record *r = plan_find(plan, "oom-score-adj");
  if (!r || r->nfields < 1) return;
  if (write_text("/proc/self/oom_score_adj", r->fields[0]) < 0) fail_errno("write oom_score_adj %s", r->fields[0]);
}

struct caps {
  unsigned long long bounding, effective, inheritable, permitted, ambient;
};

static void drop_bounding(unsigned long long keep) {
  for (int c = 0; c < 64; c++) {
    if (keep & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      fail_errno("drop capability %d from the bounding set", c);
    }
  }
}

static void set_caps(const struct caps *c) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(c->effective >> (32 * i));
    data[i].permitted = (uint32_t)(c->permitted >> (32 * i));
    data[i].inheritable = (uint32_t)(c->inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) fail_errno("capset");
  for (int b = 0; b < 64; b++) {
    if (!(c->ambient & (1ULL << b))) continue;
    /* The kernel only raises what is permitted and inheritable; like runc, a spec asking for
     * more is not an error (the cap simply is not ambient). */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, b, 0, 0) < 0 && errno != EPERM)
      fail_errno("raise ambient capability %d", b);
  }
}

static void set_user(const struct plan *plan) {
  const struct record *u = plan_find(plan, "user");
  uid_t uid = 0;
  gid_t gid = 0;
  if (u && u->nfields >= 2) {
    uid = (uid_t)num(u->fields[0]);
    gid = (gid_t)num(u->fields[1]);
  }
  gid_t groups[256];
  size_t ng = 0;
  int cur = 0;
  const struct record *r;
  while ((r = plan_next(plan, "additional-gid", &cur))) {
    if (r->nfields < 1) continue;
    if (ng == sizeof groups / sizeof groups[0]) fail("too many additional groups");
    groups[ng++] = (gid_t)num(r->fields[0]);
  }
  /* In a user namespace with setgroups denied this fails; with no groups asked for, it is
   * only a cleanup of the groups inherited from the caller, so go on. */
  if (setgroups(ng, groups) < 0 && (ng > 0 || errno != EPERM)) fail_errno("setgroups");
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail_errno("PR_SET_KEEPCAPS");
  if (setresgid(gid, gid, gid) < 0) fail_errno("setresgid %u", (unsigned)gid);
  if (setresuid(uid, uid, uid) < 0) fail_errno("setresuid %u", (unsigned)uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail_errno("PR_SET_KEEPCAPS");
}

static char **collect(const struct plan *plan, const char *key) {
  int n = 0, cur = 0;
  const struct record *r;
  while ((r = plan_next(plan, key, &cur))) n++;
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (!v) fail("out of memory");
  n = 0, cur = 0;
  while ((r = plan_next(plan, key, &cur))) {
    if (r->nfields > 0) v[n++] = r->fields[0];
  }
  return v;
}

void process_exec(const struct plan *plan, const struct plan *seccomp) {
  if (!prepared) process_prepare(plan, seccomp);
  char *path = process_lookup(plan);
  if (!path) {
    char msg[512];
    process_lookup_error(plan, errno, msg, sizeof msg);
    fail("%s", msg);
  }
  char **argv = collect(plan, "arg"), **envp = collect(plan, "env");

  const struct record *nnp = plan_find(plan, "no-new-privileges");
  bool no_new_privs = nnp && nnp->nfields > 0 && strcmp(nnp->fields[0], "1") == 0;
  const struct record *cr = plan_find(plan, "caps");
  struct caps caps = {0};
  if (cr) {
    if (cr->nfields < 5) fail("caps record needs five masks");
    caps = (struct caps){num(cr->fields[0]), num(cr->fields[1]), num(cr->fields[2]),
                         num(cr->fields[3]), num(cr->fields[4])};
  }

  set_rlimits(plan);
  /* Without no_new_privs the kernel only takes a filter from a CAP_SYS_ADMIN holder: load it
   * before the capabilities go (runc's order); with it, as late as possible. */
  if (!no_new_privs) load_seccomp();
  const struct record *cwd = plan_find(plan, "cwd");
  if (cwd && cwd->nfields > 0 && cwd->fields[0][0] && chdir(cwd->fields[0]) < 0)
    fail_errno("chdir to cwd (\"%s\") set in config.json failed", cwd->fields[0]);
  if (cr) drop_bounding(caps.bounding);
  set_user(plan);
  if (cr) set_caps(&caps);
  if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail_errno("PR_SET_NO_NEW_PRIVS");
  const struct record *u = plan_find(plan, "user");
  umask(u && u->nfields >= 3 && u->fields[2][0] ? (mode_t)num(u->fields[2]) : 022);
  /* Nothing the caller left open reaches the process, only stdio. */
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL); /* a mask the caller left would outlive execve */
  if (no_new_privs) load_seccomp();
  execve(path, argv, envp);
  int e = errno;
  char msg[512];
  process_lookup_error(plan, e, msg, sizeof msg);
  if (e != ENOENT && e != EACCES) snprintf(msg, sizeof msg, "exec %s: %s", path, strerror(e));
  fail("%s", msg);
}
