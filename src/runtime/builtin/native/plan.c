/* Plan and state file reading and writing; see plan.h. */
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *read_whole(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return NULL;
  }
  size_t cap = (size_t)st.st_size + 1, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    close(fd);
    errno = ENOMEM;
    return NULL;
  }
  for (;;) {
    if (n + 1 >= cap) {
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) {
        free(buf);
        close(fd);
        errno = ENOMEM;
        return NULL;
      }
      buf = bigger;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(buf);
      close(fd);
      errno = e;
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Unescape one field in place (it ends at `end`); returns 0, or -1 on a bad escape. */
static int unescape(char *s, char *end) {
  char *w = s;
  for (char *r = s; r < end; r++) {
    if (*r != '\\') {
      *w++ = *r;
      continue;
    }
    if (++r >= end) return -1;
    switch (*r) {
      case '\\': *w++ = '\\'; break;
      case 't': *w++ = '\t'; break;
      case 'n': *w++ = '\n'; break;
      default: return -1;
    }
  }
  *w = '\0';
  return 0;
}

int plan_load(const char *path, const char *header, struct plan *out, const char **why) {
  memset(out, 0, sizeof(*out));
  size_t len;
  char *text = read_whole(path, &len);
  if (!text) return -1;
  if (memchr(text, '\0', len)) {
    if (why) *why = "file holds a NUL byte";
    goto invalid;
  }
  int lines = 0;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  out->text = text;
  out->records = calloc((size_t)lines + 1, sizeof(struct record));
  if (!out->records) {
    free(text);
    errno = ENOMEM;
    return -1;
  }
  char *p = text, *stop = text + len;
  while (p < stop) {
    char *eol = memchr(p, '\n', (size_t)(stop - p));
    if (!eol) eol = stop;
    if (eol == p) { /* blank line */
      p = eol + 1;
      continue;
    }
    int nf = 1;
    for (char *q = p; q < eol; q++) nf += *q == '\t';
    char **fields = calloc((size_t)nf, sizeof(char *));
    if (!fields) {
      plan_free(out);
      errno = ENOMEM;
      return -1;
    }
    int i = 0;
    char *start = p;
    for (char *q = p; q <= eol; q++) {
      if (q == eol || *q == '\t') {
        *q = '\0';
        if (unescape(start, q) < 0) {
          free(fields);
          if (why) *why = "bad escape";
          goto invalid;
        }
        fields[i++] = start;
        start = q + 1;
      }
    }
    struct record *rec = &out->records[out->nrecords++];
    rec->key = fields[0];
    rec->nfields = nf - 1;
    rec->fields = fields + 1;
    p = eol + 1;
  }
  if (out->nrecords == 0 || strcmp(out->records[0].key, header) != 0 || out->records[0].nfields < 1 ||
      strcmp(out->records[0].fields[0], "1") != 0) {
    if (why) *why = "missing or unsupported header";
    goto invalid;
  }
  return 0;
invalid:
  if (out->text) plan_free(out); /* owns text from here on */
  else free(text);
  errno = EINVAL;
  return -1;
}

void plan_free(struct plan *p) {
  for (int i = 0; i < p->nrecords; i++) free(p->records[i].fields - 1);
  free(p->records);
  free(p->text);
  memset(p, 0, sizeof(*p));
}

const struct record *plan_next(const struct plan *p, const char *key, int *cursor) {
  for (int i = *cursor; i < p->nrecords; i++) {
    if (strcmp(p->records[i].key, key) == 0) {
      *cursor = i + 1;
      return &p->records[i];
    }
  }
  *cursor = p->nrecords;
  return NULL;
}

const struct record *plan_find(const struct plan *p, const char *key) {
  int cursor = 0;
  return plan_next(p, key, &cursor);
}

void sb_append(struct strbuf *sb, const char *s, size_t n) {
  if (sb->len + n + 1 > sb->cap) {
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + n + 1) cap *= 2;
    char *data = realloc(sb->data, cap);
    if (!data) abort();
    sb->data = data;
    sb->cap = cap;
  }
  memcpy(sb->data + sb->len, s, n);
  sb->len += n;
  sb->data[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s) { sb_append(sb, s, strlen(s)); }

void sb_printf(struct strbuf *sb, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof(small)) {
    sb_append(sb, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) abort();
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb_append(sb, big, (size_t)n);
  free(big);
}

void sb_json_string(struct strbuf *sb, const char *s) {
  sb_puts(sb, "\"");
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    switch (*c) {
      case '"': sb_puts(sb, "\\\""); break;
      case '\\': sb_puts(sb, "\\\\"); break;
      case '\n': sb_puts(sb, "\\n"); break;
      case '\r': sb_puts(sb, "\\r"); break;
      case '\t': sb_puts(sb, "\\t"); break;
      default:
        if (*c < 0x20) sb_printf(sb, "\\u%04x", *c);
        else sb_append(sb, (const char *)c, 1);
    }
  }
  sb_puts(sb, "\"");
}

void sb_free(struct strbuf *sb) {
  free(sb->data);
  memset(sb, 0, sizeof(*sb));
}

static void escape_field(struct strbuf *out, const char *s) {
  for (const char *c = s; *c; c++) {
    switch (*c) {
      case '\\': sb_puts(out, "\\\\"); break;
      case '\t': sb_puts(out, "\\t"); break;
      case '\n': sb_puts(out, "\\n"); break;
      default: sb_append(out, c, 1);
    }
  }
}

void record_write(struct strbuf *out, const char *key, int n, const char *const *fields) {
  escape_field(out, key);
  for (int i = 0; i < n; i++) {
    sb_puts(out, "\t");
    escape_field(out, fields[i]);
  }
  sb_puts(out, "\n");
}
