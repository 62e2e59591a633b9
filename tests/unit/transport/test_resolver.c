/* SPDX-License-Identifier: MIT */
/* The resolver (doveadm/resolver.h): cached addresses across reads, lookups
 * in the background, waits bounded by the read's deadline. The lookups are
 * a fake resolve function (no DNS) that answers with loopback addresses
 * and can be held back to play a slow resolver; waiting is done on
 * conditions with a deadline, never with sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "doveadm/clock.h"
#include "doveadm/resolver.h"
#include "fake_resolver.h"
#include "test_support.h"

/* ---- tests ---- */

static void test_numeric_addresses_need_no_lookup(void **state)
{
    (void)state;
    static const unsigned none[] = {ANSWER_FAIL};
    dns_reset(false, none, 1);
    unsigned port;
    int listener = listen_loopback(&port);
    static const char *const v4[] = {"127.0.0.1", "[127.0.0.1]"};
    for (size_t i = 0; i < 2; i++) {
        dva_resolver *r = resolver(v4[i], port, 0);
        /* A deadline already past: an address literal never waits. */
        dva_transport *t = transport(r, dva_now_ms());
        char want[64];
        snprintf(want, sizeof(want), "tcp:127.0.0.1:%u", port);
        assert_string_equal(dva_transport_describe(t), want);
        assert_connects_to(t, listener, -1);
        dva_resolver_connect_failed(r); /* nothing to look up again */
        dva_resolver_free(r);
    }
    static const char *const v6[] = {"::1", "[::1]"};
    for (size_t i = 0; i < 2; i++) {
        dva_resolver *r = resolver(v6[i], 2425, 0);
        dva_transport *t = transport(r, dva_now_ms());
        assert_string_equal(dva_transport_describe(t), "tcp:[::1]:2425");
        dva_transport_destroy(t);
        dva_resolver_free(r);
    }
    assert_int_equal(dns_calls(), 0);
    close(listener);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    static const struct {
        const char *host;
        unsigned port;
    } cases[] = {
        {NULL, 2425},         {"", 2425},     {"localhost", 0},
        {"localhost", 65536}, {"[::1", 2425}, {"[not-an-address]", 2425},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dva_error err;
        dva_error_clear(&err);
        assert_null(dva_resolver_new(cases[i].host, cases[i].port, NULL, &err));
        assert_int_equal(err.code, DVA_ERR_USAGE);
    }
    dva_resolver_free(NULL);
}

/* A slow first lookup: the read waits until its deadline and no longer,
 * names the host; the lookup goes on and a later read uses its answer. */
static void test_slow_first_lookup_ends_at_the_deadline(void **state)
{
    (void)state;
    unsigned port;
    int listener = listen_loopback(&port);
    dns_reset(true, &port, 1);
    dva_resolver *r = resolver("mail.example.org", port, 0);
    dns_await(&dns.calls, 1); /* started at creation */
    assert_string_equal(dns.last_name, "mail.example.org");

    uint64_t start = dva_now_ms(), deadline = start + 200;
    dva_error err;
    assert_null(dva_resolver_transport(r, deadline, &err));
    uint64_t end = dva_now_ms();
    assert_true(end >= deadline);
    assert_true(end < deadline + SLACK_MS);
    assert_int_equal(err.code, DVA_ERR_TIMEOUT);
    char want[200];
    snprintf(
        want, sizeof(want),
        "connect to tcp:mail.example.org:%u failed: resolving \"mail.example.org\" "
        "did not finish within the read's Timeout",
        port);
    assert_string_equal(err.message, want);

    /* The next read waits for the same lookup: no second one piles up. */
    deadline = dva_now_ms() + 50;
    assert_null(dva_resolver_transport(r, deadline, &err));
    assert_true(dva_now_ms() < deadline + SLACK_MS);
    assert_int_equal(err.code, DVA_ERR_TIMEOUT);
    assert_int_equal(dns_calls(), 1);

    /* The lookup answers: the read waiting for it gets a transport at
     * once, and later reads use the cached answer without any wait. */
    dns_release();
    assert_connects_to(transport(r, dva_now_ms() + WAIT_MS), listener, -1);
    for (int i = 0; i < 3; i++)
        assert_connects_to(transport(r, dva_now_ms()), listener, -1);
    assert_int_equal(dns_calls(), 1);
    dva_resolver_free(r);
    close(listener);
}

