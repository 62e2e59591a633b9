/* SPDX-License-Identifier: MIT */
/* Scrape results -> collectd values (plugin_submit.c), with results built
 * from replies captured from Dovecot 2.3.19. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectd_stubs.h"
#include "plugin_log.h"
#include "plugin_names.h"
#include "plugin_submit.h"
#include "plugin_test_util.h"

#define INTERVAL TIME_T_TO_CDTIME_T_STATIC(30)
#define WHEN TIME_T_TO_CDTIME_T_STATIC(1700000100)

typedef tu_submit_fixture fixture;

static int setup(void **state)
{
    return tu_submit_setup(state, NULL, INTERVAL);
}

static int setup_report_host(void **state)
{
    return tu_submit_setup(state, "mail1.example.com", INTERVAL);
}

static size_t run(fixture *f)
{
    dvp_logger_new_read(&f->log);
    size_t n = dvp_submit_result(&f->submit, &f->result, WHEN);
    assert_int_equal(n, stub_nvalues);
    return n;
}

static void expect_gauge(const char *type, const char *ti, double want)
{
    const stub_value *v = stub_find(type, ti);
    if (v == NULL) {
        stub_dump();
        fail_msg("no value %s-%s", type, ti);
    }
    if (fabs(v->value.gauge - want) > 1e-9) {
        fail_msg("%s-%s is %.17g, expected %.17g", type, ti, v->value.gauge, want);
    }
}

static void expect_derive(const char *ti, int64_t want)
{
    const stub_value *v = stub_find("derive", ti);
    if (v == NULL) {
        stub_dump();
        fail_msg("no value derive-%s", ti);
    }
    assert_int_equal(v->value.derive, want);
}

static void expect_none(const char *type, const char *ti)
{
    if (stub_find(type, ti) != NULL) {
        stub_dump();
        fail_msg("unexpected value %s-%s", type, ti);
    }
}

/* Every value of the read names the same plugin, instance and time. */
static void expect_identifiers(const char *host)
{
    for (size_t i = 0; i < stub_nvalues; i++) {
        const value_list_t *vl = &stub_values[i].vl;
        assert_string_equal(vl->host, host);
        assert_string_equal(vl->plugin, "dovecot");
        assert_string_equal(vl->plugin_instance, "local");
        assert_int_equal(vl->interval, INTERVAL);
        assert_int_equal(vl->time, WHEN);
        for (const char *p = vl->type_instance; *p != '\0'; p++)
            assert_true(dvp_name_byte_ok((unsigned char)*p));
    }
}

static void test_self_values(void **state)
{
    fixture *f = *state;
    assert_int_equal(run(f), 2);
    expect_gauge("bool", "up", 1);
    expect_gauge("duration", "read", 0.042);
    expect_identifiers(""); /* collectd fills in its host name */
}

static void test_report_host(void **state)
{
    fixture *f = *state;
    tu_result_who(&f->result, "who.bin");
    run(f);
    assert_true(stub_nvalues > 2);
    expect_identifiers("mail1.example.com");
}

static void test_server_down_reports_up_zero_only(void **state)
{
    fixture *f = *state;
    f->result.up = false;
    f->result.down_reason.code = DVA_ERR_CONNECT;
    tu_fail_step(&f->result.stats_step, DVA_ERR_CONNECT, "connect failed");
    tu_fail_step(&f->result.who_step, DVA_ERR_CONNECT, "connect failed");
    assert_int_equal(run(f), 2);
    expect_gauge("bool", "up", 0);
    expect_gauge("duration", "read", 0.042);
}

