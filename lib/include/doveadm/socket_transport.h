/* SPDX-License-Identifier: MIT */
/* Non-blocking socket transports: TCP (IPv4/IPv6, by name or address) and
 * UNIX stream sockets. Creating one does no I/O; the connect starts at the
 * first dva_transport_connect(). */
#ifndef DOVEADM_SOCKET_TRANSPORT_H
#define DOVEADM_SOCKET_TRANSPORT_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_TRANSPORT)
#error "doveadm/socket_transport.h belongs to the transport layer (doc/ARCHITECTURE.md)"
#endif

#include <stddef.h>
#include <sys/socket.h>

#include "doveadm/transport.h"

/* One resolved TCP address (an entry of getaddrinfo()'s answer). */
typedef struct {
    int family; /* AF_INET or AF_INET6 */
    socklen_t len;
    struct sockaddr_storage addr;
} dva_tcp_address;

/* TCP to host (name, IPv4 or IPv6 literal, with or without brackets) and
 * port. The name is resolved here with getaddrinfo() (the system resolver,
 * which may block for seconds; see doveadm/resolver.h for a cached,
 * deadline-bounded lookup); each resolved address is tried in turn until
 * one connects. NULL on error (DVA_ERR_CONNECT for an unknown name,
 * DVA_ERR_USAGE for a bad argument). */
dva_transport *dva_tcp_transport_new(const char *host, unsigned port, dva_error *err);

/* TCP to addrs (naddrs >= 1, copied), tried in turn until one connects; no
 * name resolution. host and port (as for dva_tcp_transport_new) only name
 * the transport in messages: "tcp:host:port". */
dva_transport *dva_tcp_transport_new_addresses(const char *host, unsigned port,
                                               const dva_tcp_address *addrs,
                                               size_t naddrs, dva_error *err);

/* A UNIX stream socket at path. NULL when the path is too long. */
dva_transport *dva_unix_transport_new(const char *path, dva_error *err);

#endif
