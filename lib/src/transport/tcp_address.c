/* SPDX-License-Identifier: MIT */
/* Host parsing and getaddrinfo() for TCP: see tcp_address.h. */
#include "tcp_address.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dva_tcp_host_parse(dva_tcp_host *h, const char *host, unsigned port, dva_error *err)
{
    memset(h, 0, sizeof(*h));
    if (host == NULL || host[0] == '\0')
        return dva_fail(err, DVA_ERR_USAGE, "TCP transport: no host given");
    if (port == 0 || port > 65535)
        return dva_fail(err, DVA_ERR_USAGE,
                        "TCP transport to %s: port %u is out of range (1-65535)", host,
                        port);

    /* "[addr]" is an IPv6 (or any numeric) address literal. */
    size_t hlen = strlen(host);
    h->bracketed = host[0] == '[';
    if (h->bracketed) {
        if (hlen < 3 || host[hlen - 1] != ']' ||
            memchr(host + 1, ']', hlen - 2) != NULL)
            return dva_fail(err, DVA_ERR_USAGE,
                            "TCP transport: \"%s\" is not a valid bracketed address "
                            "(expected e.g. [::1])",
                            host);
        h->name = strndup(host + 1, hlen - 2);
    } else {
        h->name = strdup(host);
    }
    if (h->name == NULL)
        return dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a transport");

    /* An IPv6 address is bracketed, as in a URL, so the port stands out. */
    bool v6 = strchr(h->name, ':') != NULL;
    size_t size = strlen(h->name) + sizeof("tcp:[]:65535");
    h->description = malloc(size);
    if (h->description == NULL) {
        dva_tcp_host_free(h);
        return dva_fail(err, DVA_ERR_NOMEM, "out of memory creating a transport");
    }
    snprintf(h->description, size, "tcp:%s%s%s:%u", v6 ? "[" : "", h->name,
             v6 ? "]" : "", port);
    return 0;
}

void dva_tcp_host_free(dva_tcp_host *h)
{
    free(h->name);
    free(h->description);
    memset(h, 0, sizeof(*h));
}

int dva_tcp_lookup(const char *name, unsigned port, int flags, dva_tcp_address **addrs,
                   size_t *naddrs, char *why, size_t why_size)
{
    *addrs = NULL;
    *naddrs = 0;
    /* No AI_ADDRCONFIG: glibc ignores loopback addresses when deciding which
     * families are "configured", so on a host whose only IPv6 address is ::1
     * it would refuse "::1" and "localhost" -> ::1. An address of a family
     * without a route just fails to connect and the next one is tried. */
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_protocol = IPPROTO_TCP,
        .ai_flags = AI_NUMERICSERV | flags,
    };
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    struct addrinfo *res = NULL;
    int r = getaddrinfo(name, service, &hints, &res);
    if (r != 0) {
        snprintf(why, why_size, "%s",
                 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
        return r;
    }
    size_t n = 0;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
        if (ai->ai_addrlen <= sizeof(struct sockaddr_storage))
            n++;
    dva_tcp_address *out = n == 0 ? NULL : calloc(n, sizeof(*out));
    if (n > 0 && out == NULL) {
        freeaddrinfo(res);
        snprintf(why, why_size, "%s", gai_strerror(EAI_MEMORY));
        return EAI_MEMORY;
    }
    size_t i = 0;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(struct sockaddr_storage))
            continue;
        out[i].family = ai->ai_family;
        out[i].len = ai->ai_addrlen;
        memcpy(&out[i].addr, ai->ai_addr, ai->ai_addrlen);
        i++;
    }
    freeaddrinfo(res);
    *addrs = out;
    *naddrs = n;
    return 0;
}

int dva_tcp_lookup_fail(const dva_tcp_host *h, const char *why, dva_error *err)
{
    if (h->bracketed)
        return dva_fail(err, DVA_ERR_USAGE, "%s: \"[%s]\" is not a numeric address: %s",
                        h->description, h->name, why);
    return dva_fail(err, DVA_ERR_CONNECT,
                    "connect to %s failed: cannot resolve \"%s\": %s", h->description,
                    h->name, why);
}

int dva_tcp_no_address(const dva_tcp_host *h, dva_error *err)
{
    return dva_fail(err, DVA_ERR_CONNECT,
                    "connect to %s failed: the name has no address", h->description);
}
