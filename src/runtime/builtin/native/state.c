/*
 * A container's state as the executor keeps it: <root>/<id>/state (plan record format, header
 * `berth-state 1`) plus <root>/<id>/exec.fifo until start. The status is never stored: it is
 * read from the world (is the init alive and the same process, is the fifo there, is the
 * cgroup frozen), so a container that died while nobody watched reads as stopped.
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *status_name(enum status s) {
  static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};
  return names[s];
}

static void check_id(const char *id) {
  if (!id || !id[0] || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
    fail("invalid container id \"%s\"", id ? id : "");
}

void state_dir(const char *id, char *buf, size_t len) {
  check_id(id);
  if ((size_t)snprintf(buf, len, "%s/%s", g.root, id) >= len) fail("state path too long for %s", id);
}

static const char *field(const struct plan *p, const char *key) {
  const struct record *r = plan_find(p, key);
  return r && r->nfields > 0 ? r->fields[0] : "";
}

void state_load(const char *id, struct state *st) {
  char path[4096];
  state_dir(id, path, sizeof path - 8);
  strcat(path, "/state");
  memset(st, 0, sizeof *st);
  const char *why = NULL;
  if (plan_load(path, "berth-state", &st->records, &why) < 0) {
    if (errno == ENOENT || errno == ENOTDIR) fail("container does not exist");
    if (why) fail("%s: %s", path, why);
    fail_errno("reading %s", path);
  }
  st->id = (char *)field(&st->records, "id");
  st->pid = (pid_t)atoi(field(&st->records, "pid"));
  st->starttime = strtoull(field(&st->records, "starttime"), NULL, 10);
  st->bundle = (char *)field(&st->records, "bundle");
  st->rootfs = (char *)field(&st->records, "rootfs");
  st->created = (char *)field(&st->records, "created");
}

void state_free(struct state *st) { plan_free(&st->records); }

void state_save(const char *id, pid_t pid, unsigned long long starttime, const char *bundle, const char *rootfs,
                const char *created, const char *extra) {
  char dir[4096], path[4200], tmp[4200];
  state_dir(id, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/state", dir);
  snprintf(tmp, sizeof tmp, "%s/state.tmp", dir);
  struct strbuf sb = {0};
  char pidtext[32], start[32];
  snprintf(pidtext, sizeof pidtext, "%d", (int)pid);
  snprintf(start, sizeof start, "%llu", starttime);
  const char *one[] = {"1"};
  record_write(&sb, "berth-state", 1, one);
  const char *pairs[][2] = {{"id", id}, {"pid", pidtext}, {"starttime", start},
                            {"bundle", bundle}, {"rootfs", rootfs}, {"created", created}};
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) record_write(&sb, pairs[i][0], 1, &pairs[i][1]);
  sb_puts(&sb, extra);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail_errno("writing %s", tmp);
  if (write(fd, sb.data, sb.len) != (ssize_t)sb.len) fail_errno("writing %s", tmp);
  close(fd);
  if (rename(tmp, path) < 0) fail_errno("renaming %s", tmp);
  sb_free(&sb);
}

unsigned long long process_starttime(pid_t pid) {
  if (pid <= 0) return 0;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (read_text(path, buf, sizeof buf) <= 0) return 0;
  /* "<pid> (<comm>) <state> ..." — comm may hold spaces and parentheses. */
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return 0;
  p += 2;
  if (*p == 'Z' || *p == 'X') return 0;
  /* after the comm: field 3 (state) is token 0, field 22 (starttime) is token 19 */
  for (int tok = 0; tok < 19; tok++) {
    p = strchr(p, ' ');
    if (!p) return 0;
    p++;
  }
  return strtoull(p, NULL, 10);
}

static bool frozen(const struct plan *records) {
  const struct record *r = plan_find(records, "freezer");
  if (!r || r->nfields < 1) return false;
  char buf[32];
  if (read_text(r->fields[0], buf, sizeof buf) <= 0) return false;
  return strncmp(buf, "FROZEN", 6) == 0 || strncmp(buf, "FREEZING", 8) == 0 || buf[0] == '1';
}

enum status state_status(const struct state *st) {
  unsigned long long now = process_starttime(st->pid);
  if (now == 0 || (st->starttime && now != st->starttime)) return ST_STOPPED;
  char fifo[4200];
  snprintf(fifo, sizeof fifo, "%s/%s/exec.fifo", g.root, st->id);
  if (access(fifo, F_OK) == 0) return ST_CREATED;
  return frozen(&st->records) ? ST_PAUSED : ST_RUNNING;
}

void state_json(const struct state *st, enum status s, struct strbuf *out) {
  sb_puts(out, "{\"ociVersion\":\"1.0.2\",\"id\":");
  sb_json_string(out, st->id ? st->id : "");
  sb_printf(out, ",\"pid\":%d,\"status\":\"%s\",\"bundle\":", s == ST_STOPPED ? 0 : (int)st->pid, status_name(s));
  sb_json_string(out, st->bundle ? st->bundle : "");
  sb_puts(out, ",\"rootfs\":");
  sb_json_string(out, st->rootfs ? st->rootfs : "");
  sb_puts(out, ",\"created\":");
  sb_json_string(out, st->created ? st->created : "");
  sb_puts(out, ",\"owner\":\"\"");
  int cursor = 0, n = 0;
  const struct record *r;
  while ((r = plan_next(&st->records, "annotation", &cursor))) {
    if (r->nfields < 2) continue;
    sb_puts(out, n++ ? "," : ",\"annotations\":{");
    sb_json_string(out, r->fields[0]);
    sb_puts(out, ":");
    sb_json_string(out, r->fields[1]);
  }
  if (n) sb_puts(out, "}");
  sb_puts(out, "}");
}
