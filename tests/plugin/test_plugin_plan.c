/* SPDX-License-Identifier: MIT */
/* Settings -> scrape plan (plugin_plan.c), shared by the plugin and the
 * check tool: built from settings validated by the schema, as both do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "doveadm/settings.h"
#include "plugin_plan.h"
#include "plugin_submit.h"

static void settings_from(dva_settings *s, const char *const *pairs)
{
    dva_error err = {0};
    dva_config *c = dva_config_new("x");
    assert_non_null(c);
    for (size_t i = 0; pairs[i] != NULL; i += 2)
        assert_int_equal(dva_config_set(c, pairs[i], pairs[i + 1], &err), 0);
    if (dva_config_finish(c, s, NULL, NULL, &err) < 0)
        fail_msg("%s", err.message);
    dva_config_free(c);
}

static void test_socket_plan(void **state)
{
    (void)state;
    const char *const pairs[] = {
        "Socket",     "/run/x", "QuotaUser",      "a",    "QuotaUser",   "b",
        "QuotaUsers", "*",      "CollectMailbox", "true", "Connections", "3",
        NULL};
    dva_settings s;
    settings_from(&s, pairs);
    dvp_logger log;
    dvp_logger_init(&log, "x", NULL);
    dva_scrape_plan p;
    dvp_plan_init(&p, &s, 2.5, &log);
    assert_string_equal(p.socket_path, "/run/x");
    assert_null(p.host);
    assert_true(p.stats && p.who && p.quota && p.mailbox);
    assert_int_equal(p.nusers, 2);
    assert_string_equal(p.users[1], "b");
    assert_int_equal(p.nuser_masks, 1);
    assert_int_equal(p.nmailbox_masks, 0); /* none: the library reads INBOX */
    assert_ptr_equal(p.mailbox_fields, dvp_mailbox_fields);
    assert_int_equal(p.nmailbox_fields, DVP_MAILBOX_NFIELDS);
    assert_int_equal(p.connections, 3);
    assert_int_equal(p.timeout_ms, 2500);
    assert_ptr_equal(p.log_ctx, &log);
    dvp_plan_init(&p, &s, 0.0001, &log); /* never a zero deadline */
    assert_int_equal(p.timeout_ms, 1);
    dvp_logger_free(&log);
    dva_settings_free(&s);
}

static void test_tcp_plan_has_no_socket(void **state)
{
    (void)state;
    const char *const pairs[] = {"Host",
                                 "mail1",
                                 "Port",
                                 "2426",
                                 "Password",
                                 "pw",
                                 "CollectStats",
                                 "false",
                                 "TLS",
                                 "tls",
                                 "VerifyHost",
                                 "false",
                                 "ServerName",
                                 "imap.example.com",
                                 NULL};
    dva_settings s;
    settings_from(&s, pairs);
    dvp_logger log;
    dvp_logger_init(&log, "x", s.password);
    dva_scrape_plan p;
    dvp_plan_init(&p, &s, 1, &log);
    assert_null(p.socket_path);
    assert_string_equal(p.host, "mail1");
    assert_int_equal(p.port, 2426);
    assert_string_equal(p.password, "pw");
    assert_false(p.stats);
    assert_int_equal(p.tls.mode, DVA_TLS_IMMEDIATE);
    assert_false(p.tls.skip_verify_peer);
    assert_true(p.tls.skip_verify_host);
    assert_string_equal(p.server_name, "imap.example.com");
    dvp_logger_free(&log);
    dva_settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_socket_plan),
        cmocka_unit_test(test_tcp_plan_has_no_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
