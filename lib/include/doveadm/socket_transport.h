/* Non-blocking socket transports: TCP (IPv4/IPv6, by name or address) and
 * UNIX stream sockets. Creating one does no I/O; the connect starts at the
 * first dva_transport_connect(). */
#ifndef DOVEADM_SOCKET_TRANSPORT_H
#define DOVEADM_SOCKET_TRANSPORT_H

#include "doveadm/transport.h"

/* TCP to host (name, IPv4 or IPv6 literal, with or without brackets) and
 * port. The name is resolved here with getaddrinfo() (the system resolver);
 * each resolved address is tried in turn until one connects. NULL on error
 * (DVA_ERR_CONNECT for an unknown name, DVA_ERR_USAGE for a bad argument). */
dva_transport *dva_tcp_transport_new(const char *host, unsigned port, dva_error *err);

/* A UNIX stream socket at path. NULL when the path is too long. */
dva_transport *dva_unix_transport_new(const char *path, dva_error *err);

#endif
