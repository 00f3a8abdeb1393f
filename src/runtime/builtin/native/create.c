/*
 * The create verb: the container's init made with one clone3 straight from this process (so
 * once create exits the init is reparented to the caller's subreaper, conmon), set up inside
 * its namespaces (rootfs.c, console.c), blocked on exec.fifo until `start`, then exec'd by
 * process_exec. This process waits for the init's report over a SOCK_SEQPACKET pair (channel.c),
 * saves the state and writes --pid-file; on any failure the init, its cgroups and <root>/<id>
 * are removed (an atexit handler, since fail() exits).
 */
#define _GNU_SOURCE
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct create_opts {
  const char *id, *bundle, *pid_file, *console_socket;
  bool no_pivot, no_new_keyring;
};

/* What the atexit cleanup undoes while create has not succeeded. */
static struct {
  bool armed, done;
  pid_t init;
  const struct plan *plan;
  char dir[PATH_MAX];
} undo;

static void cleanup(void) {
  if (!undo.armed || undo.done) return;
  if (undo.init > 0) {
    kill(undo.init, SIGKILL);
    while (waitpid(undo.init, NULL, 0) < 0 && errno == EINTR) {}
  }
  if (undo.plan) {
    int cur = 0;
    const struct record *r;
    while ((r = plan_next(undo.plan, "cgroup", &cur)))
      if (r->nfields > 0) rmdir(r->fields[0]);
  }
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/exec.fifo", undo.dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/state", undo.dir);
  unlink(path);
  rmdir(undo.dir);
}


static void write_id_map(pid_t pid, const struct plan *plan, const char *key, const char *file) {
  struct strbuf sb = {0};
  int cur = 0;
  const struct record *r;
  while ((r = plan_next(plan, key, &cur)))
    if (r->nfields >= 3) sb_printf(&sb, "%s %s %s\n", r->fields[0], r->fields[1], r->fields[2]);
  if (!sb.len) return;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  if (write_text(path, sb.data) < 0) fail_errno("write %s", path);
  sb_free(&sb);
}

struct child_ctx {
  const struct create_opts *o;
  const struct plan *plan;
  int joined[8], njoined;      /* namespace fds to setns, user first */
  bool userns, wait_go, unshare_cgroupns, hooks;
  bool joined_userns; /* in a user namespace made earlier (devices are bound, not made) */
  int terminal;
  /* exec.fifo opened O_PATH by the parent: an init in a user namespace may not reach its dir. */
  int fifo;
};

/* A network namespace the runtime makes has its loopback down; runc brings it up in every new
 * one, and containers (--network none included) expect a working 127.0.0.1. */
static bool new_netns(const struct plan *plan) {
  int cursor = 0;
  const struct record *r;
  while ((r = plan_next(plan, "namespace", &cursor)))
    if (r->nfields > 0 && !strcmp(r->fields[0], "network")) return r->nfields < 2 || !r->fields[1][0];
  return false;
}

static void loopback_up(void) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) child_fail_errno("socket for the loopback");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) child_fail_errno("reading the loopback's flags");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) child_fail_errno("bringing the loopback up");
  close(fd);
}

static void __attribute__((noreturn)) child_main(struct child_ctx *c);

/* clone3 of the init with the new namespaces; returns its pid (in the parent). */
static pid_t clone_init(struct clone_args *ca, struct child_ctx *c, int sv[2]) {
  pid_t pid = (pid_t)syscall(SYS_clone3, ca, sizeof *ca);
  if (pid < 0) fail_errno("clone3");
  if (pid == 0) {
    undo.armed = false; /* the cleanup is the parent's */
    close(sv[0]);
    channel_fd = sv[1];
    child_main(c);
  }
  return pid;
}

/*
 * A joined user namespace must own the namespaces the init makes (a UTS namespace owned by the
 * host's would refuse sethostname, a PID namespace the proc mount), so they are made after the
 * join: a short-lived child joins it as its root, clones the init from there and reports the
 * init's pid (in our pid namespace) before it exits, as runc's nsexec stages do.
 */
