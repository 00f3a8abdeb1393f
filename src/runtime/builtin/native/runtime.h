/*
 * The executor of Berth's built-in OCI runtime: the pieces its verbs share. See
 * docs/builtin-runtime.md for the split between the TypeScript plan compiler and this program.
 *
 * Who owns what:
 * - main.c: global flags, verb dispatch, logging (fail/warnx), --version; files.c: short files,
 *   pid files, mkdir -p, a nap.
 * - state.c: the container's state file and status; cgroup.c: joining, freezing, updating,
 *   removing cgroups; hooks.c: running OCI hooks; verbs.c: start, state, kill, delete, pause,
 *   resume, update.
 * - create.c: the create verb (namespaces, mounts, pivot_root, devices, the exec fifo);
 *   process.c: setting a process up and exec'ing it (shared by create and exec); exec.c: exec.
 */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"

/* Global flags, runc's names. */
struct globals {
  const char *root;        /* --root: state directory of this runtime instance */
  const char *log_path;    /* --log: where errors also go */
  bool log_json;           /* --log-format json */
  bool debug;
};
extern struct globals g;

/* Report an error the way callers read it (one line on stderr, and a logrus-style line in --log),
 * then exit 1. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Same, appending ": <strerror(errno)>". */
void fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A warning (stderr and --log), execution goes on. */
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- files.c ---- */
void nap_ms(long ms);
/* mkdir -p; 0 or -1 with errno (an existing directory is fine). */
int mkdir_all(const char *path, mode_t mode);
/* Write all of `text` to an existing file (cgroup and /proc files); 0 or -1 with errno. */
int write_text(const char *path, const char *text);
/* Read up to len-1 bytes of a short file into buf, NUL-terminated; the count, or -1 with errno. */
ssize_t read_text(const char *path, char *buf, size_t len);
/* The directory of `path`, opened O_PATH (exec opens it before its mount namespace changes), and
 * the file's name in it. */
int open_parent(const char *path, const char **name);
/* Write a pid file atomically (temporary name, then rename) in the directory `dirfd`. */
void write_pid_file_at(int dirfd, const char *name, pid_t pid);

/* ---- state.c ---- */
enum status { ST_CREATING, ST_CREATED, ST_RUNNING, ST_PAUSED, ST_STOPPED };
const char *status_name(enum status s);

struct state {
  char *id;
  pid_t pid;
  unsigned long long starttime;  /* /proc/<pid>/stat field 22, guards against pid reuse */
  char *bundle;
  char *rootfs;
  char *created;                 /* RFC 3339 */
  struct plan records;           /* the state file itself: namespace, cgroup, freezer, seccomp, annotation records */
};

/* "<root>/<id>" into buf. */
void state_dir(const char *id, char *buf, size_t len);
/* Load the state of `id`; fails with "container does not exist" when there is none. */
void state_load(const char *id, struct state *st);
void state_free(struct state *st);
/* Write "<root>/<id>/state" atomically: the header, id, pid, starttime, bundle, rootfs, created,
 * then `extra` (already formatted records: namespace, cgroup, freezer, seccomp, annotation). */
void state_save(const char *id, pid_t pid, unsigned long long starttime, const char *bundle,
                const char *rootfs, const char *created, const char *extra);
/* The start time of a live (not zombie) process, or 0 when it is gone. */
unsigned long long process_starttime(pid_t pid);
enum status state_status(const struct state *st);
/* The OCI state JSON (for `state` and for hooks' stdin). */
void state_json(const struct state *st, enum status s, struct strbuf *out);

/* ---- cgroup.c ---- */
/* mkdir -p each `cgroup` record's directory, apply `cgroup-write` records (from a plan). */
void cgroups_prepare(const struct plan *plan);
/* Write `pid` into every `cgroup` record's cgroup.procs (records from a plan or a state). */
void cgroups_join(const struct plan *records, pid_t pid);
/* The pids in the container's cgroup (the first `cgroup` record that can be read); returns how many. */
int cgroups_pids(const struct plan *records, pid_t *pids, int max);
/* rmdir every `cgroup` record's directory, waiting briefly while the kernel drains it. */
void cgroups_remove(const struct plan *records);
/* Freeze (and wait until frozen) or thaw through the `freezer` record's file. */
void cgroups_freeze(const struct plan *records, bool freeze);
/* `update`'s flags; 0 = leave as is, -1 = unlimited (memory, swap, quota, pids). */
struct resources {
  long long memory, memory_swap, cpu_quota, pids_limit;
  unsigned long long cpu_shares, cpu_period;
  const char *cpuset_cpus;
};
void cgroups_update(const struct plan *records, const struct resources *res);

/* ---- hooks.c ---- */
/* Run the plan's hooks of `phase` with the state JSON on stdin; fails on the first error. */
void hooks_run(const struct plan *plan, const char *phase, const char *state_json);
/* Does the plan have hooks of `phase`? (Most plans have none: no sync round trips for them.) */
bool hooks_present(const struct plan *plan, const char *phase);
/* Same as hooks_run, but a failing hook is only a warning (poststart, poststop: the container exists). */
void hooks_run_lenient(const struct plan *plan, const char *phase, const char *state_json);

/* ---- process.c ---- */
/* Apply the process records of `plan` to the calling process and exec it; never returns.
 * `seccomp` is the state or plan holding the `seccomp` record (may be NULL). Called after
 * the namespaces, mounts and cgroups are in place. */
void process_exec(const struct plan *plan, const struct plan *seccomp) __attribute__((noreturn));
/* Resolve arg 0 the way execvp would with the plan's PATH; NULL with errno set when not found. */
char *process_lookup(const struct plan *plan);
/* runc's words for a failed process_lookup (`exec: "x": executable file not found in $PATH`,
 * `exec: "x": permission denied`, ...) into buf. */
void process_lookup_error(const struct plan *plan, int err, char *buf, size_t len);
/* Called before the process enters the container (its children inherit the result): read the
 * seccomp program of `seccomp`'s record while host paths are reachable, and apply `plan`'s
 * oom-score-adj while /proc/self is still writable. */
void process_prepare(const struct plan *plan, const struct plan *seccomp);

/* ---- compile.c ---- */
/* Load `plan_path` (header "berth-plan"), first running the plan compiler CLI
 * (`compile-cli.js <mode> <arg>`) when the plan is missing or older than `json_path`. */
void plan_load_compiled(const char *json_path, const char *plan_path, const char *mode,
                        const char *arg, struct plan *out);

/* ---- verbs ---- */
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_update(int argc, char **argv);

#endif
