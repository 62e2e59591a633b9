/* SPDX-License-Identifier: MIT */
/* The check tool's output and status: PUTVAL lines, value formatting, the
 * verdict on a read, and that values pass through the plugin's own submit
 * module unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check_host.h"
#include "check_output.h"
#include "plugin_submit.h"

static char *capture_text(void (*print)(FILE *, const chk_capture *),
                          const chk_capture *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    print(f, c);
    fclose(f);
    return buf;
}

static chk_value value(const char *host, const char *type, const char *ti,
                       chk_ds_type ds, double gauge, int64_t derive)
{
    chk_value v;
    memset(&v, 0, sizeof(v));
    snprintf(v.host, sizeof(v.host), "%s", host);
    snprintf(v.plugin, sizeof(v.plugin), "dovecot");
    snprintf(v.plugin_instance, sizeof(v.plugin_instance), "local");
    snprintf(v.type, sizeof(v.type), "%s", type);
    snprintf(v.type_instance, sizeof(v.type_instance), "%s", ti);
    v.ds_type = ds;
    if (ds == CHK_GAUGE)
        v.value.gauge = gauge;
    else
        v.value.derive = derive;
    v.time = TIME_T_TO_CDTIME_T(1700000000);
    v.interval = TIME_T_TO_CDTIME_T(10);
    return v;
}

static void test_putval_lines(void **state)
{
    (void)state;
    chk_value vals[3] = {
        value("mail1", "bool", "up", CHK_GAUGE, 1, 0),
        value("mail1", "users", "", CHK_GAUGE, 4, 0),
        value("a\"b\\c", "derive", "imap_command", CHK_DERIVE, 0, 68),
    };
    vals[1].interval = 0;
    chk_capture c = {.values = vals, .nvalues = 3};
    char *text = capture_text(chk_print_putval, &c);
    assert_string_equal(
        text,
        "PUTVAL \"mail1/dovecot-local/bool-up\" interval=10.000 1700000000.000:1\n"
        "PUTVAL \"mail1/dovecot-local/users\" 1700000000.000:4\n"
        "PUTVAL \"a\\\"b\\\\c/dovecot-local/derive-imap_command\" interval=10.000 "
        "1700000000.000:68\n");
    free(text);
}

static void test_format_value(void **state)
{
    (void)state;
    char buf[64];
    chk_value v = value("h", "gauge", "x", CHK_GAUGE, 96.2, 0);
    chk_format_value(&v, buf, sizeof(buf));
    assert_string_equal(buf, "96.2");
    v.value.gauge = 0.0 / 0.0;
    chk_format_value(&v, buf, sizeof(buf));
    assert_string_equal(buf, "U");
    v = value("h", "derive", "x", CHK_DERIVE, 0, INT64_MAX);
    chk_format_value(&v, buf, sizeof(buf));
    assert_string_equal(buf, "9223372036854775807");
}

static void test_table_lists_values_and_notifications(void **state)
{
    (void)state;
    chk_value vals[2] = {value("mail1", "bool", "up", CHK_GAUGE, 1, 0),
                         value("mail1", "percent", "bob-q-storage", CHK_GAUGE, 93, 0)};
    chk_notification n = {.severity = NOTIF_WARNING};
    snprintf(n.type, sizeof(n.type), "percent");
    snprintf(n.type_instance, sizeof(n.type_instance), "bob-q-storage");
    snprintf(n.message, sizeof(n.message), "Quota of bob is at 93%%");
    chk_capture c = {
        .values = vals, .nvalues = 2, .notifications = &n, .nnotifications = 1};
    char *text = capture_text(chk_print_table, &c);
    assert_non_null(strstr(text, "mail1/dovecot-local: 2 values\n"));
    assert_non_null(strstr(text, "  bool-up                1\n")); /* aligned */
    assert_non_null(strstr(text, "  percent-bob-q-storage  93\n"));
    assert_non_null(
        strstr(text, "WARNING percent-bob-q-storage: Quota of bob is at 93%\n"));
    free(text);
}

/* ---- the verdict ---- */

static dva_quota_row rows[4];

static void result_with_quota(dva_scrape_result *r, dva_scrape_user *u,
                              uint64_t storage, uint64_t messages)
{
    memset(r, 0, sizeof(*r));
    memset(u, 0, sizeof(*u));
    memset(rows, 0, sizeof(rows));
    r->up = true;
    r->duration_ms = 12;
    r->users = u;
    r->nusers = 1;
    u->name = "bob@example.com";
    u->quota_step.attempted = true;
    u->quota.rows = rows;
    u->quota.nrows = 4;
    rows[0] = (dva_quota_row){.user = u->name,
                              .root = "User quota",
                              .type = DVA_QUOTA_STORAGE,
                              .value = 1,
                              .limit = 2,
                              .percent = storage};
    rows[1] = (dva_quota_row){.user = u->name,
                              .root = "User quota",
                              .type = DVA_QUOTA_MESSAGE,
                              .value = 1,
                              .limit = 2,
                              .percent = messages};
    /* Never counted: an error row, an unlimited one. */
    rows[2] = (dva_quota_row){.user = u->name,
                              .root = "Other",
                              .type = DVA_QUOTA_STORAGE,
                              .error = true,
                              .percent = 100};
    rows[3] = (dva_quota_row){.user = u->name,
                              .root = "Other",
                              .type = DVA_QUOTA_MESSAGE,
                              .unlimited = true,
                              .percent = 100};
}

