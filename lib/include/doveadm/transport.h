/* SPDX-License-Identifier: MIT */
/* The byte-stream interface the protocol client talks to (the role of
 * IO::Framed). A transport knows no protocol; the client knows no fd.
 * All calls are non-blocking. */
#ifndef DOVEADM_TRANSPORT_H
#define DOVEADM_TRANSPORT_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_TRANSPORT)
#error "doveadm/transport.h belongs to the transport layer (doc/ARCHITECTURE.md)"
#endif

#include <stddef.h>
#include <sys/types.h>

#include "doveadm/error.h"

/* read() result at the end of the stream (the peer closed). */
#define DVA_IO_EOF ((ssize_t)-2)

typedef struct dva_transport dva_transport;

typedef struct {
    /* Drives connection set-up (non-blocking connect; later TLS handshake).
     * Returns 1 once established, 0 while in progress, -1 on failure. */
    int (*connect)(dva_transport *t, dva_error *err);
    /* Bytes written (> 0), 0 if it would block, -1 on error. */
    ssize_t (*write)(dva_transport *t, const void *buf, size_t len, dva_error *err);
    /* Bytes read (> 0), 0 if it would block, DVA_IO_EOF, or -1 on error. */
    ssize_t (*read)(dva_transport *t, void *buf, size_t len, dva_error *err);
    /* The descriptor to poll (-1 if none) and, in *events, the poll events to
     * wait for given the events the caller wants (POLLIN/POLLOUT); e.g.
     * POLLOUT while a connect is in progress. */
    int (*poll_fd)(dva_transport *t, short want, short *events);
    /* Releases the connection (idempotent); the object stays valid. */
    void (*close)(dva_transport *t);
    /* Closes and frees. */
    void (*destroy)(dva_transport *t);
    /* Where it connects, for messages: "unix:/path", "tcp:host:port". */
    const char *(*describe)(const dva_transport *t);
    /* Optional (NULL: not supported). Switches a connected transport to
     * TLS now (STARTTLS): the handshake runs in the next reads and
     * writes. 0, or -1 with err set. */
    int (*start_tls)(dva_transport *t, dva_error *err);
    /* Optional. What the transport itself is waiting for, for a timeout
     * message (e.g. the TLS handshake), or NULL when nothing. */
    const char *(*waiting_for)(const dva_transport *t);
} dva_transport_ops;

/* Every transport starts with this header. */
struct dva_transport {
    const dva_transport_ops *ops;
};

static inline int dva_transport_connect(dva_transport *t, dva_error *err)
{
    return t->ops->connect(t, err);
}
static inline ssize_t dva_transport_write(dva_transport *t, const void *buf, size_t len,
                                          dva_error *err)
{
    return t->ops->write(t, buf, len, err);
}
static inline ssize_t dva_transport_read(dva_transport *t, void *buf, size_t len,
                                         dva_error *err)
{
    return t->ops->read(t, buf, len, err);
}
static inline int dva_transport_poll_fd(dva_transport *t, short want, short *events)
{
    return t->ops->poll_fd(t, want, events);
}
static inline void dva_transport_close(dva_transport *t)
{
    t->ops->close(t);
}
static inline void dva_transport_destroy(dva_transport *t)
{
    if (t != NULL)
        t->ops->destroy(t);
}
static inline const char *dva_transport_describe(const dva_transport *t)
{
    return t->ops->describe(t);
}

static inline int dva_transport_start_tls(dva_transport *t, dva_error *err)
{
    if (t->ops->start_tls == NULL)
        return dva_fail(err, DVA_ERR_USAGE, "%s cannot start TLS (not a TLS transport)",
                        t->ops->describe(t));
    return t->ops->start_tls(t, err);
}
static inline const char *dva_transport_waiting_for(const dva_transport *t)
{
    return t->ops->waiting_for == NULL ? NULL : t->ops->waiting_for(t);
}

#endif
