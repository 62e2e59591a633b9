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
#include "doveadm/scrape.h"
#include "test_support.h"

#define WAIT_MS 10000 /* a generous upper bound: reaching it fails the test */
#define SLACK_MS 500  /* how far past a deadline a call may return */

/* ---- the fake resolver ---- */

#define ANSWER_FAIL 0         /* the lookup fails: "Name or service not known" */
#define ANSWER_EMPTY 0x10000u /* the name has no address */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    bool hold;           /* lookups wait until this is false */
    unsigned calls;      /* lookups started */
    unsigned returned;   /* lookups finished */
    unsigned answers[4]; /* per call (the last one repeats): a port on
                          * 127.0.0.1, ANSWER_FAIL or ANSWER_EMPTY */
    size_t nanswers;
    char last_name[64];
} dns = {.mu = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

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

static void dns_reset(bool hold, const unsigned *answers, size_t n)
{
    pthread_mutex_lock(&dns.mu);
    assert_int_equal(dns.calls, dns.returned); /* the last test's lookups ended */
    dns.hold = hold;
    dns.calls = dns.returned = 0;
    memcpy(dns.answers, answers, n * sizeof(*answers));
    dns.nanswers = n;
    pthread_mutex_unlock(&dns.mu);
}

static void dns_release(void)
{
    pthread_mutex_lock(&dns.mu);
    dns.hold = false;
    pthread_cond_broadcast(&dns.changed);
    pthread_mutex_unlock(&dns.mu);
}

static unsigned dns_calls(void)
{
    pthread_mutex_lock(&dns.mu);
    unsigned n = dns.calls;
    pthread_mutex_unlock(&dns.mu);
    return n;
}

/* Waits until *counter (dns.calls or dns.returned) reaches n. */
static void dns_await(const unsigned *counter, unsigned n)
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

static uint64_t fake_now;
static uint64_t fake_clock(void)
{
    return fake_now;
}

static dva_resolver *resolver(const char *host, unsigned port, uint64_t refresh_ms)
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

static int listen_loopback(unsigned *port)
{
    return dva_test_listen_loopback(port, 8);
}

/* A loopback port nothing listens on (bound, then released). */
static unsigned closed_port(void)
{
    unsigned port;
    close(dva_test_listen_loopback(&port, 1));
    return port;
}

/* Connects t (polling its fd): 1 connected, -1 failed (err set). */
static int connect_now(dva_transport *t, dva_error *err)
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
static void assert_connects_to(dva_transport *t, int to, int other)
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

static dva_transport *transport(dva_resolver *r, uint64_t deadline)
{
    dva_error err;
    dva_transport *t = dva_resolver_transport(r, deadline, &err);
    if (t == NULL)
        fail_msg("%s", err.message);
    return t;
}

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

/* A read whose every connection was refused (through dva_scrape_run, as
 * the plugin reads) looks the name up again; the next read connects to
 * where the name points now. */
static void test_connect_failure_looks_up_again(void **state)
{
    (void)state;
    unsigned port;
    int listener = listen_loopback(&port);
    unsigned answers[] = {closed_port(), port};
    dns_reset(false, answers, 2);
    dva_resolver *r = resolver("moved.example.org", 2425, 0);
    assert_int_equal(dva_resolver_settle(r, dva_now_ms() + WAIT_MS), 1);

    dva_scrape_plan plan = {.host = "moved.example.org",
                            .port = 2425,
                            .resolver = r,
                            .stats = true,
                            .who = true,
                            .timeout_ms = WAIT_MS};
    dva_scrape_result res;
    dva_error err;
    assert_int_equal(dva_scrape_run(&plan, &res, &err), 0);
    assert_false(res.up);
    assert_int_equal(res.down_reason.code, DVA_ERR_CONNECT);
    assert_non_null(strstr(res.down_reason.message, "tcp:moved.example.org:2425"));
    dva_scrape_result_free(&res);

    dns_await(&dns.calls, 2);
    assert_int_equal(dva_resolver_settle(r, dva_now_ms() + WAIT_MS), 1);
    assert_connects_to(transport(r, dva_now_ms()), listener, -1);
    assert_int_equal(dns_calls(), 2);
    dva_resolver_free(r);
    close(listener);
}

/* A whole read against a resolver that never answers: it returns within
 * its Timeout, down, with the host named in every step. */
static void test_scrape_never_waits_past_timeout(void **state)
{
    (void)state;
    static const unsigned answer[] = {ANSWER_FAIL};
    dns_reset(true, answer, 1);
    dva_resolver *r = resolver("mail.example.org", 2425, 0);
    dva_scrape_plan plan = {.host = "mail.example.org",
                            .port = 2425,
                            .resolver = r,
                            .stats = true,
                            .who = true,
                            .timeout_ms = 300};
    uint64_t start = dva_now_ms();
    dva_scrape_result res;
    dva_error err;
    assert_int_equal(dva_scrape_run(&plan, &res, &err), 0);
    assert_true(dva_now_ms() - start < plan.timeout_ms + SLACK_MS);
    assert_false(res.up);
    assert_int_equal(res.down_reason.code, DVA_ERR_TIMEOUT);
    const char *want =
        "resolving \"mail.example.org\" did not finish within the read's "
        "Timeout";
    assert_non_null(strstr(res.down_reason.message, want));
    assert_non_null(strstr(res.stats_step.error.message, want));
    assert_non_null(strstr(res.who_step.error.message, want));
    dva_scrape_result_free(&res);
    assert_int_equal(dns_calls(), 1);

    /* Freed while its lookup still runs: nothing waits, nothing leaks. */
    dva_resolver_free(r);
    dns_release();
    dns_await(&dns.returned, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_addresses_need_no_lookup),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_slow_first_lookup_ends_at_the_deadline),
        cmocka_unit_test(test_failed_lookup_names_the_host),
        cmocka_unit_test(test_refresh_by_age),
        cmocka_unit_test(test_connect_failure_looks_up_again),
        cmocka_unit_test(test_scrape_never_waits_past_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
