/* SPDX-License-Identifier: MIT */
/* The UNIX stream socket transport (socket_transport.h), with hints for
 * the reasons a connect to Dovecot's doveadm-server socket fails. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socket_private.h"

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
        r = dva_sock_check_connect(s);
        break;
    case SOCK_IDLE:
    default:
        r = dva_sock_start_connect(s, AF_UNIX, 0, (const struct sockaddr *)&s->sun,
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
    dva_sock_close_fd(s);
    return unix_fail(s, e, err);
}

static const dva_transport_ops unix_ops = {
    .connect = unix_connect,
    .write = dva_sock_write,
    .read = dva_sock_read,
    .poll_fd = dva_sock_poll_fd,
    .close = dva_sock_close,
    .destroy = dva_sock_destroy,
    .describe = dva_sock_describe,
};

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

    sock_transport *s = dva_sock_alloc(&unix_ops, err);
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
