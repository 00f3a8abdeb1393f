/*
 * berth-netns-connect: one TCP connection to a port of a pod, from inside the pod's network
 * namespace, relayed over stdin and stdout (src/host/netns-connect.ts runs it for the CRI's
 * PortForward; Node cannot enter a network namespace itself).
 *
 *   berth-netns-connect NETNS_PATH PORT
 *
 * Enters the network namespace at NETNS_PATH (e.g. /proc/<pid>/ns/net), connects to
 * 127.0.0.1:PORT (then [::1]:PORT, as "localhost" resolves both ways), and copies stdin to the
 * connection and the connection to stdout. EOF on stdin half-closes the connection (the client
 * may still read the answer); the end of the connection ends the program.
 *
 * Exit status: 0 relayed until the connection ended; 1 usage or namespace failure; 2 nothing
 * listens there (connect failed). A message goes to stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int dial(int family, int port) {
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) return -1;
	int r;
	if (family == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		r = connect(s, (struct sockaddr *)&a, sizeof a);
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		r = connect(s, (struct sockaddr *)&a, sizeof a);
	}
	if (r < 0) {
		int saved = errno;
		close(s);
		errno = saved;
		return -1;
	}
	int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return s;
}

/* strerror as Go spells errno texts ("connection refused"), which is what clients match. */
static const char *errtext(int err, char *buf, size_t len) {
	snprintf(buf, len, "%s", strerror(err));
	if (buf[0] >= 'A' && buf[0] <= 'Z') buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* Writes all of buf; 0 on success, -1 when the other side is gone. */
static int write_all(int fd, const char *buf, size_t len) {
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: berth-netns-connect NETNS_PATH PORT\n");
		return 1;
	}
	char *end;
	long port = strtol(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "invalid port %s\n", argv[2]);
		return 1;
	}
	int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		fprintf(stderr, "opening network namespace %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (setns(ns, CLONE_NEWNET) < 0) {
		fprintf(stderr, "entering network namespace %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(ns);

	int s = dial(AF_INET, (int)port);
	if (s < 0) {
		int err4 = errno;
		s = dial(AF_INET6, (int)port);
		if (s < 0) {
			int err6 = errno;
			char t4[128], t6[128];
			fprintf(stderr, "failed to connect to localhost:%ld inside the pod's network namespace, IPv4: dial tcp4 127.0.0.1:%ld: connect: %s, IPv6: dial tcp6 [::1]:%ld: connect: %s\n",
				port, port, errtext(err4, t4, sizeof t4), port, errtext(err6, t6, sizeof t6));
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);

	static char buf[64 * 1024];
	int in_open = 1;
	for (;;) {
		struct pollfd fds[2] = { { .fd = in_open ? 0 : -1, .events = POLLIN }, { .fd = s, .events = POLLIN } };
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR) continue;
			return 0;
		}
		if (fds[0].revents) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n < 0 && errno == EINTR) continue;
			if (n > 0) {
				if (write_all(s, buf, (size_t)n) < 0) return 0;
			} else {
				/* The client is done sending: half-close, keep reading the answer. */
				shutdown(s, SHUT_WR);
				in_open = 0;
			}
		}
		if (fds[1].revents) {
			ssize_t n = read(s, buf, sizeof buf);
			if (n < 0 && errno == EINTR) continue;
			if (n <= 0) return 0;
			if (write_all(1, buf, (size_t)n) < 0) return 0;
		}
	}
}