static pid_t clone_init_in_userns(struct clone_args *ca, struct child_ctx *c, int sv[2], int userns) {
  struct clone_args plain = {.exit_signal = SIGCHLD};
  pid_t mid = (pid_t)syscall(SYS_clone3, &plain, sizeof plain);
  if (mid < 0) fail_errno("clone3");
  if (mid == 0) {
    undo.armed = false;
    close(sv[0]);
    channel_fd = sv[1];
    if (setns(userns, CLONE_NEWUSER) < 0) child_fail_errno("join the user namespace");
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) child_fail_errno("become root in the user namespace");
    pid_t init = (pid_t)syscall(SYS_clone3, ca, sizeof *ca);
    if (init < 0) child_fail_errno("clone3 in the user namespace");
    if (init == 0) child_main(c);
    char msg[16];
    int n = snprintf(msg, sizeof msg, "%d", (int)init);
    channel_send(sv[1], 'P', msg, (size_t)n);
    _exit(0);
  }
  close(userns);
  char type, *payload = NULL;
  bool got = channel_recv(sv[0], &type, &payload);
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {}
  if (got && type == 'E') fail("%s", payload);
  if (!got || type != 'P') fail("the container init was not made in the joined user namespace");
  pid_t init = (pid_t)atoi(payload);
  free(payload);
  return init;
}

/* The container's init, from clone3 to process_exec. Reports errors with child_fail. */
static void __attribute__((noreturn)) child_main(struct child_ctx *c) {
  const struct plan *plan = c->plan;
  char type, *payload = NULL, *state_json = NULL;
  if (c->wait_go && (!channel_recv(channel_fd, &type, &payload) || type != 'G')) _exit(1);
  if (c->userns) {
    /* Now mapped: become the namespace's root. */
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) child_fail_errno("become root in the user namespace");
  }
  for (int i = 0; i < c->njoined; i++)
    if (setns(c->joined[i], 0) < 0) child_fail_errno("join a namespace");
  if (c->unshare_cgroupns && unshare(CLONE_NEWCGROUP) < 0) child_fail_errno("unshare the cgroup namespace");
  if (new_netns(plan)) loopback_up();
  if (setsid() < 0) child_fail_errno("setsid");
  if (!c->o->no_new_keyring) {
    char name[512];
    snprintf(name, sizeof name, "_ses.%s", c->o->id);
    long key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
    if (key >= 0) syscall(SYS_keyctl, KEYCTL_SETPERM, key, 0x3f3f0000);
  }
  const struct record *r;
  if ((r = plan_find(plan, "hostname")) && r->nfields > 0 && sethostname(r->fields[0], strlen(r->fields[0])) < 0)
    child_fail_errno("sethostname");
  if ((r = plan_find(plan, "domainname")) && r->nfields > 0 && setdomainname(r->fields[0], strlen(r->fields[0])) < 0)
    child_fail_errno("setdomainname");

  umask(0); /* device modes as the plan says; process_exec sets the process's umask */
  int rootfd = rootfs_prepare(plan, c->userns || c->joined_userns);
  int console = c->terminal ? console_connect(c->o->console_socket) : -1;
  int fifo = c->fifo;
  if (c->hooks) {
    /* prestart and createRuntime hooks run in the runtime's namespaces, by the parent. */
    channel_send(channel_fd, 'H', NULL, 0);
    if (!channel_recv(channel_fd, &type, &state_json) || type != 'G') _exit(1);
    hooks_run(plan, "createContainer", state_json);
  }
  rootfs_enter(rootfd, c->o->no_pivot);
  if (console >= 0) console_setup(console, plan, true);
  rootfs_finish(plan);
  /* A relative command (`./run.sh` under WORKDIR) is found from the process's cwd, as runc does. */
  const struct record *cwd = plan_find(plan, "cwd");
  if (cwd && cwd->nfields > 0 && cwd->fields[0][0] && chdir(cwd->fields[0]) < 0)
    child_fail_errno("chdir to cwd (\"%s\") set in config.json failed", cwd->fields[0]);
  if (!process_lookup(plan)) {
    char msg[512];
    process_lookup_error(plan, errno, msg, sizeof msg);
    child_fail("%s", msg);
  }
  channel_send(channel_fd, 'O', NULL, 0);
  close(channel_fd);
  channel_fd = -1;

  /* Wait for `start`: it opens the fifo for reading. */
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fifo);
  int w;
  do w = open(path, O_WRONLY | O_CLOEXEC);
  while (w < 0 && errno == EINTR);
  if (w < 0) fail_errno("open exec.fifo");
  if (write(w, "0", 1) != 1) fail_errno("write exec.fifo");
  close(w);
  close(fifo);
  if (c->hooks) hooks_run(plan, "startContainer", state_json);
  process_exec(plan, plan);
}