static void test_stats_from_capture(void **state)
{
    fixture *f = *state;
    tu_result_stats(&f->result, "stats_dump.bin");
    /* 10 metrics, each: count, sum, 6 gauges; plus up and read; but
     * auth_failure has no events, so no min/max/... (NaN). */
    assert_int_equal(run(f), 2 + 10 * 8 - 6);
    expect_derive("imap_command", 46);
    expect_derive("imap_command-sum_us", 102279);
    expect_gauge("gauge", "imap_command-min_us", 24);
    expect_gauge("gauge", "imap_command-max_us", 8493);
    expect_gauge("gauge", "imap_command-avg_us", 2223.46);
    expect_gauge("gauge", "imap_command-median_us", 1968);
    expect_gauge("gauge", "imap_command-stddev_us", 2024.15);
    expect_gauge("gauge", "imap_command-p95_us", 7684);
    expect_derive("imap_command_APPEND", 31);
    expect_derive("imap_command_APPEND-sum_us", 93844);
    expect_gauge("gauge", "imap_command_EXAMINE-p95_us", 1535);
    expect_derive("auth_failure", 0);
    expect_derive("auth_failure-sum_us", 0);
    expect_none("gauge", "auth_failure-avg_us");
    expect_identifiers("");
}

static void test_stats_other_fields_and_nan(void **state)
{
    fixture *f = *state;
    static dva_stats_row rows[2];
    rows[0] = (dva_stats_row){.metric = "imap_command",
                              .field = "duration",
                              .count = 7,
                              .sum = 700,
                              .min = NAN,
                              .max = 300,
                              .avg = 100,
                              .median = NAN,
                              .stddev = 5,
                              .p95 = 290};
    rows[1] = (dva_stats_row){.metric = "imap_command",
                              .field = "bytes_in",
                              .count = 7,
                              .sum = 4096,
                              .min = 10,
                              .max = 2000,
                              .avg = 585.14,
                              .median = 100,
                              .stddev = NAN,
                              .p95 = 1900};
    f->result.stats_step.attempted = true;
    f->result.stats.rows = malloc(sizeof(rows));
    assert_non_null(f->result.stats.rows);
    memcpy(f->result.stats.rows, rows, sizeof(rows));
    f->result.stats.nrows = 2;
    /* count once, sum + 4 gauges, sum + 5 gauges */
    assert_int_equal(run(f), 2 + 1 + 5 + 6);
    expect_derive("imap_command", 7);
    expect_derive("imap_command-sum_us", 700);
    expect_none("gauge", "imap_command-min_us");
    expect_none("gauge", "imap_command-median_us");
    expect_gauge("gauge", "imap_command-max_us", 300);
    expect_derive("imap_command-bytes_in-sum", 4096);
    expect_gauge("gauge", "imap_command-bytes_in-min", 10);
    expect_gauge("gauge", "imap_command-bytes_in-avg", 585.14);
    expect_gauge("gauge", "imap_command-bytes_in-p95", 1900);
    expect_none("gauge", "imap_command-bytes_in-stddev");
    /* The repeated count is not a collision worth a warning. */
    assert_int_equal(stub_count_logs(-1, ""), 0);
}

static void test_who_from_capture(void **state)
{
    fixture *f = *state;
    tu_result_who(&f->result, "who.bin");
    assert_int_equal(run(f), 2 + 4);
    expect_gauge("users", "", 2);
    expect_gauge("current_sessions", "", 3);
    expect_gauge("users", "imap", 2);
    expect_gauge("current_sessions", "imap", 3);
}

static void test_quota_from_capture(void **state)
{
    fixture *f = *state;
    tu_user_quota(tu_result_user(&f->result, "alice@example.com"), "quota_alice.bin");
    tu_user_quota(tu_result_user(&f->result, "bob@example.com"), "quota_bob.bin");
    assert_int_equal(run(f), 2 + 2 * 6);
    expect_gauge("bytes", "alice@example.com-User_quota-used", 29 * 1024.0);
    expect_gauge("bytes", "alice@example.com-User_quota-limit", 10240 * 1024.0);
    expect_gauge("percent", "alice@example.com-User_quota-storage", 0);
    expect_gauge("email_count", "alice@example.com-User_quota-used", 6);
    expect_gauge("email_count", "alice@example.com-User_quota-limit", 1000);
    expect_gauge("percent", "alice@example.com-User_quota-messages", 0);
    expect_gauge("bytes", "bob@example.com-User_quota-used", 93 * 1024.0);
    expect_gauge("bytes", "bob@example.com-User_quota-limit", 100 * 1024.0);
    expect_gauge("percent", "bob@example.com-User_quota-storage", 93);
    expect_gauge("email_count", "bob@example.com-User_quota-used", 20);
    expect_gauge("percent", "bob@example.com-User_quota-messages", 2);
    expect_identifiers("");
}

