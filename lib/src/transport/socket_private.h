/* SPDX-License-Identifier: MIT */
/* The socket transports (socket_transport.h): the state shared by
 * socket_transport.c (sockets, connects, I/O), unix_transport.c and
 * tcp_transport.c. */
#ifndef DVA_SOCKET_PRIVATE_H
#define DVA_SOCKET_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "doveadm/socket_transport.h"

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

/* Closes the socket, if any (back to SOCK_IDLE). */
void dva_sock_close_fd(sock_transport *s);
/* Starts a non-blocking connect on a new socket. Returns 1 when connected at
 * once, 0 when in progress, -1 with errno when the attempt failed. */
int dva_sock_start_connect(sock_transport *s, int family, int protocol,
                           const struct sockaddr *addr, socklen_t addrlen);
/* Checks a connect in progress without blocking: 1 connected, 0 still in
 * progress, -1 failed (errno set). */
int dva_sock_check_connect(sock_transport *s);
/* A transport of ops with no socket yet; NULL with err. */
sock_transport *dva_sock_alloc(const dva_transport_ops *ops, dva_error *err);

/* The ops both kinds share: all but connect. */
ssize_t dva_sock_write(dva_transport *t, const void *buf, size_t len, dva_error *err);
ssize_t dva_sock_read(dva_transport *t, void *buf, size_t len, dva_error *err);
int dva_sock_poll_fd(dva_transport *t, short want, short *events);
void dva_sock_close(dva_transport *t);
void dva_sock_destroy(dva_transport *t);
const char *dva_sock_describe(const dva_transport *t);

#endif
