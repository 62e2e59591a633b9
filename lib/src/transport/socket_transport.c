/* SPDX-License-Identifier: MIT */
/* Non-blocking stream sockets, shared by the UNIX (unix_transport.c) and
 * TCP (tcp_transport.c) transports: creating, connecting, I/O. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "socket_private.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set on the socket instead */
#endif

void dva_sock_close_fd(sock_transport *s)
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

int dva_sock_start_connect(sock_transport *s, int family, int protocol,
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
    dva_sock_close_fd(s);
    errno = saved;
    return -1;
}

int dva_sock_check_connect(sock_transport *s)
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

static int not_connected(sock_transport *s, const char *what, dva_error *err)
{
    return dva_fail(err, DVA_ERR_USAGE, "%s on %s, which is not connected", what,
                    s->description);
}

ssize_t dva_sock_write(dva_transport *t, const void *buf, size_t len, dva_error *err)
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

ssize_t dva_sock_read(dva_transport *t, void *buf, size_t len, dva_error *err)
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

int dva_sock_poll_fd(dva_transport *t, short want, short *events)
{
    sock_transport *s = (sock_transport *)t;
    short ev = 0;
    if (s->fd >= 0)
        ev = s->state == SOCK_CONNECTING ? POLLOUT : want;
    if (events != NULL)
        *events = ev;
    return s->fd;
}

void dva_sock_close(dva_transport *t)
{
    dva_sock_close_fd((sock_transport *)t);
}

void dva_sock_destroy(dva_transport *t)
{
    sock_transport *s = (sock_transport *)t;
    dva_sock_close_fd(s);
    free(s->addrs);
    free(s->description);
    free(s);
}

const char *dva_sock_describe(const dva_transport *t)
{
    return ((const sock_transport *)t)->description;
}

sock_transport *dva_sock_alloc(const dva_transport_ops *ops, dva_error *err)
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