static void test_quota_unlimited_has_no_limit(void **state)
{
    fixture *f = *state;
    tu_user_quota(tu_result_user(&f->result, "carol@example.com"), "quota_carol.bin");
    assert_int_equal(run(f), 2 + 2);
    expect_gauge("bytes", "carol@example.com-User_quota-used", 7 * 1024.0);
    expect_gauge("email_count", "carol@example.com-User_quota-used", 3);
    expect_none("bytes", "carol@example.com-User_quota-limit");
    expect_none("email_count", "carol@example.com-User_quota-limit");
    expect_none("percent", "carol@example.com-User_quota-storage");
    expect_none("percent", "carol@example.com-User_quota-messages");
}

static void test_quota_error_rows_skipped(void **state)
{
    fixture *f = *state;
    /* dave: every value "error" (decoded from the -TEMPFAIL reply). */
    tu_user_quota(tu_result_user(&f->result, "dave@example.com"), "quota_dave.bin");
    tu_user_quota(tu_result_user(&f->result, "alice@example.com"), "quota_alice.bin");
    assert_int_equal(f->result.users[0].quota.nrows, 2);
    assert_true(f->result.users[0].quota.rows[0].error);
    assert_int_equal(run(f), 2 + 6);
    assert_false(stub_anywhere("dave"));
}

static void test_percent_clamped(void **state)
{
    fixture *f = *state;
    dva_scrape_user *u = tu_result_user(&f->result, "erin@example.org");
    tu_user_quota_row(u, "User quota", DVA_QUOTA_STORAGE, 150, 100, 150);
    run(f);
    expect_gauge("percent", "erin@example.org-User_quota-storage", 100);
    expect_gauge("bytes", "erin@example.org-User_quota-used", 150 * 1024.0);
}

/* Four users of two domains (alice, bob, carol of example.com; erin of
 * example.org), as the captures give them, plus one without a domain. */
static void series_users(fixture *f, dva_quota_series mode, size_t top)
{
    dvp_series_free(&f->submit.series);
    dvp_series_init(&f->submit.series, mode, top, 90);
    tu_user_quota(tu_result_user(&f->result, "alice@example.com"), "quota_alice.bin");
    tu_user_quota(tu_result_user(&f->result, "bob@example.com"), "quota_bob.bin");
    tu_user_quota(tu_result_user(&f->result, "carol@example.com"), "quota_carol.bin");
    dva_scrape_user *erin = tu_result_user(&f->result, "erin@example.org");
    tu_user_quota_row(erin, "User quota", DVA_QUOTA_STORAGE, 150, 100, 150);
    dva_scrape_user *root = tu_result_user(&f->result, "root");
    tu_user_quota_row(root, "User quota", DVA_QUOTA_STORAGE, 95, 100, 95);
}

