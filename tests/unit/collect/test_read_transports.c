/* SPDX-License-Identifier: MIT */
/* A whole read (dva_scrape_run(), as the plugin reads) over the transports
 * that can fail before a byte is sent: a resolver whose addresses moved or
 * that never answers (support/fake_resolver.c), and TLS whose CA file went
 * away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "doveadm/clock.h"
#include "doveadm/scrape.h"
#include "fake_resolver.h"

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

/* A CA file that went away after start-up: the read reports it (server
 * down, with the reason) and connects nowhere. */
static void test_scrape_with_unloadable_ca(void **state)
{
    (void)state;
    dva_scrape_plan plan = {
        .host = "127.0.0.1",
        .port = 9,
        .password = "s3cret",
        .tls = {.mode = DVA_TLS_STARTTLS, .ca_file = "/nonexistent/ca.pem"},
        .stats = true,
        .timeout_ms = 1000};
    dva_scrape_result r;
    dva_error err;
    assert_int_equal(dva_scrape_run(&plan, &r, &err), 0);
    assert_false(r.up);
    assert_int_equal(r.connections_opened, 0);
    assert_int_equal(r.down_reason.code, DVA_ERR_USAGE);
    assert_non_null(strstr(r.down_reason.message, "/nonexistent/ca.pem"));
    dva_scrape_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_failure_looks_up_again),
        cmocka_unit_test(test_scrape_never_waits_past_timeout),
        cmocka_unit_test(test_scrape_with_unloadable_ca),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