static void test_verdict_levels(void **state)
{
    (void)state;
    dva_scrape_result r;
    dva_scrape_user u;
    chk_verdict v;

    result_with_quota(&r, &u, 50, 10);
    chk_verdict_of(&r, 90, 98, "sock", &v);
    assert_int_equal(v.status, CHK_OK);
    assert_non_null(
        strstr(v.summary, "sock answered in 0.012 s; 1 user, 2 quotas checked"));

    result_with_quota(&r, &u, 90, 10); /* at the threshold counts */
    chk_verdict_of(&r, 90, 98, "sock", &v);
    assert_int_equal(v.status, CHK_WARNING);
    assert_non_null(strstr(v.summary, "1 quota at or above 90%: bob@example.com (User "
                                      "quota, storage) 90%"));

    result_with_quota(&r, &u, 93, 120); /* unclamped percent */
    chk_verdict_of(&r, 90, 98, "sock", &v);
    assert_int_equal(v.status, CHK_CRITICAL);
    assert_non_null(strstr(v.summary, "(User quota, messages) 120%"));

    result_with_quota(&r, &u, 99, 99); /* thresholds 0: off */
    chk_verdict_of(&r, 0, 0, "sock", &v);
    assert_int_equal(v.status, CHK_OK);
}

static void test_verdict_failed_step_and_down(void **state)
{
    (void)state;
    dva_scrape_result r;
    dva_scrape_user u;
    chk_verdict v;

    result_with_quota(&r, &u, 95, 0);
    r.who_step.attempted = true;
    r.who_step.error.code = DVA_ERR_PROTOCOL;
    chk_verdict_of(&r, 90, 98, "sock", &v);
    assert_int_equal(v.status, CHK_UNKNOWN); /* could not check everything */
    assert_non_null(strstr(v.summary, "1 step failed: who"));
    assert_non_null(strstr(v.summary, "1 quota at or above 90%"));

    rows[0].percent = 99; /* CRITICAL wins over a failed step */
    chk_verdict_of(&r, 90, 98, "sock", &v);
    assert_int_equal(v.status, CHK_CRITICAL);

    memset(&r, 0, sizeof(r));
    r.up = false;
    dva_fail(&r.down_reason, DVA_ERR_AUTH, "tcp:h:2425 rejected the password");
    chk_verdict_of(&r, 90, 98, "h port 2425", &v);
    assert_int_equal(v.status, CHK_UNKNOWN);
    assert_string_equal(v.summary, "Dovecot at h port 2425 does not answer: tcp:h:2425 "
                                   "rejected the password");
}

static void test_status_line(void **state)
{
    (void)state;
    chk_verdict v = {.status = CHK_WARNING};
    snprintf(v.summary, sizeof(v.summary), "x");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    chk_print_status(f, &v);
    fclose(f);
    assert_string_equal(buf, "DOVECOT WARNING - x\n");
    free(buf);
}

/* The plugin's own submit module fills the capture: identifiers, host. */
static void test_values_come_from_the_plugin_submit_module(void **state)
{
    (void)state;
    dva_scrape_result r;
    dva_scrape_user u;
    result_with_quota(&r, &u, 93, 10);
    chk_host_set_hostname("checkhost");
    dvp_logger log;
    dvp_logger_init(&log, "local", NULL);
    dvp_submit s;
    dvp_submit_init(&s, "local", NULL, TIME_T_TO_CDTIME_T(10), &log);
    size_t n = dvp_submit_result(&s, &r, TIME_T_TO_CDTIME_T(1700000000));
    assert_int_equal(n, chk_captured.nvalues);
    const chk_value *pct = NULL;
    for (size_t i = 0; i < chk_captured.nvalues; i++)
        if (strcmp(chk_captured.values[i].type, "percent") == 0 &&
            strcmp(chk_captured.values[i].type_instance,
                   "bob@example.com-User_quota-storage") == 0)
            pct = &chk_captured.values[i];
    assert_non_null(pct);
    assert_string_equal(pct->host, "checkhost");
    assert_string_equal(pct->plugin_instance, "local");
    assert_true(pct->value.gauge == 93.0);
    assert_int_equal(chk_captured.values[0].ds_type, CHK_GAUGE); /* bool-up */
    dvp_submit_free(&s);
    dvp_logger_free(&log);
    chk_host_reset();
}

static void test_ds_types_from_types_db(void **state)
{
    (void)state;
    char path[] = "/tmp/dva-types-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# comment\nbytes value:GAUGE:0:U\nmy_counter value:COUNTER:0:U\n"
          "two a:DERIVE:0:U, b:DERIVE:0:U\n",
          f);
    fclose(f);
    assert_int_equal(chk_host_load_types(path), 0);
    unlink(path);
    assert_int_equal(chk_host_ds_type("my_counter"), CHK_COUNTER);
    assert_int_equal(chk_host_ds_type("bytes"), CHK_GAUGE);
    assert_int_equal(chk_host_ds_type("derive"), CHK_DERIVE); /* by name */
    assert_int_equal(chk_host_ds_type("nosuch"), CHK_GAUGE);
    assert_int_equal(chk_host_load_types("/nonexistent/types.db"), -1);
    chk_host_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_putval_lines),
        cmocka_unit_test(test_format_value),
        cmocka_unit_test(test_table_lists_values_and_notifications),
        cmocka_unit_test(test_verdict_levels),
        cmocka_unit_test(test_verdict_failed_step_and_down),
        cmocka_unit_test(test_status_line),
        cmocka_unit_test(test_values_come_from_the_plugin_submit_module),
        cmocka_unit_test(test_ds_types_from_types_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