static void rfc3339_now(char *buf, size_t len) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

/* The state's records: what exec, kill, pause, update and delete need after create. */
static void state_records(const struct plan *plan, struct strbuf *out) {
  static const char *const keys[] = {"namespace", "cgroup", "freezer", "seccomp", "annotation"};
  for (int i = 0; i < plan->nrecords; i++) {
    const struct record *r = &plan->records[i];
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
      if (strcmp(r->key, keys[k]) == 0) record_write(out, r->key, r->nfields, (const char *const *)r->fields);
  }
}

static void parse(int argc, char **argv, struct create_opts *o) {
  memset(o, 0, sizeof *o);
  o->bundle = ".";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (option_value(argc, argv, &i, "--bundle", &o->bundle) || option_value(argc, argv, &i, "-b", &o->bundle) ||
        option_value(argc, argv, &i, "--pid-file", &o->pid_file) ||
        option_value(argc, argv, &i, "--console-socket", &o->console_socket))
      continue;
    if (strcmp(a, "--no-pivot") == 0) o->no_pivot = true;
    else if (strcmp(a, "--no-new-keyring") == 0) o->no_new_keyring = true;
    else if (a[0] == '-' && a[1]) fail("create: unknown flag %s", a);
    else if (!o->id) o->id = a;
    else fail("create: unexpected argument %s", a);
  }
  if (!o->id || !o->id[0]) fail("create: a container id is required");
}

