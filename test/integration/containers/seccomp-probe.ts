import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A static C program that makes raw syscalls (each in a child process, so an allowed one changes
 * nothing) and prints `name=ok` or `name=<errno name>` per line. Its arguments are chosen so
 * that a call the filter lets through fails harmlessly or does nothing lasting: mount targets a
 * missing directory, sethostname gets a too-long name, kexec_load invalid flags. It refuses to
 * run unless it is PID 1, i.e. a container's first process, never on the host.
 */
const SOURCE = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/keyctl.h>

static void probe(const char *name, long nr, long a, long b, long c, long d, long e) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    long r = syscall(nr, a, b, c, d, e, 0);
    if (r == 0 && nr == SYS_ptrace) { /* let our parent go again */
      waitpid(1, NULL, __WALL);
      ptrace(PTRACE_DETACH, 1, 0, 0);
    }
    _exit(r < 0 ? errno : 0);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
  const char *s = code == 0 ? "ok" : code == 255 ? "killed" : strerrorname_np(code);
  printf("%s=%s\n", name, s ? s : "?");
}

int main(void) {
  if (getpid() != 1) {
    fprintf(stderr, "probe: run me as a container's first process\n");
    return 2;
  }
  static char buf[512];
  probe("getpid", SYS_getpid, 0, 0, 0, 0, 0);
  probe("uname", SYS_uname, (long)buf, 0, 0, 0, 0);
  probe("unshare", SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS, 0, 0, 0, 0);
  probe("mount", SYS_mount, (long)"none", (long)"/no-such-dir", (long)"tmpfs", 0, 0);
  probe("keyctl", SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
  probe("add_key", SYS_add_key, (long)"user", (long)"probe", (long)"x", 1, KEY_SPEC_PROCESS_KEYRING);
  probe("ptrace", SYS_ptrace, PTRACE_ATTACH, 1, 0, 0, 0);
  probe("kexec_load", SYS_kexec_load, 0, 0, 0, 0xdead0000, 0);
  probe("open_by_handle_at", SYS_open_by_handle_at, -1, 0, 0, 0, 0);
  probe("bpf", SYS_bpf, 0, 0, 0, 0, 0);
  probe("clone3", SYS_clone3, 0, 0, 0, 0, 0);
  probe("clone_newns", SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
  probe("personality_query", SYS_personality, 0xffffffff, 0, 0, 0, 0);
  probe("personality_odd", SYS_personality, 0x0040000, 0, 0, 0, 0);
  probe("syslog", SYS_syslog, 10, 0, 0, 0, 0);
  probe("sethostname", SYS_sethostname, (long)buf, 1000, 0, 0, 0);
  probe("socket_vsock", SYS_socket, 40, 1, 0, 0, 0);
  probe("io_uring_setup", SYS_io_uring_setup, 1, 0, 0, 0, 0);
  probe("userfaultfd", SYS_userfaultfd, 0, 0, 0, 0, 0);
  return 0;
}
`;

/** Compiles the probe into `dir` (gcc -static); returns its path. */
export function buildSeccompProbe(dir: string): string {
  const src = join(dir, 'probe.c');
  const bin = join(dir, 'probe');
  writeFileSync(src, SOURCE);
  const r = spawnSync('gcc', ['-static', '-O1', '-o', bin, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc -static failed (Debian: apt-get install gcc libc6-dev): ${r.error?.message ?? r.stderr}`);
  return bin;
}

/** The probe's output as name → answer. */
export function probeAnswers(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
}
