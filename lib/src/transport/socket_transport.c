/* Non-blocking TCP and UNIX stream socket transports. */
#include "doveadm/socket_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tcp_address.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set on the socket instead */
#endif

typedef enum {
    SOCK_IDLE,       /* no socket: not started, closed, or the last attempt failed */
    SOCK_CONNECTING, /* a non-blocking connect is in progress on fd */
    SOCK_CONNECTED,
} sock_state;

typedef struct {
    dva_transport base;
    int fd;
    sock_state state;
    char *description; /* "unix:/path" or "tcp:host:port" */

    /* UNIX */
    struct sockaddr_un sun;

    /* TCP: the resolved addresses and the index of the one being tried */
    dva_tcp_address *addrs;
    size_t naddrs;
    size_t current;
    /* errno of each failed attempt of the current connect, for the message */
    int first_errno;
    bool errnos_differ;
    char failures[DVA_ERROR_MESSAGE_MAX];
    unsigned n_failed;
} sock_transport;

static const dva_transport_ops tcp_ops;
static const dva_transport_ops unix_ops;

static void close_fd(sock_transport *s)
{
    if (s->fd >= 0) {
        /* A close() interrupted by a signal still releases the fd on Linux;
         * retrying could close an fd another thread just opened. */
        (void)close(s->fd);
        s->fd = -1;
    }
    s->state = SOCK_IDLE;
}

/* Creates a non-blocking, close-on-exec stream socket. */
static int open_socket(int family, int protocol)
{
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return -1;
#else
    int fd = socket(family, SOCK_STREAM, protocol);
    if (fd < 0)
        return -1;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
#endif
#ifdef SO_NOSIGPIPE
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
    return fd;
}

/* Starts a non-blocking connect on a new socket. Returns 1 when connected at
 * once, 0 when in progress, -1 with errno when the attempt failed. */
