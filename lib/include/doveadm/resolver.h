/* SPDX-License-Identifier: MIT */
/* The addresses of one TCP host:port, kept across reads so that a read
 * does no DNS work: getaddrinfo() can block for many seconds (glibc's
 * resolver: 5 s x attempts x servers), far past a read's deadline.
 *
 * A name is looked up in a background thread of its own: once at
 * creation, again when the addresses are older than the refresh age, and
 * after every address failed to connect (dva_resolver_connect_failed());
 * meanwhile reads use the addresses they have. Only while there are none
 * yet does a read wait for the lookup, and never past its deadline: the
 * lookup goes on and a later read uses its answer. A failed refresh keeps
 * the old addresses. Numeric addresses need no lookup and no thread.
 *
 * One resolver is used by one thread at a time (e.g. one plugin instance's
 * read); freeing it while a lookup runs is safe and does not wait for it. */
#ifndef DOVEADM_RESOLVER_H
#define DOVEADM_RESOLVER_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_TRANSPORT)
#error "doveadm/resolver.h belongs to the transport layer (doc/ARCHITECTURE.md)"
#endif

#include <stddef.h>
#include <stdint.h>

#include "doveadm/error.h"
#include "doveadm/socket_transport.h"
#include "doveadm/transport.h"

#define DVA_RESOLVER_REFRESH_MS (5u * 60u * 1000u)

/* Looks up name (no brackets) and port for TCP, blocking (it runs in the
 * background thread). Returns 0 with *addrs (malloc'd; the resolver frees
 * it) and *naddrs (0: the name has no address), or -1 with the reason
 * written into why (e.g. "Name or service not known"). */
typedef int dva_resolve_fn(void *ctx, const char *name, unsigned port,
                           dva_tcp_address **addrs, size_t *naddrs, char *why,
                           size_t why_size);

typedef struct {
    uint64_t refresh_ms;      /* age after which to look up again; 0: 5 min */
    dva_resolve_fn *resolve;  /* NULL: getaddrinfo() */
    void *resolve_ctx;        /* must outlive every lookup, even after _free() */
    uint64_t (*now_ms)(void); /* clock for the refresh age; NULL: dva_now_ms */
} dva_resolver_options;

typedef struct dva_resolver dva_resolver;

/* A resolver for host (as dva_tcp_transport_new() takes it) and port;
 * starts the lookup of a name. opt may be NULL. NULL with err on a bad
 * argument (DVA_ERR_USAGE) or DVA_ERR_NOMEM. */
dva_resolver *dva_resolver_new(const char *host, unsigned port,
                               const dva_resolver_options *opt, dva_error *err);

/* A TCP transport to the current addresses (no I/O). Without addresses
 * yet, waits for the lookup until deadline (dva_now_ms() time): NULL with
 * DVA_ERR_TIMEOUT ("resolving \"host\" did not finish within the read's
 * Timeout") when it has not finished, or with the lookup's error
 * (DVA_ERR_CONNECT, as dva_tcp_transport_new()). A failed lookup answers
 * every call with the same deadline; the next deadline looks up again. */
dva_transport *dva_resolver_transport(dva_resolver *r, uint64_t deadline,
                                      dva_error *err);

/* Tells that every address failed to connect: looks the name up again in
 * the background (the current addresses stay in use until it answers). */
void dva_resolver_connect_failed(dva_resolver *r);

/* Waits until no lookup is running or deadline; 1 when none is running.
 * For tools and tests: a read never needs it. */
int dva_resolver_settle(dva_resolver *r, uint64_t deadline);

/* Frees r (NULL is fine); a lookup still running finishes on its own. */
void dva_resolver_free(dva_resolver *r);

#endif
