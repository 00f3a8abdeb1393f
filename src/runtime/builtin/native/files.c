/* Small helpers every verb uses: short files in and out, pid files, mkdir -p, a nap. */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int mkdir_all(const char *path, mode_t mode) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return errno = ENAMETOOLONG, -1;
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(buf, mode) < 0 && errno != EEXIST ? -1 : 0;
}

int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = strlen(text);
  ssize_t w = write(fd, text, n);
  int err = errno;
  close(fd);
  if (w == (ssize_t)n) return 0;
  errno = w < 0 ? err : EIO;
  return -1;
}

ssize_t read_text(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  int err = errno;
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  errno = err;
  return n;
}

void write_pid_file_at(int dirfd, const char *name, pid_t pid) {
  char tmp[PATH_MAX + 8], text[32];
  snprintf(tmp, sizeof tmp, "%s.tmp", name);
  snprintf(text, sizeof text, "%d", (int)pid);
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  size_t n = strlen(text);
  if (fd < 0 || write(fd, text, n) != (ssize_t)n) fail_errno("write pid file %s", tmp);
  close(fd);
  if (renameat(dirfd, tmp, dirfd, name) < 0) fail_errno("rename %s", tmp);
}

int open_parent(const char *path, const char **name) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  *name = slash ? path + (slash - dir) + 1 : path;
  if (!slash) strcpy(dir, ".");
  else if (slash == dir) dir[1] = '\0';
  else *slash = '\0';
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_errno("open the pid file's directory %s", dir);
  return fd;
}