static void test_failed_lookup_names_the_host(void **state)
{
    (void)state;
    unsigned port;
    int listener = listen_loopback(&port);
    unsigned answers[] = {ANSWER_FAIL, ANSWER_EMPTY, port};
    dns_reset(false, answers, 3);
    dva_resolver *r = resolver("nx.example.org", 2425, 0);

    uint64_t deadline = dva_now_ms() + WAIT_MS;
    dva_error err;
    assert_null(dva_resolver_transport(r, deadline, &err));
    assert_int_equal(err.code, DVA_ERR_CONNECT);
    assert_string_equal(err.message,
                        "connect to tcp:nx.example.org:2425 failed: cannot "
                        "resolve \"nx.example.org\": Name or service not "
                        "known");
    /* The other connections of the same read get the same answer. */
    dva_error again;
    assert_null(dva_resolver_transport(r, deadline, &again));
    assert_string_equal(again.message, err.message);
    assert_int_equal(dns_calls(), 1);

    /* The next read looks up again: a name without addresses. */
    assert_null(dva_resolver_transport(r, deadline + 1, &err));
    assert_int_equal(err.code, DVA_ERR_CONNECT);
    assert_string_equal(
        err.message,
        "connect to tcp:nx.example.org:2425 failed: the name has no address");
    assert_int_equal(dns_calls(), 2);

    /* And the one after that finds it. */
    assert_connects_to(transport(r, deadline + 2), listener, -1);
    assert_int_equal(dns_calls(), 3);
    dva_resolver_free(r);
    close(listener);
}

/* Addresses older than the refresh age are looked up again in the
 * background; the read meanwhile uses the old ones without waiting. */
static void test_refresh_by_age(void **state)
{
    (void)state;
    unsigned old_port, new_port;
    int old_listener = listen_loopback(&old_port);
    int new_listener = listen_loopback(&new_port);
    unsigned answers[] = {old_port, new_port};
    dns_reset(false, answers, 2);
    fake_now = 1000000;
    dva_resolver *r = resolver("svc.example.org", 2425, 60000);
    assert_int_equal(dva_resolver_settle(r, dva_now_ms() + WAIT_MS), 1);
    assert_connects_to(transport(r, dva_now_ms()), old_listener, new_listener);

    fake_now += 59999;
    assert_connects_to(transport(r, dva_now_ms()), old_listener, new_listener);
    assert_int_equal(dns_calls(), 1);

    pthread_mutex_lock(&dns.mu);
    dns.hold = true; /* a slow refresh */
    pthread_mutex_unlock(&dns.mu);
    fake_now += 1;
    assert_connects_to(transport(r, dva_now_ms()), old_listener, new_listener);
    dns_await(&dns.calls, 2);
    assert_connects_to(transport(r, dva_now_ms()), old_listener, new_listener);
    assert_int_equal(dns_calls(), 2); /* one refresh at a time */

    dns_release();
    assert_int_equal(dva_resolver_settle(r, dva_now_ms() + WAIT_MS), 1);
    assert_connects_to(transport(r, dva_now_ms()), new_listener, old_listener);
    assert_int_equal(dns_calls(), 2);
    dva_resolver_free(r);
    close(old_listener);
    close(new_listener);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_addresses_need_no_lookup),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_slow_first_lookup_ends_at_the_deadline),
        cmocka_unit_test(test_failed_lookup_names_the_host),
        cmocka_unit_test(test_refresh_by_age),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
