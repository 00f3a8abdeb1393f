/*
 * The exec verb: a new process in a running container. This process joins the container's
 * cgroups and namespaces (through /proc/<init pid>/ns/<type>, user first), then forks so the child
 * lands in the pid namespace too; the child sets up the console and the process and execs. A
 * failed lookup is reported through a CLOEXEC pipe before --pid-file is written; a successful
 * exec closes the pipe. With --detach this process then exits (the caller, conmon, is the
 * subreaper that reaps the child); without it, it waits and exits with the process's code.
 */
#define _GNU_SOURCE
#include "setup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct exec_opts {
  const char *id, *process, *pid_file, *console_socket;
  bool detach, tty;
};

static void parse(int argc, char **argv, struct exec_opts *o) {
  memset(o, 0, sizeof *o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (option_value(argc, argv, &i, "--process", &o->process) || option_value(argc, argv, &i, "-p", &o->process) ||
        option_value(argc, argv, &i, "--pid-file", &o->pid_file) ||
        option_value(argc, argv, &i, "--console-socket", &o->console_socket))
      continue;
    if (strcmp(a, "--detach") == 0 || strcmp(a, "-d") == 0) o->detach = true;
    else if (strcmp(a, "--tty") == 0 || strcmp(a, "-t") == 0) o->tty = true;
    else if (a[0] == '-' && a[1]) fail("exec: unknown flag %s", a);
    else if (!o->id) o->id = a;
    else break; /* runc's positional command form is not supported: the plan holds the args */
  }
  if (!o->id || !o->id[0]) fail("exec: a container id is required");
  if (!o->process) fail("exec: --process is required");
}

int cmd_exec(int argc, char **argv) {
  struct exec_opts o;
  parse(argc, argv, &o);
  static struct state st;
  state_load(o.id, &st);
  enum status s = state_status(&st);
  if (s == ST_STOPPED) fail("cannot exec in a stopped container");
  if (s == ST_PAUSED) fail("cannot exec in a paused container");
  if (s != ST_RUNNING && s != ST_CREATED) fail("cannot exec in a %s container", status_name(s));

  char planfile[PATH_MAX + 16];
  snprintf(planfile, sizeof planfile, "%s.berth-plan", o.process);
  static struct plan plan;
  plan_load_compiled(o.process, planfile, "process", o.process, &plan);
  const struct record *term = plan_find(&plan, "terminal");
  bool terminal = o.tty || (term && term->nfields > 0 && strcmp(term->fields[0], "1") == 0);
  if (terminal && !o.console_socket) fail("cannot allocate tty if runc will detach without setting console socket");
  process_prepare(&plan, &st.records);
  int console = terminal ? console_connect(o.console_socket) : -1;
  const char *pid_name = NULL;
  int pid_dir = o.pid_file ? open_parent(o.pid_file, &pid_name) : -1;

  /* Open every namespace before joining any: after the mount namespace /proc is the container's. */
  int fds[8], nfds = 0;
  for (int pass = 0; pass < 2; pass++) {
    int cur = 0;
    const struct record *r;
    while ((r = plan_next(&st.records, "namespace", &cur))) {
      const char *proc;
      int flag = r->nfields > 0 ? ns_flag(r->fields[0], &proc) : 0;
      if (!flag || (flag == CLONE_NEWUSER) != (pass == 0) || nfds == 8) continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)st.pid, proc);
      if ((fds[nfds++] = open(path, O_RDONLY | O_CLOEXEC)) < 0) fail_errno("open %s", path);
    }
  }
  cgroups_join(&st.records, getpid());
  for (int i = 0; i < nfds; i++) {
    if (setns(fds[i], 0) < 0) fail_errno("join the container's namespaces");
    close(fds[i]);
  }

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) fail_errno("pipe");
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    close(pipefd[0]);
    channel_fd = pipefd[1]; /* child_fail writes 'E' + the error there */
    if (setsid() < 0) child_fail_errno("setsid");
    if (console >= 0) console_setup(console, &plan, false);
    /* A bad cwd must fail the exec here, while the caller still waits for the verdict. */
    const struct record *cwd = plan_find(&plan, "cwd");
    if (cwd && cwd->nfields > 0 && cwd->fields[0][0] && chdir(cwd->fields[0]) < 0) {
      char why[128];
      snprintf(why, sizeof why, "%s", strerror(errno));
      why[0] = (char)tolower((unsigned char)why[0]); /* Go's wording, as runc prints it */
      child_fail("chdir to cwd (\"%s\") set in config.json failed: %s", cwd->fields[0], why);
    }
    if (!process_lookup(&plan)) {
      char msg[512];
      process_lookup_error(&plan, errno, msg, sizeof msg);
      child_fail("%s", msg);
    }
    process_exec(&plan, &st.records);
  }
  close(pipefd[1]);
  if (console >= 0) close(console);
  char msg[4096];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof msg - 1 && ((r = read(pipefd[0], msg + n, sizeof msg - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
    if (r > 0) n += (size_t)r;
  msg[n] = '\0';
  close(pipefd[0]);
  if (n > 0) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    /* runc's words, which Berth and dockerd's clients read (exit codes 126/127 come from them) */
    fail("exec failed: unable to start container process: %s", msg[0] == 'E' ? msg + 1 : msg);
  }
  if (o.pid_file) write_pid_file_at(pid_dir, pid_name, pid);
  if (o.detach) return 0;
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail_errno("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