int cmd_create(int argc, char **argv) {
  struct create_opts o;
  parse(argc, argv, &o);
  char bundle[PATH_MAX], json[PATH_MAX + 16], planfile[PATH_MAX + 16];
  if (!realpath(o.bundle, bundle)) fail_errno("bundle %s", o.bundle);
  snprintf(json, sizeof json, "%s/config.json", bundle);
  snprintf(planfile, sizeof planfile, "%s/berth-plan", bundle);
  static struct plan plan;
  plan_load_compiled(json, planfile, "bundle", bundle, &plan);

  const struct record *term = plan_find(&plan, "terminal");
  int terminal = term && term->nfields > 0 && strcmp(term->fields[0], "1") == 0;
  if (terminal && !o.console_socket) fail("cannot allocate tty if runc will detach without setting console socket");
  if (!terminal && o.console_socket) fail("cannot use console socket if runc will not detach or allocate tty");
  const struct record *rootfs = plan_find(&plan, "rootfs");
  if (!rootfs || rootfs->nfields < 1) fail("%s: no rootfs record", planfile);

  /* --root and its parents may not exist yet on a fresh host. */
  if (mkdir_all(g.root, 0711) < 0) fail_errno("mkdir %s", g.root);
  state_dir(o.id, undo.dir, sizeof undo.dir);
  if (mkdir(undo.dir, 0711) < 0) {
    if (errno == EEXIST) fail("container with id exists: %s", o.id);
    fail_errno("mkdir %s", undo.dir);
  }
  undo.armed = true;
  atexit(cleanup);
  char fifo[PATH_MAX + 16];
  snprintf(fifo, sizeof fifo, "%s/exec.fifo", undo.dir);
  /* 0622 past the umask: an init mapped to another uid (user namespace) must open it too. */
  if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) fail_errno("mkfifo %s", fifo);
  undo.plan = &plan;
  cgroups_prepare(&plan);
  process_prepare(&plan, &plan);

  int fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
  if (fifo_fd < 0) fail_errno("open %s", fifo);
  struct child_ctx c = {.o = &o, .plan = &plan, .terminal = terminal, .fifo = fifo_fd};
  c.hooks = hooks_present(&plan, "prestart") || hooks_present(&plan, "createRuntime") ||
            hooks_present(&plan, "createContainer") || hooks_present(&plan, "startContainer");
  unsigned long long flags = 0;
  int join_userns = -1;
  for (int pass = 0; pass < 2; pass++) { /* a joined user namespace first */
    int cur = 0;
    const struct record *r;
    while ((r = plan_next(&plan, "namespace", &cur))) {
      if (r->nfields < 1) continue;
      int flag = ns_flag(r->fields[0], NULL);
      if (!flag) fail("unknown namespace type %s", r->fields[0]);
      if ((flag == CLONE_NEWUSER) != (pass == 0)) continue;
      const char *path = r->nfields > 1 ? r->fields[1] : "";
      if (!*path) {
        flags |= (unsigned long long)flag;
        continue;
      }
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) fail_errno("open namespace %s", path);
      if (flag == CLONE_NEWUSER) { /* joined before the clone that makes the new ones (below) */
        join_userns = fd;
      } else if (flag == CLONE_NEWPID) { /* only children enter it: that is the init */
        if (setns(fd, CLONE_NEWPID) < 0) fail_errno("join pid namespace %s", path);
        close(fd);
      } else if (c.njoined < 8) {
        c.joined[c.njoined++] = fd;
      }
    }
  }
  c.userns = flags & CLONE_NEWUSER;
  c.joined_userns = join_userns >= 0;
  /* v1 has no CLONE_INTO_CGROUP: a new cgroup namespace must wait for the init to be moved. */
  if (flags & CLONE_NEWCGROUP) {
    flags &= ~(unsigned long long)CLONE_NEWCGROUP;
    c.unshare_cgroupns = true;
  }
  c.wait_go = c.userns || c.unshare_cgroupns;

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) fail_errno("socketpair");
  struct clone_args ca = {.flags = flags, .exit_signal = SIGCHLD};
  fflush(NULL);
  pid_t pid = join_userns < 0 ? clone_init(&ca, &c, sv) : clone_init_in_userns(&ca, &c, sv, join_userns);
  undo.init = pid;
  close(sv[1]);
  for (int i = 0; i < c.njoined; i++) close(c.joined[i]);

  if (c.userns) {
    write_id_map(pid, &plan, "uid-map", "uid_map");
    write_id_map(pid, &plan, "gid-map", "gid_map");
  }
  cgroups_join(&plan, pid);
  if (c.wait_go) channel_send(sv[0], 'G', NULL, 0);

  char created[64];
  rfc3339_now(created, sizeof created);
  for (;;) {
    char type, *payload;
    if (!channel_recv(sv[0], &type, &payload)) {
      int status = 0;
      waitpid(pid, &status, 0);
      undo.init = 0;
      fail("container init exited before it was ready (%s %d)",
           WIFSIGNALED(status) ? "signal" : "status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
    if (type == 'E') fail("%s", payload);
    if (type == 'O') break;
    if (type == 'H') {
      struct state st = {.id = (char *)o.id, .pid = pid, .bundle = bundle, .rootfs = rootfs->fields[0],
                         .created = created, .records = plan};
      struct strbuf js = {0};
      state_json(&st, ST_CREATING, &js);
      hooks_run(&plan, "prestart", js.data);
      hooks_run(&plan, "createRuntime", js.data);
      channel_send(sv[0], 'G', js.data, js.len);
      sb_free(&js);
    }
    free(payload);
  }
  close(sv[0]);

  struct strbuf extra = {0};
  state_records(&plan, &extra);
  state_save(o.id, pid, process_starttime(pid), bundle, rootfs->fields[0], created, extra.data ? extra.data : "");
  sb_free(&extra);
  if (o.pid_file) {
    const char *name;
    int dir = open_parent(o.pid_file, &name);
    write_pid_file_at(dir, name, pid);
    close(dir);
  }
  undo.done = true;
  return 0;
}
