/*
 * A SOCK_SEQPACKET unix-socket client for Node, as an N-API addon: conmon's attach socket is
 * SOCK_SEQPACKET, which node's `net` cannot open. Built by scripts/build-native.js with gcc
 * against the N-API headers from the `node-api-headers` package, so nothing depends on the
 * machine's Node headers or on prebuilt binaries.
 *
 * Only N-API is used (no libuv): each socket has two threads that block in the kernel, one
 * connecting and then receiving, one sending what JS queued. They report to JS through one
 * thread-safe function each, as events (kind, payload):
 *   "connect" ()          connected; writes may start
 *   "data"    (Buffer)    one message, exactly as the peer sent it
 *   "written" (id, err)   a queued message was sent (err: a message, or undefined)
 *   "end"     ()          the peer shut its side down
 *   "error"   (message)   connect or receive failed
 * The socket is closed (fd released) only after both threads have ended, so a descriptor
 * number is never reused under a thread that still holds it.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* conmon's messages are at most 8 KiB + 1 tag byte; leave room for any peer. */
#define RECV_BUFFER (64 * 1024)

enum event_kind { EV_CONNECT, EV_DATA, EV_WRITTEN, EV_END, EV_ERROR };

struct event {
  enum event_kind kind;
  char *data; /* EV_DATA: the message; EV_ERROR / EV_WRITTEN: an error text or NULL */
  size_t len;
  double id;
};

struct message {
  struct message *next;
  double id;
  size_t len;
  char data[];
};

struct socket_state {
  int fd;
  struct sockaddr_un addr;
  /* One per thread: a full queue wakes only one waiting producer, so two sharing one could
   * leave the other waiting forever. */
  napi_threadsafe_function rx_tsfn, tx_tsfn;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  struct message *head, *tail; /* queued writes */
  bool connected, closing, shut_wr_requested;
  atomic_int refs; /* receiver thread + sender thread + the JS handle */
};

/* What JS holds: the state until close() hands it back. */
struct handle {
  struct socket_state *s;
};

static void state_unref(struct socket_state *s) {
  if (atomic_fetch_sub(&s->refs, 1) != 1) return;
  close(s->fd);
  for (struct message *m = s->head; m;) {
    struct message *next = m->next;
    free(m);
    m = next;
  }
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->wake);
  free(s);
}

static void post(napi_threadsafe_function tsfn, enum event_kind kind, char *data, size_t len, double id) {
  struct event *ev = malloc(sizeof *ev);
  if (!ev) { free(data); return; }
  ev->kind = kind;
  ev->data = data;
  ev->len = len;
  ev->id = id;
  if (napi_call_threadsafe_function(tsfn, ev, napi_tsfn_blocking) != napi_ok) {
    free(ev->data);
    free(ev);
  }
}

static char *error_text(const char *what, int err) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s: %s", what, strerror(err));
  return strdup(buf);
}

/* Wakes both threads out of the kernel; the fd itself stays open until both have ended. */
static void shut_everything(struct socket_state *s) {
  s->closing = true;
  if (s->connected) shutdown(s->fd, SHUT_RDWR);
  pthread_cond_broadcast(&s->wake);
}

