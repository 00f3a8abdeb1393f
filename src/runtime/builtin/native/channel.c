/* The channel between the runtime's process and the container process it makes; see setup.h. */
#define _GNU_SOURCE
#include "setup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int channel_fd = -1;

void channel_send(int fd, char type, const char *data, size_t len) {
  char *msg = malloc(len + 1);
  if (!msg) fail("out of memory");
  msg[0] = type;
  if (len) memcpy(msg + 1, data, len);
  ssize_t n;
  do n = send(fd, msg, len + 1, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  free(msg);
  if (n < 0) fail_errno("send to the container process");
}

int channel_recv(int fd, char *type, char **payload) {
  ssize_t size;
  do size = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
  while (size < 0 && errno == EINTR);
  if (size < 0) fail_errno("receive from the container process");
  if (size == 0) return 0;
  char *buf = malloc((size_t)size + 1);
  if (!buf) fail("out of memory");
  ssize_t n;
  do n = recv(fd, buf, (size_t)size, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) fail_errno("receive from the container process");
  *type = buf[0];
  memmove(buf, buf + 1, (size_t)n - 1);
  buf[n - 1] = '\0';
  *payload = buf;
  return 1;
}

static void __attribute__((noreturn)) child_vfail(int err, const char *fmt, va_list ap) {
  char msg[4096];
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  if (err) n += snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(err));
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  if (channel_fd >= 0) {
    char out[4097];
    out[0] = 'E';
    memcpy(out + 1, msg, (size_t)n);
    /* write(): one SEQPACKET message, or a pipe's bytes (exec's child) */
    (void)!write(channel_fd, out, (size_t)n + 1);
  } else {
    fprintf(stderr, "%s\n", msg);
  }
  _exit(1);
}

void child_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  child_vfail(0, fmt, ap);
}

void child_fail_errno(const char *fmt, ...) {
  int err = errno;
  va_list ap;
  va_start(ap, fmt);
  child_vfail(err, fmt, ap);
}
