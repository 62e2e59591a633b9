/* SPDX-License-Identifier: MIT */
/* A fake resolve function for the resolver tests: see fake_resolver.h. */
#include "fake_resolver.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

struct fake_dns dns = {.mu = PTHREAD_MUTEX_INITIALIZER,
                       .changed = PTHREAD_COND_INITIALIZER};

static int fake_resolve(void *ctx, const char *name, unsigned port,
                        dva_tcp_address **addrs, size_t *naddrs, char *why,
                        size_t why_size)
{
    (void)ctx;
    (void)port;
    pthread_mutex_lock(&dns.mu);
    unsigned call = dns.calls++;
    snprintf(dns.last_name, sizeof(dns.last_name), "%s", name);
    pthread_cond_broadcast(&dns.changed);
    while (dns.hold)
        pthread_cond_wait(&dns.changed, &dns.mu);
    unsigned answer = dns.answers[call < dns.nanswers ? call : dns.nanswers - 1];
    pthread_mutex_unlock(&dns.mu);

    int rc = 0;
    *addrs = NULL;
    *naddrs = 0;
    if (answer == ANSWER_FAIL) {
        snprintf(why, why_size, "Name or service not known");
        rc = -1;
    } else if (answer != ANSWER_EMPTY) {
        dva_tcp_address *a = calloc(1, sizeof(*a));
        assert_non_null(a);
        struct sockaddr_in *sin = (struct sockaddr_in *)&a->addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)answer);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->family = AF_INET;
        a->len = sizeof(*sin);
        *addrs = a;
        *naddrs = 1;
    }
    pthread_mutex_lock(&dns.mu);
    dns.returned++;
    pthread_cond_broadcast(&dns.changed);
    pthread_mutex_unlock(&dns.mu);
    return rc;
}

void dns_reset(bool hold, const unsigned *answers, size_t n)
{
    pthread_mutex_lock(&dns.mu);
    assert_int_equal(dns.calls, dns.returned); /* the last test's lookups ended */
    dns.hold = hold;
    dns.calls = dns.returned = 0;
    memcpy(dns.answers, answers, n * sizeof(*answers));
    dns.nanswers = n;
    pthread_mutex_unlock(&dns.mu);
}

void dns_release(void)
{
    pthread_mutex_lock(&dns.mu);
    dns.hold = false;
    pthread_cond_broadcast(&dns.changed);
    pthread_mutex_unlock(&dns.mu);
}

unsigned dns_calls(void)
{
    pthread_mutex_lock(&dns.mu);
    unsigned n = dns.calls;
    pthread_mutex_unlock(&dns.mu);
    return n;
}

/* Waits until *counter (dns.calls or dns.returned) reaches n. */
void dns_await(const unsigned *counter, unsigned n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&dns.mu);
    int e = 0;
    while (*counter < n && e != ETIMEDOUT)
        e = pthread_cond_timedwait(&dns.changed, &dns.mu, &until);
    unsigned got = *counter;
    pthread_mutex_unlock(&dns.mu);
    if (got < n)
        fail_msg("waited %d ms for %u lookups, saw %u", WAIT_MS, n, got);
}

uint64_t fake_now;
static uint64_t fake_clock(void)
{
    return fake_now;
}

dva_resolver *resolver(const char *host, unsigned port, uint64_t refresh_ms)
{
    dva_resolver_options opt = {.resolve = fake_resolve, .refresh_ms = refresh_ms};
    if (refresh_ms > 0)
        opt.now_ms = fake_clock;
    dva_error err;
    dva_resolver *r = dva_resolver_new(host, port, &opt, &err);
    if (r == NULL)
        fail_msg("%s: %s", host, err.message);
    return r;
}

/* ---- loopback sockets ---- */

int listen_loopback(unsigned *port)
{
    return dva_test_listen_loopback(port, 8);
}

/* A loopback port nothing listens on (bound, then released). */
unsigned closed_port(void)
{
    unsigned port;
    close(dva_test_listen_loopback(&port, 1));
    return port;
}

/* Connects t (polling its fd): 1 connected, -1 failed (err set). */
int connect_now(dva_transport *t, dva_error *err)
{
    for (;;) {
        int r = dva_transport_connect(t, err);
        if (r != 0)
            return r;
        short ev = 0;
        struct pollfd pfd = {.fd = dva_transport_poll_fd(t, POLLOUT, &ev)};
        pfd.events = ev;
        if (poll(&pfd, 1, WAIT_MS) <= 0)
            fail_msg("connect did not finish within %d ms", WAIT_MS);
    }
}

/* Asserts that t connects to the listener `to` and not to `other`. */
void assert_connects_to(dva_transport *t, int to, int other)
{
    dva_error err;
    if (connect_now(t, &err) != 1)
        fail_msg("%s", err.message);
    struct pollfd pfd = {.fd = to, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
    int peer = accept(to, NULL, NULL);
    assert_true(peer >= 0);
    close(peer);
    if (other >= 0) {
        pfd.fd = other;
        assert_int_equal(poll(&pfd, 1, 0), 0);
    }
    dva_transport_destroy(t);
}

dva_transport *transport(dva_resolver *r, uint64_t deadline)
{
    dva_error err;
    dva_transport *t = dva_resolver_transport(r, deadline, &err);
    if (t == NULL)
        fail_msg("%s", err.message);
    return t;
}
