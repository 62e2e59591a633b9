/* SPDX-License-Identifier: MIT */
/* What the TCP transport and the resolver share about a configured host:
 * its validation and description, and getaddrinfo() as an address array. */
#ifndef DVA_TCP_ADDRESS_H
#define DVA_TCP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "doveadm/error.h"
#include "doveadm/socket_transport.h"

typedef struct {
    char *name;        /* what to resolve: the host without brackets */
    bool bracketed;    /* "[addr]": only a numeric address is accepted */
    char *description; /* "tcp:name:port", "tcp:[v6]:port" */
} dva_tcp_host;

/* Checks host and port and fills h (free with dva_tcp_host_free()).
 * -1 with err: DVA_ERR_USAGE for a bad argument, DVA_ERR_NOMEM. */
int dva_tcp_host_parse(dva_tcp_host *h, const char *host, unsigned port,
                       dva_error *err);
void dva_tcp_host_free(dva_tcp_host *h);

/* getaddrinfo() of name and port for TCP with extra flags (e.g.
 * AI_NUMERICHOST), as a malloc'd array (*naddrs may be 0). 0, or
 * getaddrinfo()'s error code with the reason written into why. */
int dva_tcp_lookup(const char *name, unsigned port, int flags, dva_tcp_address **addrs,
                   size_t *naddrs, char *why, size_t why_size);

/* Fills err for a lookup of h that failed because of why (same words as
 * dva_tcp_transport_new()) and returns -1. */
int dva_tcp_lookup_fail(const dva_tcp_host *h, const char *why, dva_error *err);

/* Fills err for a lookup of h that found no address and returns -1. */
int dva_tcp_no_address(const dva_tcp_host *h, dva_error *err);

#endif
