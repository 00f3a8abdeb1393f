/*
 * The container's cgroups through cgroupfs: the directories and writes the plan compiler chose
 * (`cgroup`, `cgroup-write`), joining, freezing, `update`'s flags, and removal. Only `update`
 * knows v1 from v2 here, by the files a directory holds; everything else is the plan's.
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Write `value` to dir/file; returns 0 or -1 with errno. */
static int write_file(const char *dir, const char *file, const char *value) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  return write_text(path, value);
}

static bool has_file(const char *dir, const char *file) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  return access(path, F_OK) == 0;
}

void cgroups_prepare(const struct plan *plan) {
  int cursor = 0;
  const struct record *r;
  while ((r = plan_next(plan, "cgroup", &cursor)))
    if (mkdir_all(r->fields[0], 0755) < 0) fail_errno("creating cgroup %s", r->fields[0]);
  cursor = 0;
  while ((r = plan_next(plan, "cgroup-write", &cursor))) {
    if (r->nfields < 3) fail("cgroup-write needs a directory, a file and a value");
    if (write_file(r->fields[0], r->fields[1], r->fields[2]) < 0)
      fail_errno("writing \"%s\" to %s/%s", r->fields[2], r->fields[0], r->fields[1]);
  }
}

void cgroups_join(const struct plan *records, pid_t pid) {
  char text[32];
  snprintf(text, sizeof text, "%d", (int)pid);
  int cursor = 0;
  const struct record *r;
  while ((r = plan_next(records, "cgroup", &cursor)))
    if (write_file(r->fields[0], "cgroup.procs", text) < 0) fail_errno("joining cgroup %s", r->fields[0]);
}

int cgroups_pids(const struct plan *records, pid_t *pids, int max) {
  int cursor = 0, n = 0;
  const struct record *r;
  while ((r = plan_next(records, "cgroup", &cursor))) {
    char path[4200];
    snprintf(path, sizeof path, "%s/cgroup.procs", r->fields[0]);
    FILE *f = fopen(path, "re");
    if (!f) continue;
    int pid;
    while (n < max && fscanf(f, "%d", &pid) == 1) pids[n++] = pid;
    fclose(f);
    return n; /* every hierarchy holds every process: one is enough */
  }
  return n;
}

void cgroups_remove(const struct plan *records) {
  int cursor = 0;
  const struct record *r;
  while ((r = plan_next(records, "cgroup", &cursor))) {
    /* The kernel drains a cgroup shortly after its last task exits: EBUSY until then. */
    for (int tries = 0; rmdir(r->fields[0]) < 0; tries++) {
      if (errno == ENOENT) break;
      if (errno != EBUSY || tries >= 200) {
        warnx("removing cgroup %s: %s", r->fields[0], strerror(errno));
        break;
      }
      nap_ms(5);
    }
  }
}

void cgroups_freeze(const struct plan *records, bool freeze) {
  const struct record *r = plan_find(records, "freezer");
  if (!r || r->nfields < 1) fail("the container has no freezer cgroup");
  const char *file = r->fields[0];
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  bool v1 = strcmp(base, "freezer.state") == 0;
  char dir[4096];
  snprintf(dir, sizeof dir, "%.*s", (int)(base - file > 0 ? base - file - 1 : 0), file);
  if (write_file(dir, base, v1 ? (freeze ? "FROZEN" : "THAWED") : (freeze ? "1" : "0")) < 0)
    fail_errno("writing %s", file);
  if (!freeze) return;
  /* Freezing takes effect asynchronously: wait until the kernel says it is done. */
  for (int tries = 0; tries < 1000; tries++) {
    char buf[256], path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, v1 ? "freezer.state" : "cgroup.events");
    ssize_t n = read_text(path, buf, sizeof buf);
    if (n < 0) fail_errno("reading %s", path);
    if (n > 0 && (v1 ? strncmp(buf, "FROZEN", 6) == 0 : strstr(buf, "frozen 1") != NULL)) return;
    if (v1 && tries % 50 == 49) write_file(dir, base, "FROZEN"); /* v1 may need a nudge */
    nap_ms(2);
  }
  fail("the container's cgroup did not freeze within 2 seconds");
}

