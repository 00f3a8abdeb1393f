/*
 * OCI hooks: each `hook` record of a phase runs with the container's state JSON on its stdin,
 * its output on our stderr, and its timeout enforced. A failure is named as runc names it.
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Run one hook record; returns 0, or -1 with the reason in `why`. */
static int run_hook(const struct record *r, const char *json, char *why, size_t len) {
  /* phase, timeout, path, argc, args..., envc, env... */
  if (r->nfields < 4) return snprintf(why, len, "malformed hook record"), -1;
  int timeout = atoi(r->fields[1]);
  const char *path = r->fields[2];
  int argc = atoi(r->fields[3]);
  if (argc < 0 || 4 + argc >= r->nfields + 1) return snprintf(why, len, "malformed hook record"), -1;
  int envc = 4 + argc < r->nfields ? atoi(r->fields[4 + argc]) : 0;
  if (envc < 0 || 5 + argc + envc > r->nfields) return snprintf(why, len, "malformed hook record"), -1;
  char **argv = calloc((size_t)argc + 2, sizeof *argv);
  char **envp = calloc((size_t)envc + 1, sizeof *envp);
  if (!argv || !envp) abort();
  for (int i = 0; i < argc; i++) argv[i] = r->fields[4 + i];
  if (argc == 0) argv[0] = (char *)path;
  for (int i = 0; i < envc; i++) envp[i] = r->fields[5 + argc + i];

  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) return snprintf(why, len, "pipe: %s", strerror(errno)), -1;
  pid_t pid = fork();
  if (pid < 0) return snprintf(why, len, "fork: %s", strerror(errno)), -1;
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(2, 1);
    execve(path, argv, envp);
    fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
    _exit(127);
  }
  close(in[0]);
  signal(SIGPIPE, SIG_IGN); /* a hook that does not read its stdin must not kill us */
  size_t n = strlen(json);
  if (write(in[1], json, n) < 0) { /* the hook closed its stdin: its business */ }
  close(in[1]);
  free(argv);
  free(envp);

  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int status;
  for (;;) {
    pid_t w = waitpid(pid, &status, timeout > 0 ? WNOHANG : 0);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return snprintf(why, len, "waiting for %s: %s", path, strerror(errno)), -1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (timeout > 0 && now.tv_sec - start.tv_sec >= timeout) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return snprintf(why, len, "timeout after %d seconds", timeout), -1;
    }
    struct timespec nap = {0, 2000000};
    nanosleep(&nap, NULL);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (WIFEXITED(status)) snprintf(why, len, "exit status %d", WEXITSTATUS(status));
  else snprintf(why, len, "signal: %s", strsignal(WTERMSIG(status)));
  return -1;
}

static void run_phase(const struct plan *plan, const char *phase, const char *json, bool fatal) {
  int cursor = 0, index = 0;
  const struct record *r;
  while ((r = plan_next(plan, "hook", &cursor))) {
    if (r->nfields < 1 || strcmp(r->fields[0], phase) != 0) continue;
    char why[512];
    if (run_hook(r, json, why, sizeof why) < 0) {
      if (fatal) fail("error running %s hook #%d: %s", phase, index, why);
      warnx("error running %s hook #%d: %s", phase, index, why);
    }
    index++;
  }
}

bool hooks_present(const struct plan *plan, const char *phase) {
  int cursor = 0;
  const struct record *r;
  while ((r = plan_next(plan, "hook", &cursor)))
    if (r->nfields > 0 && strcmp(r->fields[0], phase) == 0) return true;
  return false;
}

void hooks_run(const struct plan *plan, const char *phase, const char *json) { run_phase(plan, phase, json, true); }

void hooks_run_lenient(const struct plan *plan, const char *phase, const char *json) {
  run_phase(plan, phase, json, false);
}
