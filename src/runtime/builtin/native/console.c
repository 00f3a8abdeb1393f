/*
 * The container's terminal: a pty made in the container's own devpts (its /dev/ptmx), whose
 * master goes to the caller's --console-socket with SCM_RIGHTS (conmon holds it) and whose slave
 * becomes the process's stdio and controlling terminal.
 */
#define _GNU_SOURCE
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int console_connect(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) child_fail("console socket path too long: %s", path);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) child_fail_errno("socket");
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    child_fail_errno("connect to the console socket %s", path);
  return fd;
}

static void send_fd(int sock, int fd, const char *name) {
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) child_fail_errno("send the console to the console socket");
}

/* The init's /dev/console is its pty slave, bound over a node made in the container's /dev
 * (never followed: a symlink there is an error, not a way out). */
static void bind_dev_console(int slave) {
  int fd = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    int made = open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (made < 0) child_fail_errno("create /dev/console");
    close(made);
    fd = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) child_fail_errno("open /dev/console");
  char src[64], dst[64];
  snprintf(src, sizeof src, "/proc/self/fd/%d", slave);
  snprintf(dst, sizeof dst, "/proc/self/fd/%d", fd);
  if (mount(src, dst, NULL, MS_BIND, NULL) < 0) child_fail_errno("bind the pty over /dev/console");
  close(fd);
}

void console_setup(int sock, const struct plan *plan, bool dev_console) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) child_fail_errno("open /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) child_fail_errno("unlock the pty");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) child_fail_errno("open the pty's slave");
  unsigned int n = 0;
  char name[32] = "/dev/ptmx";
  if (ioctl(master, TIOCGPTN, &n) == 0) snprintf(name, sizeof name, "/dev/pts/%u", n);
  const struct record *size = plan_find(plan, "console-size");
  if (size && size->nfields >= 2) {
    struct winsize ws = {.ws_row = (unsigned short)strtoul(size->fields[0], NULL, 10),
                         .ws_col = (unsigned short)strtoul(size->fields[1], NULL, 10)};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) child_fail_errno("set the console size");
  }
  if (dev_console) bind_dev_console(slave);
  send_fd(sock, master, name);
  close(master);
  close(sock);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) child_fail_errno("make the pty the controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0) child_fail_errno("dup2 the pty");
  if (slave > 2) close(slave);
}