static void test_series_domain(void **state)
{
    fixture *f = *state;
    series_users(f, DVA_QUOTA_SERIES_DOMAIN, 0);
    /* example.com: 5 a resource; example.org and "_": storage only, 5 each */
    assert_int_equal(run(f), 2 + 10 + 5 + 5);
    expect_gauge("count", "@example.com-User_quota-storage_users", 3);
    expect_gauge("count", "@example.com-User_quota-storage_warning", 1); /* bob 93% */
    expect_gauge("bytes", "@example.com-User_quota-used", (29 + 93 + 7) * 1024.0);
    expect_gauge("bytes", "@example.com-User_quota-limit", (10240 + 100) * 1024.0);
    expect_gauge("percent", "@example.com-User_quota-storage", 93);
    expect_gauge("count", "@example.com-User_quota-messages_users", 3);
    expect_gauge("count", "@example.com-User_quota-messages_warning", 0);
    expect_gauge("email_count", "@example.com-User_quota-used", 6 + 20 + 3);
    expect_gauge("email_count", "@example.com-User_quota-limit", 1000 + 1000);
    expect_gauge("percent", "@example.com-User_quota-messages", 2);
    expect_gauge("percent", "@example.org-User_quota-storage", 100); /* clamped */
    expect_gauge("count", "@example.org-User_quota-storage_warning", 1);
    expect_gauge("count", "@_-User_quota-storage_users", 1);
    expect_none("count", "@example.org-User_quota-messages_users");
    assert_false(stub_anywhere("alice"));
    expect_identifiers("");
    /* A second read: the same values, nothing carried over. */
    stub_clear_captures();
    assert_int_equal(run(f), 2 + 10 + 5 + 5);
    expect_gauge("count", "@example.com-User_quota-storage_users", 3);
}

static void test_series_top(void **state)
{
    fixture *f = *state;
    series_users(f, DVA_QUOTA_SERIES_TOP, 2);
    /* erin (150%) and root (95%): 3 values each */
    assert_int_equal(run(f), 2 + 3 + 3);
    expect_gauge("percent", "erin@example.org-User_quota-storage", 100);
    expect_gauge("bytes", "root-User_quota-used", 95 * 1024.0);
    assert_false(stub_anywhere("bob"));
    expect_identifiers("");
    stub_clear_captures();
    dvp_series_free(&f->submit.series);
    dvp_series_init(&f->submit.series, DVA_QUOTA_SERIES_TOP, 3, 90);
    assert_int_equal(run(f), 2 + 3 + 3 + 6); /* bob (93%) too */
    expect_gauge("bytes", "bob@example.com-User_quota-used", 93 * 1024.0);
    assert_false(stub_anywhere("alice"));
}

static void test_series_none(void **state)
{
    fixture *f = *state;
    series_users(f, DVA_QUOTA_SERIES_NONE, 0);
    assert_int_equal(run(f), 2);
}

static void test_failed_steps_dispatch_nothing(void **state)
{
    fixture *f = *state;
    /* Data present, but each step failed: none of it may be reported. */
    tu_result_stats(&f->result, "stats_dump.bin");
    tu_fail_step(&f->result.stats_step, DVA_ERR_DECODE, "bad stats");
    tu_result_who(&f->result, "who.bin");
    tu_fail_step(&f->result.who_step, DVA_ERR_TIMEOUT, "timed out");
    dva_scrape_user *u = tu_result_user(&f->result, "alice@example.com");
    tu_user_quota(u, "quota_alice.bin");
    tu_fail_user_step(&u->quota_step, DVA_ERR_CLOSED, "closed");
    tu_user_mailbox(u, "mailbox_status_alice.bin");
    tu_fail_user_step(&u->mailbox_step, DVA_ERR_TIMEOUT, "timed out");
    /* Never attempted: nothing either. */
    dva_scrape_user *b = tu_result_user(&f->result, "bob@example.com");
    tu_user_quota(b, "quota_bob.bin");
    b->quota_step.attempted = false;
    assert_int_equal(run(f), 2);
    expect_gauge("bool", "up", 1);
}

static void test_mailbox_from_capture(void **state)
{
    fixture *f = *state;
    dva_scrape_user *u = tu_result_user(&f->result, "alice@example.com");
    tu_user_mailbox(u, "mailbox_status_alice.bin");
    tu_user_mailbox(u, "mailbox_status_alice.bin"); /* a second mask: INBOX again */
    dva_scrape_user *d = tu_result_user(&f->result, "dave@example.com");
    tu_user_mailbox(d, "mailbox_status_dave.bin"); /* no mailbox at all */
    assert_int_equal(run(f), 2 + 3);
    expect_gauge("email_count", "alice@example.com-INBOX-messages", 6);
    expect_gauge("email_count", "alice@example.com-INBOX-unseen", 6);
    expect_gauge("email_size", "alice@example.com-INBOX", 29500);
    /* A mailbox matched by two masks is reported once, silently... */
    assert_int_equal(stub_count_logs(-1, ""), 0);
}

