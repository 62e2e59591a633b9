/* SPDX-License-Identifier: MIT */
/* The TCP transport (socket_transport.h): each resolved address tried in
 * turn until one connects, every failure named in the message. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socket_private.h"
#include "tcp_address.h"

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
        int r = dva_sock_check_connect(s);
        if (r > 0) {
            s->state = SOCK_CONNECTED;
            return 1;
        }
        if (r == 0)
            return 0;
        record_failure(s, errno);
        dva_sock_close_fd(s);
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
        int r = dva_sock_start_connect(s, a->family, IPPROTO_TCP,
                                       (const struct sockaddr *)&a->addr, a->len);
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        record_failure(s, errno);
    }
    dva_sock_close_fd(s);
    return tcp_fail_all(s, err);
}

static const dva_transport_ops tcp_ops = {
    .connect = tcp_connect,
    .write = dva_sock_write,
    .read = dva_sock_read,
    .poll_fd = dva_sock_poll_fd,
    .close = dva_sock_close,
    .destroy = dva_sock_destroy,
    .describe = dva_sock_describe,
};

/* Takes over h's description; copies addrs. */
static dva_transport *tcp_from_addresses(dva_tcp_host *h, const dva_tcp_address *addrs,
                                         size_t naddrs, dva_error *err)
{
    sock_transport *s = dva_sock_alloc(&tcp_ops, err);
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
