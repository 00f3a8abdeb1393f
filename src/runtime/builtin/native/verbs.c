/*
 * The verbs that act on an existing container: start, state, kill, delete, pause, resume,
 * update. Each reads the state, decides from the container's real status, and answers in
 * runc's words where callers know them.
 */
#define _GNU_SOURCE
#include "runtime.h"
#include "setup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The one positional argument (the id) of a verb with only boolean flags in `flags`. */
static const char *parse_id(int argc, char **argv, const char *const *flags, bool *seen, const char **extra) {
  const char *id = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool matched = false;
    for (int f = 0; flags && flags[f]; f++)
      if (!strcmp(a, flags[f])) seen[f] = matched = true;
    if (matched) continue;
    if (a[0] == '-' && a[1]) fail("%s: unknown flag %s", argv[0], a);
    if (!id) id = a;
    else if (extra && !*extra) *extra = a;
    else fail("%s: unexpected argument %s", argv[0], a);
  }
  if (!id) fail("%s: a container id is required", argv[0]);
  return id;
}

/* The bundle's plan, for the hooks of start and delete; false when it cannot be read. */
static bool bundle_plan(const struct state *st, struct plan *plan) {
  char path[4200];
  snprintf(path, sizeof path, "%s/berth-plan", st->bundle);
  return plan_load(path, "berth-plan", plan, NULL) == 0;
}

static void run_bundle_hooks(const struct state *st, enum status s, const char *phase) {
  struct plan plan;
  if (!bundle_plan(st, &plan)) return;
  if (hooks_present(&plan, phase)) {
    struct strbuf js = {0};
    state_json(st, s, &js);
    hooks_run_lenient(&plan, phase, js.data);
    sb_free(&js);
  }
  plan_free(&plan);
}

int cmd_start(int argc, char **argv) {
  const char *id = parse_id(argc, argv, NULL, NULL, NULL);
  struct state st;
  state_load(id, &st);
  enum status s = state_status(&st);
  if (s == ST_STOPPED) fail("cannot start a container that has stopped");
  if (s != ST_CREATED) fail("cannot start an already running container");
  char fifo[4200];
  snprintf(fifo, sizeof fifo, "%s/%s/exec.fifo", g.root, id);
  /* Non-blocking: a reader opens at once; the init's blocked open for writing then returns and
   * it writes one byte. Poll for it, checking that the init is still alive. */
  int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) fail("cannot start an already running container");
    fail_errno("opening %s", fifo);
  }
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 50);
    if (n > 0 && (p.revents & POLLIN)) {
      char byte;
      if (read(fd, &byte, 1) == 1) break;
    }
    if (n < 0 && errno != EINTR) fail_errno("waiting for the container to start");
    if (state_status(&st) == ST_STOPPED) fail("cannot start a container that has stopped");
  }
  close(fd);
  unlink(fifo);
  run_bundle_hooks(&st, ST_RUNNING, "poststart");
  state_free(&st);
  return 0;
}

int cmd_state(int argc, char **argv) {
  const char *id = parse_id(argc, argv, NULL, NULL, NULL);
  struct state st;
  state_load(id, &st);
  struct strbuf js = {0};
  state_json(&st, state_status(&st), &js);
  puts(js.data);
  sb_free(&js);
  state_free(&st);
  return 0;
}

static int parse_signal(const char *text) {
  static const struct { const char *name; int sig; } names[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},   {"ILL", SIGILL},   {"TRAP", SIGTRAP},
      {"ABRT", SIGABRT}, {"IOT", SIGIOT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},   {"KILL", SIGKILL},
      {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
      {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
      {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},   {"URG", SIGURG},   {"XCPU", SIGXCPU},
      {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
      {"POLL", SIGPOLL}, {"PWR", SIGPWR},     {"SYS", SIGSYS}};
  if (isdigit((unsigned char)text[0])) {
    char *end;
    long n = strtol(text, &end, 10);
    if (*end || n <= 0 || n > SIGRTMAX) fail("unknown signal \"%s\"", text);
    return (int)n;
  }
  const char *name = strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcasecmp(name, names[i].name)) return names[i].sig;
  if (!strncasecmp(name, "RTMIN+", 6)) return SIGRTMIN + atoi(name + 6);
  if (!strncasecmp(name, "RTMAX-", 6)) return SIGRTMAX - atoi(name + 6);
  fail("unknown signal \"%s\"", text);
}

/* Signal the init, or every process of the container's cgroup. */
static void signal_container(const struct state *st, int sig, bool all) {
  if (all) {
    pid_t pids[4096];
    int n = cgroups_pids(&st->records, pids, 4096);
    for (int i = 0; i < n; i++) kill(pids[i], sig);
    if (n > 0) return;
  }
  if (kill(st->pid, sig) < 0 && errno != ESRCH) fail_errno("signalling the container's init");
}

int cmd_kill(int argc, char **argv) {
  static const char *const flags[] = {"--all", "-a", NULL};
  bool seen[2] = {false, false};
  const char *sigtext = NULL;
  const char *id = parse_id(argc, argv, flags, seen, &sigtext);
  int sig = parse_signal(sigtext ? sigtext : "SIGTERM");
  struct state st;
  state_load(id, &st);
  if (state_status(&st) == ST_STOPPED) fail("container not running");
  signal_container(&st, sig, seen[0] || seen[1]);
  state_free(&st);
  return 0;
}

static void remove_state_dir(const char *id) {
  char dir[4096];
  state_dir(id, dir, sizeof dir);
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
  }
  if (rmdir(dir) < 0 && errno != ENOENT) fail_errno("removing %s", dir);
}

