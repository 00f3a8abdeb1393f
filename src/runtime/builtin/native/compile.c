/*
 * Loading a plan, compiling it first when it is missing or stale: the daemon writes plans with
 * its bundles, so this path only runs Node for bundles made by someone else (a plain OCI caller).
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BERTH_NODE
#define BERTH_NODE "node"
#endif

static bool stale(const char *json_path, const char *plan_path) {
  struct stat js, ps;
  if (stat(plan_path, &ps) < 0) return true;
  if (stat(json_path, &js) < 0) return false; /* no JSON: the plan is all there is */
  return ps.st_mtim.tv_sec < js.st_mtim.tv_sec ||
         (ps.st_mtim.tv_sec == js.st_mtim.tv_sec && ps.st_mtim.tv_nsec < js.st_mtim.tv_nsec);
}

static void compile(const char *mode, const char *arg) {
  char self[PATH_MAX], cli[PATH_MAX + 32];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) fail_errno("readlink /proc/self/exe");
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (slash) *slash = '\0';
  snprintf(cli, sizeof cli, "%s/compile-cli.js", self);
  pid_t pid = fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    /* The compiler's diagnostics go to our stderr; stdout is the caller's, keep it clean. */
    dup2(2, 1);
    execl(BERTH_NODE, BERTH_NODE, cli, mode, arg, (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", BERTH_NODE, strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail_errno("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("compiling the plan of %s failed (%s %s %s)", arg, BERTH_NODE, cli, mode);
}

void plan_load_compiled(const char *json_path, const char *plan_path, const char *mode,
                        const char *arg, struct plan *out) {
  if (stale(json_path, plan_path)) compile(mode, arg);
  const char *why = NULL;
  if (plan_load(plan_path, "berth-plan", out, &why) < 0) {
    if (why) fail("%s: %s", plan_path, why);
    fail_errno("load %s", plan_path);
  }
}