/* Read an integer from dir/file, or `fallback`. */
static long long read_number(const char *dir, const char *file, long long fallback) {
  char path[4200], buf[64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  if (read_text(path, buf, sizeof buf) <= 0 || !strncmp(buf, "max", 3)) return fallback;
  return strtoll(buf, NULL, 10);
}

static void must_write(const char *dir, const char *file, const char *value) {
  if (write_file(dir, file, value) < 0) fail_errno("writing \"%s\" to %s/%s", value, dir, file);
}

static void v1_memory(const char *dir, const struct resources *res) {
  char mem[32], swap[32];
  snprintf(mem, sizeof mem, "%lld", res->memory);
  snprintf(swap, sizeof swap, "%lld", res->memory_swap);
  bool has_swap = res->memory_swap != 0 && has_file(dir, "memory.memsw.limit_in_bytes");
  /* memory may never exceed memory+swap: raise memsw first when the new memory is above it. */
  long long cur_swap = read_number(dir, "memory.memsw.limit_in_bytes", -1);
  bool swap_first = has_swap && (res->memory_swap == -1 || (cur_swap != -1 && res->memory > cur_swap));
  if (swap_first) must_write(dir, "memory.memsw.limit_in_bytes", swap);
  if (res->memory) must_write(dir, "memory.limit_in_bytes", mem);
  if (has_swap && !swap_first) must_write(dir, "memory.memsw.limit_in_bytes", swap);
}

static void v2_memory(const char *dir, const struct resources *res) {
  char v[32];
  if (res->memory) {
    if (res->memory == -1) snprintf(v, sizeof v, "max");
    else snprintf(v, sizeof v, "%lld", res->memory);
    must_write(dir, "memory.max", v);
  }
  if (res->memory_swap && has_file(dir, "memory.swap.max")) {
    long long mem = res->memory ? res->memory : read_number(dir, "memory.max", -1);
    if (res->memory_swap == -1 || mem == -1) snprintf(v, sizeof v, "max");
    else snprintf(v, sizeof v, "%lld", res->memory_swap - mem);
    must_write(dir, "memory.swap.max", v);
  }
}

void cgroups_update(const struct plan *records, const struct resources *res) {
  int cursor = 0;
  const struct record *r;
  char v[64];
  while ((r = plan_next(records, "cgroup", &cursor))) {
    const char *dir = r->fields[0];
    if (has_file(dir, "memory.limit_in_bytes")) v1_memory(dir, res);
    else if (has_file(dir, "memory.max")) v2_memory(dir, res);
    if (res->cpu_shares) {
      if (has_file(dir, "cpu.shares")) {
        snprintf(v, sizeof v, "%llu", res->cpu_shares);
        must_write(dir, "cpu.shares", v);
      } else if (has_file(dir, "cpu.weight")) {
        unsigned long long s = res->cpu_shares < 2 ? 2 : res->cpu_shares > 262144 ? 262144 : res->cpu_shares;
        snprintf(v, sizeof v, "%llu", 1 + ((s - 2) * 9999) / 262142);
        must_write(dir, "cpu.weight", v);
      }
    }
    if (res->cpu_quota || res->cpu_period) {
      if (has_file(dir, "cpu.cfs_quota_us")) {
        if (res->cpu_period) {
          snprintf(v, sizeof v, "%llu", res->cpu_period);
          must_write(dir, "cpu.cfs_period_us", v);
        }
        if (res->cpu_quota) {
          snprintf(v, sizeof v, "%lld", res->cpu_quota > 0 ? res->cpu_quota : -1);
          must_write(dir, "cpu.cfs_quota_us", v);
        }
      } else if (has_file(dir, "cpu.max")) {
        char cur[64], path[4200];
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        if (read_text(path, cur, sizeof cur) <= 0) snprintf(cur, sizeof cur, "max 100000");
        char quota[32] = "max";
        unsigned long long period = 100000;
        sscanf(cur, "%31s %llu", quota, &period);
        if (res->cpu_period) period = res->cpu_period;
        if (res->cpu_quota > 0) snprintf(quota, sizeof quota, "%lld", res->cpu_quota);
        else if (res->cpu_quota < 0) snprintf(quota, sizeof quota, "max");
        snprintf(v, sizeof v, "%s %llu", quota, period);
        must_write(dir, "cpu.max", v);
      }
    }
    if (res->cpuset_cpus && has_file(dir, "cpuset.cpus")) must_write(dir, "cpuset.cpus", res->cpuset_cpus);
    if (res->pids_limit && has_file(dir, "pids.max")) {
      if (res->pids_limit > 0) snprintf(v, sizeof v, "%lld", res->pids_limit);
      else snprintf(v, sizeof v, "max");
      must_write(dir, "pids.max", v);
    }
  }
}