int cmd_delete(int argc, char **argv) {
  static const char *const flags[] = {"--force", "-f", NULL};
  bool seen[2] = {false, false};
  const char *id = parse_id(argc, argv, flags, seen, NULL);
  bool force = seen[0] || seen[1];
  char path[4200];
  state_dir(id, path, sizeof path - 8);
  strcat(path, "/state");
  if (force && access(path, F_OK) < 0 && errno == ENOENT) return 0; /* runc: forcing away nothing is fine */
  struct state st;
  state_load(id, &st);
  enum status s = state_status(&st);
  if ((s == ST_RUNNING || s == ST_PAUSED) && !force)
    fail("cannot delete container %s that is not stopped: current status is %s", id, status_name(s));
  if (s != ST_STOPPED) {
    signal_container(&st, SIGKILL, true);
    if (s == ST_PAUSED) cgroups_freeze(&st.records, false); /* a frozen task cannot die */
    /* The init is conmon's child; it is gone once it is reaped or a zombie. */
    for (int tries = 0; tries < 2500 && state_status(&st) != ST_STOPPED; tries++) {
      if (tries % 100 == 99) signal_container(&st, SIGKILL, true);
      nap_ms(2);
    }
    if (state_status(&st) != ST_STOPPED) fail("container %s did not stop after SIGKILL", id);
  }
  cgroups_remove(&st.records);
  run_bundle_hooks(&st, ST_STOPPED, "poststop");
  remove_state_dir(id);
  state_free(&st);
  return 0;
}

int cmd_pause(int argc, char **argv) {
  const char *id = parse_id(argc, argv, NULL, NULL, NULL);
  struct state st;
  state_load(id, &st);
  enum status s = state_status(&st);
  if (s != ST_RUNNING && s != ST_CREATED) fail("container not running");
  cgroups_freeze(&st.records, true);
  state_free(&st);
  return 0;
}

int cmd_resume(int argc, char **argv) {
  const char *id = parse_id(argc, argv, NULL, NULL, NULL);
  struct state st;
  state_load(id, &st);
  if (state_status(&st) != ST_PAUSED) fail("container not paused");
  cgroups_freeze(&st.records, false);
  state_free(&st);
  return 0;
}

static long long parse_number(const char *flag, const char *text) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || *end || end == text) fail("invalid value for %s: %s", flag, text);
  return v;
}

int cmd_update(int argc, char **argv) {
  struct resources res = {0};
  const char *id = NULL;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if (option_value(argc, argv, &i, "--memory", &v)) res.memory = parse_number("--memory", v);
    else if (option_value(argc, argv, &i, "--memory-swap", &v)) res.memory_swap = parse_number("--memory-swap", v);
    else if (option_value(argc, argv, &i, "--cpu-share", &v)) res.cpu_shares = (unsigned long long)parse_number("--cpu-share", v);
    else if (option_value(argc, argv, &i, "--cpu-quota", &v)) res.cpu_quota = parse_number("--cpu-quota", v);
    else if (option_value(argc, argv, &i, "--cpu-period", &v)) res.cpu_period = (unsigned long long)parse_number("--cpu-period", v);
    else if (option_value(argc, argv, &i, "--cpuset-cpus", &v)) res.cpuset_cpus = v;
    else if (option_value(argc, argv, &i, "--pids-limit", &v)) res.pids_limit = parse_number("--pids-limit", v);
    else if (argv[i][0] == '-' && argv[i][1]) fail("update: unsupported flag %s", argv[i]);
    else if (!id) id = argv[i];
    else fail("update: unexpected argument %s", argv[i]);
  }
  if (!id) fail("update: a container id is required");
  struct state st;
  state_load(id, &st);
  if (state_status(&st) == ST_STOPPED) fail("container not running");
  cgroups_update(&st.records, &res);
  state_free(&st);
  return 0;
}
