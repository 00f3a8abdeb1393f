/*
 * Reading Berth's plan and state files (docs/builtin-runtime.md, "Plan format"): one record per
 * line, TAB-separated fields, backslash escapes. The parser knows no record names; each verb
 * walks the records it needs.
 */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include <stddef.h>

struct record {
  const char *key;
  int nfields;         /* fields after the key */
  char **fields;
};

struct plan {
  char *text;          /* the file, unescaped in place */
  struct record *records;
  int nrecords;
};

/* Load and parse `path`; `header` is the expected first record ("berth-plan" or "berth-state")
 * and must carry version 1. Returns 0, or -1 with errno set (EINVAL for a malformed file, with
 * a description in `why` when it is not NULL). */
int plan_load(const char *path, const char *header, struct plan *out, const char **why);
void plan_free(struct plan *p);

/* The next record named `key` at or after *cursor (start with 0); NULL when there is none. */
const struct record *plan_next(const struct plan *p, const char *key, int *cursor);
/* The first record named `key`, or NULL. */
const struct record *plan_find(const struct plan *p, const char *key);

/* Write one record: the key and `n` fields, escaped, TAB-separated, ending in a newline. */
struct strbuf;
void record_write(struct strbuf *out, const char *key, int n, const char *const *fields);

/* A growable byte buffer. */
struct strbuf {
  char *data;
  size_t len, cap;
};
void sb_append(struct strbuf *sb, const char *s, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append `s` as a JSON string literal (with the quotes). */
void sb_json_string(struct strbuf *sb, const char *s);
void sb_free(struct strbuf *sb);

#endif