static void *receiver(void *arg) {
  struct socket_state *s = arg;
  int rc;
  do rc = connect(s->fd, (struct sockaddr *)&s->addr, sizeof s->addr);
  while (rc < 0 && errno == EINTR);
  int connect_errno = errno;

  pthread_mutex_lock(&s->lock);
  bool closing = s->closing;
  if (rc == 0) s->connected = true;
  if (rc == 0 && closing) shutdown(s->fd, SHUT_RDWR);
  if (rc < 0) shut_everything(s);
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->lock);

  if (rc < 0) {
    post(s->rx_tsfn, EV_ERROR, error_text("connect", connect_errno), 0, 0);
  } else if (!closing) {
    post(s->rx_tsfn, EV_CONNECT, NULL, 0, 0);
    char *buf = malloc(RECV_BUFFER);
    for (;;) {
      if (!buf) { post(s->rx_tsfn, EV_ERROR, strdup("out of memory"), 0, 0); break; }
      ssize_t n = recv(s->fd, buf, RECV_BUFFER, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) { post(s->rx_tsfn, EV_ERROR, error_text("recv", errno), 0, 0); break; }
      if (n == 0) { post(s->rx_tsfn, EV_END, NULL, 0, 0); break; }
      char *copy = malloc((size_t)n);
      if (!copy) { post(s->rx_tsfn, EV_ERROR, strdup("out of memory"), 0, 0); break; }
      memcpy(copy, buf, (size_t)n);
      post(s->rx_tsfn, EV_DATA, copy, (size_t)n, 0);
    }
    free(buf);
  }
  napi_release_threadsafe_function(s->rx_tsfn, napi_tsfn_release);
  state_unref(s);
  return NULL;
}

static void *sender(void *arg) {
  struct socket_state *s = arg;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    while (!s->closing && !(s->connected && (s->head || s->shut_wr_requested)))
      pthread_cond_wait(&s->wake, &s->lock);
    if (s->closing) break;
    struct message *m = s->head;
    if (!m) { /* end() was asked for and everything before it is sent */
      shutdown(s->fd, SHUT_WR);
      s->shut_wr_requested = false;
      continue;
    }
    s->head = m->next;
    if (!s->head) s->tail = NULL;
    pthread_mutex_unlock(&s->lock);
    ssize_t n;
    do n = send(s->fd, m->data, m->len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    post(s->tx_tsfn, EV_WRITTEN, n < 0 ? error_text("send", errno) : NULL, 0, m->id);
    free(m);
    pthread_mutex_lock(&s->lock);
  }
  /* Writes still queued at close are reported as not sent. */
  struct message *rest = s->head;
  s->head = s->tail = NULL;
  pthread_mutex_unlock(&s->lock);
  while (rest) {
    struct message *next = rest->next;
    post(s->tx_tsfn, EV_WRITTEN, strdup("socket closed"), 0, rest->id);
    free(rest);
    rest = next;
  }
  napi_release_threadsafe_function(s->tx_tsfn, napi_tsfn_release);
  state_unref(s);
  return NULL;
}

/* Runs on the JS thread: turns an event into a call of the JS callback. */
static void call_js(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  struct event *ev = data;
  if (env && callback) {
    static const char *const names[] = { "connect", "data", "written", "end", "error" };
    napi_value argv[3], undef;
    napi_get_undefined(env, &undef);
    napi_create_string_utf8(env, names[ev->kind], NAPI_AUTO_LENGTH, &argv[0]);
    argv[1] = undef;
    argv[2] = undef;
    if (ev->kind == EV_DATA) {
      void *copy;
      napi_create_buffer_copy(env, ev->len, ev->data, &copy, &argv[1]);
    } else if (ev->kind == EV_WRITTEN) {
      napi_create_double(env, ev->id, &argv[1]);
      if (ev->data) napi_create_string_utf8(env, ev->data, NAPI_AUTO_LENGTH, &argv[2]);
    } else if (ev->kind == EV_ERROR && ev->data) {
      napi_create_string_utf8(env, ev->data, NAPI_AUTO_LENGTH, &argv[1]);
    }
    napi_call_function(env, undef, callback, 3, argv, NULL);
  }
  free(ev->data);
  free(ev);
}

static napi_value throw_error(napi_env env, const char *text) {
  napi_throw_error(env, NULL, text);
  return NULL;
}

static struct socket_state *state_of(napi_env env, napi_value value) {
  struct handle *h;
  if (napi_get_value_external(env, value, (void **)&h) != napi_ok || !h->s) return NULL;
  return h->s;
}

static void release_handle(struct handle *h) {
  struct socket_state *s = h->s;
  if (!s) return;
  h->s = NULL;
  pthread_mutex_lock(&s->lock);
  shut_everything(s);
  pthread_mutex_unlock(&s->lock);
  state_unref(s);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  release_handle(data);
  free(data);
}