/* Rows that would share an identifier: names equal after sanitising, or
 * a '-' moving between the user and the root. The first is reported, the
 * second not (once warned); another resource of the same prefix is. */
static void test_quota_rows_with_one_identifier(void **state)
{
    fixture *f = *state;
    tu_user_quota_row(tu_result_user(&f->result, "a b@x"), "q", DVA_QUOTA_STORAGE, 1,
                      10, 10);
    tu_user_quota_row(tu_result_user(&f->result, "a_b@x"), "q", DVA_QUOTA_STORAGE, 2,
                      10, 20);
    tu_user_quota_row(tu_result_user(&f->result, "a_b@x"), "q", DVA_QUOTA_MESSAGE, 3,
                      10, 30);
    tu_user_quota_row(tu_result_user(&f->result, "c-d"), "e", DVA_QUOTA_STORAGE, 4, 10,
                      40);
    tu_user_quota_row(tu_result_user(&f->result, "c"), "d-e", DVA_QUOTA_STORAGE, 5, 10,
                      50);
    run(f);
    expect_gauge("bytes", "a_b@x-q-used", 1024);
    expect_gauge("email_count", "a_b@x-q-used", 3);
    expect_gauge("bytes", "c-d-e-used", 4096);
    assert_int_equal(stub_count_logs(LOG_WARNING, "bytes-a_b@x-q-used in one read"), 1);
    assert_int_equal(stub_count_logs(LOG_WARNING, "bytes-c-d-e-used in one read"), 1);
    /* The next read starts afresh. */
    stub_reset();
    run(f);
    expect_gauge("bytes", "a_b@x-q-used", 1024);
}

static void test_sanitised_names(void **state)
{
    fixture *f = *state;
    dva_scrape_user *u = tu_result_user(&f->result, "j\xc3\xbcrgen/x y@example.com");
    tu_user_quota_row(u, "User quota\t1", DVA_QUOTA_MESSAGE, 5, 10, 50);
    run(f);
    expect_gauge("email_count", "j__rgen_x_y@example.com-User_quota_1-used", 5);
    expect_gauge("percent", "j__rgen_x_y@example.com-User_quota_1-messages", 50);

    char out[16];
    const char *parts[] = {"a b", "c+d=e", "f/g"};
    assert_true(dvp_name_join(out, sizeof(out), parts, 3));
    assert_string_equal(out, "a_b-c+d=e-f_g");
    assert_false(dvp_name_join(out, 8, parts, 3));
    assert_string_equal(out, "a_b-c+d");
    /* Appending: a part that does not fit is cut where the room ends. */
    size_t pos = 0;
    assert_true(dvp_name_append(out, 8, &pos, "a b"));
    assert_int_equal(pos, 3);
    assert_true(dvp_name_append(out, 8, &pos, "c/d"));
    assert_string_equal(out, "a_bc_d");
    assert_false(dvp_name_append(out, 8, &pos, "xyz"));
    assert_int_equal(pos, 7);
    assert_string_equal(out, "a_bc_dx");
    assert_true(dvp_name_append(out, 8, &pos, ""));
    assert_false(dvp_name_append(out, 8, &pos, "q"));
    assert_string_equal(out, "a_bc_dx");
    /* Every byte: kept exactly when dvp_name_byte_ok() says so. */
    for (unsigned c = 1; c < 256; c++) {
        char one[2] = {(char)c, '\0'};
        pos = 0;
        assert_true(dvp_name_append(out, sizeof(out), &pos, one));
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || strchr("@._+=-", (int)c) != NULL;
        assert_int_equal(dvp_name_byte_ok((unsigned char)c), ok);
        assert_int_equal((unsigned char)out[0], ok ? c : '_');
        assert_int_equal(dvp_name_clean(one), ok);
    }
    assert_true(dvp_name_clean("alice@example.com"));
    assert_false(dvp_name_clean("a b"));
    assert_false(dvp_name_clean(""));
}

