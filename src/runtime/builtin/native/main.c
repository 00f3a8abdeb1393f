/*
 * berth-runtime: the command line of Berth's built-in OCI runtime. runc's global flags and
 * verbs, so conmon and Berth call it as they call runc; errors are one line on stderr (and a
 * logrus-style line in --log), the form Berth's runtime error translation reads.
 */
#define _GNU_SOURCE
#include "runtime.h"
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BERTH_RUNTIME_VERSION "0.1.0"

struct globals g = {.root = "/run/berth-runtime"};

static void log_line(const char *level, const char *msg) {
  if (!g.log_path) return;
  int fd = open(g.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char when[64];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  struct strbuf sb = {0};
  if (g.log_json) {
    sb_printf(&sb, "{\"level\":\"%s\",\"msg\":", level);
    sb_json_string(&sb, msg);
    sb_printf(&sb, ",\"time\":\"%s\"}\n", when);
  } else {
    sb_printf(&sb, "time=\"%s\" level=%s msg=", when, level);
    sb_json_string(&sb, msg);
    sb_puts(&sb, "\n");
  }
  if (write(fd, sb.data, sb.len) < 0) { /* nowhere left to report it */ }
  close(fd);
  sb_free(&sb);
}

static void report(const char *level, const char *fmt, va_list ap, int err) {
  char msg[4096];
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  if (err && n >= 0 && (size_t)n < sizeof msg) snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(err));
  fprintf(stderr, "%s\n", msg);
  log_line(level, msg);
}

/* exit(), not _exit(): create removes what it half-made in an atexit handler. */
void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report("error", fmt, ap, 0);
  va_end(ap);
  exit(1);
}

void fail_errno(const char *fmt, ...) {
  int err = errno;
  va_list ap;
  va_start(ap, fmt);
  report("error", fmt, ap, err);
  va_end(ap);
  exit(1);
}

void warnx(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report("warning", fmt, ap, 0);
  va_end(ap);
}

static const struct {
  const char *name;
  int (*run)(int, char **);
} VERBS[] = {
    {"create", cmd_create}, {"start", cmd_start}, {"state", cmd_state},   {"kill", cmd_kill},     {"delete", cmd_delete},
    {"exec", cmd_exec},     {"pause", cmd_pause}, {"resume", cmd_resume}, {"update", cmd_update},
};

int main(int argc, char **argv) {
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *v;
    const char *a = argv[i];
    if (option_value(argc, argv, &i, "--root", &g.root)) continue;
    if (option_value(argc, argv, &i, "--log", &g.log_path)) continue;
    if (option_value(argc, argv, &i, "--log-format", &v)) {
      if (strcmp(v, "json") && strcmp(v, "text")) fail("invalid log format %s: use text or json", v);
      g.log_json = strcmp(v, "json") == 0;
      continue;
    }
    if (!strcmp(a, "--debug")) {
      g.debug = true;
      continue;
    }
    if (!strcmp(a, "--systemd-cgroup")) fail("berth-runtime manages cgroups through cgroupfs only; --systemd-cgroup is not supported");
    if (option_value(argc, argv, &i, "--rootless", &v)) {
      if (strcmp(v, "false") && strcmp(v, "auto")) fail("berth-runtime does not run rootless yet (--rootless=%s)", v);
      continue;
    }
    if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
      printf("berth-runtime version %s\nspec: 1.0.2\n", BERTH_RUNTIME_VERSION);
      return 0;
    }
    fail("unknown global flag %s", a);
  }
  if (i >= argc) fail("usage: berth-runtime [global flags] create|start|state|kill|delete|exec|pause|resume|update ...");
  for (size_t k = 0; k < sizeof VERBS / sizeof VERBS[0]; k++)
    if (!strcmp(argv[i], VERBS[k].name)) return VERBS[k].run(argc - i, argv + i);
  fail("berth-runtime: unknown command \"%s\"", argv[i]);
}