static int start_connect(sock_transport *s, int family, int protocol,
                         const struct sockaddr *addr, socklen_t addrlen)
{
    s->fd = open_socket(family, protocol);
    if (s->fd < 0)
        return -1;
    if (protocol == IPPROTO_TCP) {
        /* Request lines are written whole; do not let Nagle hold them back
         * while a delayed ACK is pending. */
        int one = 1;
        (void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (connect(s->fd, addr, addrlen) == 0) {
        s->state = SOCK_CONNECTED;
        return 1;
    }
    /* EINTR: the connect goes on asynchronously, as with EINPROGRESS. */
    if (errno == EINPROGRESS || errno == EINTR) {
        s->state = SOCK_CONNECTING;
        return 0;
    }
    int saved = errno;
    close_fd(s);
    errno = saved;
    return -1;
}

/* Checks a connect in progress without blocking: 1 connected, 0 still in
 * progress, -1 failed (errno set). */
static int check_connect(sock_transport *s)
{
    struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
    int r;
    do {
        r = poll(&pfd, 1, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return -1;
    if (r == 0)
        return 0;
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        return -1;
    if (soerr != 0) {
        errno = soerr;
        return -1;
    }
    if ((pfd.revents & POLLOUT) == 0) {
        /* POLLERR/POLLHUP without a pending error: the attempt ended
         * without a reason we can report more precisely. */
        errno = ENOTCONN;
        return -1;
    }
    return 1;
}

/* ---- UNIX ---- */

static int unix_fail(sock_transport *s, int e, dva_error *err)
{
    const char *hint = "";
    switch (e) {
    case ENOENT:
        hint = " (no socket at that path: is Dovecot running, and is the path "
               "its doveadm-server socket?)";
        break;
    case EACCES:
    case EPERM:
        hint = " (the collectd user needs access to the socket)";
        break;
    case ECONNREFUSED:
        hint = " (nothing is listening on the socket: is Dovecot running?)";
        break;
    case ENOTSOCK:
        hint = " (the path exists but is not a socket)";
        break;
    case EAGAIN:
        hint = " (the server's listen queue is full)";
        break;
    default:
        break;
    }
    return dva_fail(err, DVA_ERR_CONNECT, "connect to %s failed: %s%s", s->description,
                    strerror(e), hint);
}

static int unix_connect(dva_transport *t, dva_error *err)
{
    sock_transport *s = (sock_transport *)t;
    int r;

    switch (s->state) {
    case SOCK_CONNECTED:
        return 1;
    case SOCK_CONNECTING:
        r = check_connect(s);
        break;
    case SOCK_IDLE:
    default:
        r = start_connect(s, AF_UNIX, 0, (const struct sockaddr *)&s->sun,
                          (socklen_t)sizeof(s->sun));
        /* A UNIX connect does not return EINPROGRESS; EAGAIN (listen
         * queue full) is reported rather than retried in a busy loop. */
        break;
    }
    if (r > 0) {
        s->state = SOCK_CONNECTED;
        return 1;
    }
    if (r == 0)
        return 0;
    int e = errno;
    close_fd(s);
    return unix_fail(s, e, err);
}

/* ---- TCP ---- */

static void format_addr(const dva_tcp_address *a, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN + 64], serv[8]; /* numeric, with a scope id */
    int n;
    if (getnameinfo((const struct sockaddr *)&a->addr, a->len, host, sizeof(host), serv,
                    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        n = snprintf(out, size, "?");
    else if (a->family == AF_INET6)
        n = snprintf(out, size, "[%s]:%s", host, serv);
    else
        n = snprintf(out, size, "%s:%s", host, serv);
    (void)n; /* a numeric address always fits; truncation is harmless anyway */
}

/* Remembers why the attempt at s->current failed. */
static void record_failure(sock_transport *s, int e)
{
    char addr[INET6_ADDRSTRLEN + 64 + 8 + 4];
    format_addr(&s->addrs[s->current], addr, sizeof(addr));
    if (s->n_failed == 0)
        s->first_errno = e;
    else if (e != s->first_errno)
        s->errnos_differ = true;
    size_t used = strlen(s->failures);
    if (used < sizeof(s->failures) - 1) {
        int n = snprintf(s->failures + used, sizeof(s->failures) - used, "%s%s: %s",
                         s->n_failed > 0 ? "; " : "", addr, strerror(e));
        (void)n; /* cut when too many addresses failed */
    }
    s->n_failed++;
}

static int tcp_fail_all(sock_transport *s, dva_error *err)
{
    if (s->n_failed <= 1 || !s->errnos_differ)
        return dva_fail(err, DVA_ERR_CONNECT, "connect to %s failed: %s%s",
                        s->description, strerror(s->first_errno),
                        s->n_failed > 1 ? " (on every resolved address)" : "");
    return dva_fail(err, DVA_ERR_CONNECT, "connect to %s failed: %s", s->description,
                    s->failures);
}

static int tcp_connect(dva_transport *t, dva_error *err)
{
    sock_transport *s = (sock_transport *)t;

    if (s->state == SOCK_CONNECTED)
        return 1;
    if (s->state == SOCK_CONNECTING) {
        int r = check_connect(s);
        if (r > 0) {
            s->state = SOCK_CONNECTED;
            return 1;
        }
        if (r == 0)
            return 0;
        record_failure(s, errno);
        close_fd(s);
        s->current++;
    } else {
        /* A new attempt: from the first address. */
        s->current = 0;
        s->n_failed = 0;
        s->first_errno = 0;
        s->errnos_differ = false;
        s->failures[0] = '\0';
    }

    for (; s->current < s->naddrs; s->current++) {
        const dva_tcp_address *a = &s->addrs[s->current];
        int r = start_connect(s, a->family, IPPROTO_TCP,
                              (const struct sockaddr *)&a->addr, a->len);
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        record_failure(s, errno);
    }
    close_fd(s);
    return tcp_fail_all(s, err);
}

/* ---- common ---- */

static int not_connected(sock_transport *s, const char *what, dva_error *err)
{
    return dva_fail(err, DVA_ERR_USAGE, "%s on %s, which is not connected", what,
                    s->description);
}

static ssize_t sock_write(dva_transport *t, const void *buf, size_t len, dva_error *err)
{
    sock_transport *s = (sock_transport *)t;
    if (s->state != SOCK_CONNECTED)
        return not_connected(s, "write", err);
    if (len == 0)
        return 0;
    for (;;) {
        ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return dva_fail(err, DVA_ERR_IO, "write to %s failed: %s", s->description,
                        strerror(errno));
    }
}

static ssize_t sock_read(dva_transport *t, void *buf, size_t len, dva_error *err)
{
    sock_transport *s = (sock_transport *)t;
    if (s->state != SOCK_CONNECTED)
        return not_connected(s, "read", err);
    if (len == 0)
        return 0;
    for (;;) {
        ssize_t n = recv(s->fd, buf, len, 0);
        if (n > 0)
            return n;
        if (n == 0)
            return DVA_IO_EOF;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return dva_fail(err, DVA_ERR_IO, "read from %s failed: %s", s->description,
                        strerror(errno));
    }
}

static int sock_poll_fd(dva_transport *t, short want, short *events)
{
    sock_transport *s = (sock_transport *)t;
    short ev = 0;
    if (s->fd >= 0)
        ev = s->state == SOCK_CONNECTING ? POLLOUT : want;
    if (events != NULL)
        *events = ev;
    return s->fd;
}

static void sock_close(dva_transport *t)
{
    close_fd((sock_transport *)t);
}

static void sock_destroy(dva_transport *t)
{
    sock_transport *s = (sock_transport *)t;
    close_fd(s);
    free(s->addrs);
    free(s->description);
    free(s);
}

static const char *sock_describe(const dva_transport *t)
{
    return ((const sock_transport *)t)->description;
}

static const dva_transport_ops tcp_ops = {
    .connect = tcp_connect,
    .write = sock_write,
    .read = sock_read,
    .poll_fd = sock_poll_fd,
    .close = sock_close,
    .destroy = sock_destroy,
    .describe = sock_describe,
};

static const dva_transport_ops unix_ops = {
    .connect = unix_connect,
    .write = sock_write,
    .read = sock_read,
    .poll_fd = sock_poll_fd,
    .close = sock_close,
    .destroy = sock_destroy,
    .describe = sock_describe,
};

static sock_transport *sock_alloc(const dva_transport_ops *ops, dva_error *err)
{
    sock_transport *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a transport");
        return NULL;
    }
    s->base.ops = ops;
    s->fd = -1;
    s->state = SOCK_IDLE;
    return s;
}

static char *format_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format_alloc(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = n < 0 ? NULL : malloc((size_t)n + 1);
    if (out != NULL)
        vsnprintf(out, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return out;
}

/* Takes over h's description; copies addrs. */
static dva_transport *tcp_from_addresses(dva_tcp_host *h, const dva_tcp_address *addrs,
                                         size_t naddrs, dva_error *err)
{
    sock_transport *s = sock_alloc(&tcp_ops, err);
    if (s == NULL)
        return NULL;
    s->addrs = malloc(naddrs * sizeof(*addrs));
    if (s->addrs == NULL) {
        free(s);
        return dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a transport"), NULL;
    }
    memcpy(s->addrs, addrs, naddrs * sizeof(*addrs));
    s->naddrs = naddrs;
    s->description = h->description;
    h->description = NULL;
    return &s->base;
}

dva_transport *dva_tcp_transport_new_addresses(const char *host, unsigned port,
                                               const dva_tcp_address *addrs,
                                               size_t naddrs, dva_error *err)
{
    dva_tcp_host h;
    if (dva_tcp_host_parse(&h, host, port, err) < 0)
        return NULL;
    dva_transport *t = NULL;
    if (addrs == NULL || naddrs == 0)
        dva_fail(err, DVA_ERR_USAGE, "%s: no address given", h.description);
    else
        t = tcp_from_addresses(&h, addrs, naddrs, err);
    dva_tcp_host_free(&h);
    return t;
}

dva_transport *dva_tcp_transport_new(const char *host, unsigned port, dva_error *err)
{
    dva_tcp_host h;
    if (dva_tcp_host_parse(&h, host, port, err) < 0)
        return NULL;
    dva_tcp_address *addrs;
    size_t naddrs;
    char why[256];
    dva_transport *t = NULL;
    if (dva_tcp_lookup(h.name, port, h.bracketed ? AI_NUMERICHOST : 0, &addrs, &naddrs,
                       why, sizeof(why)) != 0)
        dva_tcp_lookup_fail(&h, why, err);
    else if (naddrs == 0)
        dva_tcp_no_address(&h, err);
    else
        t = tcp_from_addresses(&h, addrs, naddrs, err);
    free(addrs);
    dva_tcp_host_free(&h);
    return t;
}

dva_transport *dva_unix_transport_new(const char *path, dva_error *err)
{
    if (path == NULL || path[0] == '\0')
        return dva_fail(err, DVA_ERR_USAGE, "UNIX socket transport: no path given"),
               NULL;
    size_t len = strlen(path);
    struct sockaddr_un probe;
    if (len >= sizeof(probe.sun_path))
        return dva_fail(err, DVA_ERR_USAGE,
                        "UNIX socket path is too long (%zu bytes; at most %zu fit): %s",
                        len, sizeof(probe.sun_path) - 1, path),
               NULL;

    sock_transport *s = sock_alloc(&unix_ops, err);
    if (s == NULL)
        return NULL;
    s->sun.sun_family = AF_UNIX;
    memcpy(s->sun.sun_path, path, len + 1);
    s->description = format_alloc("unix:%s", path);
    if (s->description == NULL) {
        free(s);
        dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a transport");
        return NULL;
    }
    return &s->base;
}