static void test_collisions_reported_once(void **state)
{
    fixture *f = *state;
    tu_user_quota_row(tu_result_user(&f->result, "a b@example.com"), "q",
                      DVA_QUOTA_MESSAGE, 1, 0, 0);
    f->result.users[0].quota.rows[0].unlimited = true;
    tu_user_quota_row(tu_result_user(&f->result, "a_b@example.com"), "q",
                      DVA_QUOTA_MESSAGE, 2, 0, 0);
    f->result.users[1].quota.rows[0].unlimited = true;
    assert_int_equal(run(f), 2 + 1);
    expect_gauge("email_count", "a_b@example.com-q-used", 1); /* the first wins */
    assert_int_equal(stub_count_logs(LOG_WARNING, "a_b@example.com-q-used"), 1);
    stub_clear_captures();
    run(f);
    assert_int_equal(stub_count_logs(LOG_WARNING, ""), 0);
}

static void test_overlong_names_skipped(void **state)
{
    fixture *f = *state;
    char user[200];
    memset(user, 'u', sizeof(user));
    memcpy(user + sizeof(user) - 13, "@example.com", 13);
    dva_scrape_user *u = tu_result_user(&f->result, user);
    tu_user_quota(u, NULL);
    dva_scrape_user *a = tu_result_user(&f->result, "alice@example.com");
    tu_user_quota(a, "quota_alice.bin");
    u = &f->result.users[0];
    tu_user_quota_row(u, "User quota", DVA_QUOTA_STORAGE, 1, 2, 50);
    assert_int_equal(run(f), 2 + 6); /* alice only */
    for (size_t i = 0; i < stub_nvalues; i++)
        assert_null(strstr(stub_values[i].vl.type_instance, "uuuu"));
    /* One warning per name (used, limit, percent), not one per read. */
    assert_int_equal(stub_count_logs(LOG_WARNING, "more than the 127"), 3);
    assert_int_equal(stub_count_logs(LOG_WARNING, "instance \"local\""), 3);
    for (int i = 0; i < 2; i++) {
        stub_clear_captures();
        run(f);
        assert_int_equal(stub_count_logs(LOG_WARNING, ""), 0);
    }
}

/* The row's prefix "<user>-<root>-" fits but not with its last part: only
 * the values whose names are too long are skipped, with the same warning. */
static void test_overlong_last_part_skipped(void **state)
{
    fixture *f = *state;
    char user[128];
    /* "<user>-q-" + "used" is 127 bytes, + "limit" or "storage" more */
    memset(user, 'u', 127 - strlen("-q-used"));
    user[127 - strlen("-q-used")] = '\0';
    dva_scrape_user *u = tu_result_user(&f->result, user);
    tu_user_quota_row(u, "q", DVA_QUOTA_STORAGE, 1, 2, 50);
    assert_int_equal(run(f), 2 + 1);
    char used[160];
    snprintf(used, sizeof(used), "%s-q-used", user);
    expect_gauge("bytes", used, 1024);
    assert_int_equal(stub_count_logs(LOG_WARNING, "more than the 127"), 2);
    assert_int_equal(stub_count_logs(LOG_WARNING, "bytes name"), 1);
    assert_int_equal(stub_count_logs(LOG_WARNING, "percent name"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_self_values, setup, tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_report_host, setup_report_host,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_server_down_reports_up_zero_only, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_stats_from_capture, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_stats_other_fields_and_nan, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_who_from_capture, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_quota_from_capture, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_quota_unlimited_has_no_limit, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_quota_error_rows_skipped, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_series_domain, setup, tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_series_top, setup, tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_series_none, setup, tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_percent_clamped, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_failed_steps_dispatch_nothing, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_mailbox_from_capture, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_quota_rows_with_one_identifier, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_sanitised_names, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_collisions_reported_once, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_overlong_last_part_skipped, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_overlong_names_skipped, setup,
                                        tu_submit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