/* connect(path, callback) → handle. Connecting happens on the receiver thread. */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return throw_error(env, "connect(path, callback) needs two arguments");
  /* One byte more than sun_path holds, so that a path too long for it is seen, not cut. */
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok)
    return throw_error(env, "path must be a string");
  if (len >= sizeof path - 1) return throw_error(env, "socket path too long");

  struct socket_state *s = calloc(1, sizeof *s);
  struct handle *h = malloc(sizeof *h);
  if (!s || !h) { free(s); free(h); return throw_error(env, "out of memory"); }
  s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    int err = errno;
    free(s); free(h);
    char *text = error_text("socket", err);
    napi_throw_error(env, NULL, text ? text : "socket failed");
    free(text);
    return NULL;
  }
  s->addr.sun_family = AF_UNIX;
  memcpy(s->addr.sun_path, path, len + 1);
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->wake, NULL);
  atomic_init(&s->refs, 3);

  napi_value name;
  napi_create_string_utf8(env, "seqpacket", NAPI_AUTO_LENGTH, &name);
  /* Bounded queues: a receiver far ahead of JS waits instead of piling up memory. */
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 256, 1, NULL, NULL, NULL, call_js, &s->rx_tsfn) != napi_ok) {
    close(s->fd); free(s); free(h);
    return throw_error(env, "cannot create thread-safe function");
  }
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 256, 1, NULL, NULL, NULL, call_js, &s->tx_tsfn) != napi_ok) {
    napi_release_threadsafe_function(s->rx_tsfn, napi_tsfn_release);
    close(s->fd); free(s); free(h);
    return throw_error(env, "cannot create thread-safe function");
  }
  h->s = s;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  bool started_receiver = pthread_create(&t, &attr, receiver, s) == 0;
  bool started_sender = started_receiver && pthread_create(&t, &attr, sender, s) == 0;
  pthread_attr_destroy(&attr);
  if (!started_sender) {
    /* Stand in for whichever thread did not start, then fail. */
    pthread_mutex_lock(&s->lock);
    shut_everything(s);
    pthread_mutex_unlock(&s->lock);
    if (!started_receiver) {
      napi_release_threadsafe_function(s->rx_tsfn, napi_tsfn_release);
      state_unref(s);
    }
    napi_release_threadsafe_function(s->tx_tsfn, napi_tsfn_release);
    state_unref(s);
    state_unref(s);
    free(h);
    return throw_error(env, "cannot start socket threads");
  }
  napi_value external;
  napi_create_external(env, h, finalize_handle, NULL, &external);
  return external;
}

/* write(handle, buffer, id): queues one message; "written" reports it. */
static napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct socket_state *s = state_of(env, argv[0]);
  if (!s) return throw_error(env, "socket is closed");
  void *data;
  size_t len;
  double id;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) return throw_error(env, "data must be a Buffer");
  if (napi_get_value_double(env, argv[2], &id) != napi_ok) return throw_error(env, "id must be a number");
  struct message *m = malloc(sizeof *m + len);
  if (!m) return throw_error(env, "out of memory");
  m->next = NULL;
  m->id = id;
  m->len = len;
  memcpy(m->data, data, len);
  pthread_mutex_lock(&s->lock);
  if (s->tail) s->tail->next = m; else s->head = m;
  s->tail = m;
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* end(handle): shuts our sending side down once the queued messages are sent. */
static napi_value js_end(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct socket_state *s = state_of(env, argv[0]);
  if (!s) return NULL;
  pthread_mutex_lock(&s->lock);
  s->shut_wr_requested = true;
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* close(handle): stops both threads; queued writes are reported as not sent. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct handle *h;
  if (napi_get_value_external(env, argv[0], (void **)&h) == napi_ok) release_handle(h);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "connect", NULL, js_connect, NULL, NULL, NULL, napi_default, NULL },
    { "write", NULL, js_write, NULL, NULL, NULL, napi_default, NULL },
    { "end", NULL, js_end, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
