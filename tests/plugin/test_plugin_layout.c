/* SPDX-License-Identifier: MIT */
/* IdentifierLayout "labels" (plugin_layout.c, and its call sites in
 * plugin_submit.c): the user or old-statistics key alone in the type
 * instance, the rest after the instance in the plugin instance; every
 * other value as in the classic layout (test_plugin_submit.c). Results
 * from replies captured from Dovecot 2.3.19. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collectd_stubs.h"
#include "plugin_layout.h"
#include "plugin_log.h"
#include "plugin_notify.h"
#include "plugin_submit.h"
#include "plugin_test_util.h"

#define INTERVAL TIME_T_TO_CDTIME_T_STATIC(30)
#define WHEN TIME_T_TO_CDTIME_T_STATIC(1700000100)

typedef tu_submit_fixture fixture;

static int setup(void **state)
{
    int rc = tu_submit_setup(state, NULL, INTERVAL);
    fixture *f = *state;
    f->submit.layout = DVA_LAYOUT_LABELS;
    return rc;
}

static void run(fixture *f)
{
    dvp_logger_new_read(&f->log);
    size_t n = dvp_submit_result(&f->submit, &f->result, WHEN);
    assert_int_equal(n, stub_nvalues);
}

static const stub_value *find(const char *pi, const char *type, const char *ti)
{
    for (size_t i = 0; i < stub_nvalues; i++) {
        const value_list_t *vl = &stub_values[i].vl;
        if (strcmp(vl->plugin_instance, pi) == 0 && strcmp(vl->type, type) == 0 &&
            strcmp(vl->type_instance, ti) == 0)
            return &stub_values[i];
    }
    return NULL;
}

static void expect_gauge(const char *pi, const char *type, const char *ti, double want)
{
    const stub_value *v = find(pi, type, ti);
    if (v == NULL) {
        stub_dump();
        fail_msg("no value dovecot-%s/%s-%s", pi, type, ti);
    }
    if (fabs(v->value.gauge - want) > 1e-9)
        fail_msg("%s/%s-%s is %.17g, expected %.17g", pi, type, ti, v->value.gauge,
                 want);
}

static void test_split(void **state)
{
    (void)state;
    char pi[DATA_MAX_NAME_LEN], ti[DATA_MAX_NAME_LEN];
    const char *user = "alice@example.com-User_quota-used";
    assert_true(
        dvp_layout_labels("local", user, (dvp_layout_key){0, 17}, pi, ti, sizeof(pi)));
    assert_string_equal(pi, "local-User_quota-used");
    assert_string_equal(ti, "alice@example.com");
    /* a key after a part: old statistics */
    assert_true(dvp_layout_labels("local", "old_user-bob-num_cmds",
                                  (dvp_layout_key){9, 3}, pi, ti, sizeof(pi)));
    assert_string_equal(pi, "local-old_user-num_cmds");
    assert_string_equal(ti, "bob");
    /* a name with '-' in it stays whole: the key's length says where it ends */
    assert_true(dvp_layout_labels("mail-1", "a-b@x-INBOX", (dvp_layout_key){0, 5}, pi,
                                  ti, sizeof(pi)));
    assert_string_equal(pi, "mail-1-INBOX");
    assert_string_equal(ti, "a-b@x");
    /* in place (ti_out is ti) */
    char buf[DATA_MAX_NAME_LEN] = "carol-R-limit";
    assert_true(
        dvp_layout_labels("i", buf, (dvp_layout_key){0, 5}, pi, buf, sizeof(pi)));
    assert_string_equal(pi, "i-R-limit");
    assert_string_equal(buf, "carol");
    /* no key, a key outside, not after a '-', or a plugin instance too long */
    assert_false(dvp_layout_labels("i", "abc", (dvp_layout_key){0, 0}, pi, ti, 16));
    assert_false(dvp_layout_labels("i", "abc", (dvp_layout_key){2, 2}, pi, ti, 16));
    assert_false(dvp_layout_labels("i", "abc-d", (dvp_layout_key){1, 1}, pi, ti, 16));
    assert_false(dvp_layout_labels("instance", "u-0123456789", (dvp_layout_key){0, 1},
                                   pi, ti, 16));
}

static void test_quota_and_mailbox(void **state)
{
    fixture *f = *state;
    tu_result_who(&f->result, "who.bin");
    tu_user_quota(tu_result_user(&f->result, "alice@example.com"), "quota_alice.bin");
    tu_user_quota(tu_result_user(&f->result, "bob@example.com"), "quota_bob.bin");
    tu_user_mailbox(tu_result_user(&f->result, "alice@example.com"),
                    "mailbox_status_alice.bin");
    run(f);
    expect_gauge("local", "bool", "up", 1);
    expect_gauge("local", "users", "imap", 2); /* server values: as classic */
    expect_gauge("local", "current_sessions", "", 3);
    expect_gauge("local-User_quota-used", "bytes", "alice@example.com", 29 * 1024.0);
    expect_gauge("local-User_quota-limit", "bytes", "alice@example.com",
                 10240 * 1024.0);
    expect_gauge("local-User_quota-storage", "percent", "bob@example.com", 93);
    expect_gauge("local-User_quota-messages", "percent", "bob@example.com", 2);
    expect_gauge("local-User_quota-used", "email_count", "bob@example.com", 20);
    expect_gauge("local-User_quota-limit", "email_count", "bob@example.com", 1000);
    expect_gauge("local-INBOX-messages", "email_count", "alice@example.com", 6);
    expect_gauge("local-INBOX-unseen", "email_count", "alice@example.com", 6);
    expect_gauge("local-INBOX", "email_size", "alice@example.com", 29500);
    /* the same values as the classic layout, only named the other way */
    assert_int_equal(stub_nvalues, 2 + 4 + 2 * 6 + 3); /* self, who, quota, INBOX */
    for (size_t i = 0; i < stub_nvalues; i++)
        assert_null(strchr(stub_values[i].vl.type_instance, '-'));
}

static void test_old_stats_keys(void **state)
{
    fixture *f = *state;
    dva_scrape_oldstats *o = &f->result.oldstats[DVA_OLDSTATS_USER];
    dva_error err;
    assert_int_equal(dva_oldstats_layout_init(&o->layout, DVA_GEN_23, DVA_OLDSTATS_USER,
                                              NULL, 0, &err),
                     0);
    tu_parse_capture("oldstats_user.bin", 0, &o->reply);
    assert_int_equal(dva_oldstats_decode(&o->reply, &o->layout, &o->stats, &err), 0);
    o->step.attempted = true;
    run(f);
    const stub_value *v = find("local-old_user-num_cmds", "derive", "bob@example.com");
    assert_non_null(v);
    assert_int_equal(v->value.derive, 22);
    assert_non_null(find("local-old_user-user_cpu_us", "derive", "alice@example.com"));
}

/* The plugin instance is the classic type instance with the instance in
 * place of the user: longer when the instance name is. */
static void test_overlong_plugin_instance_skipped(void **state)
{
    fixture *f = *state;
    char root[119];
    memset(root, 'r', sizeof(root) - 1);
    root[sizeof(root) - 1] = '\0';
    tu_user_quota_row(tu_result_user(&f->result, "a"), "R", DVA_QUOTA_STORAGE, 5, 10,
                      50);
    /* type instances of 125 and 126 bytes (b-<118 r>-used, -limit): they fit;
     * local-<118 r>-used and -limit (129, 130 bytes) do not; b-...-messages
     * (129) does not fit either layout */
    tu_user_quota_row(tu_result_user(&f->result, "b"), root, DVA_QUOTA_MESSAGE, 5, 10,
                      50);
    run(f);
    expect_gauge("local-R-storage", "percent", "a", 50);
    for (size_t i = 0; i < stub_nvalues; i++)
        assert_string_not_equal(stub_values[i].vl.type, "email_count");
    assert_int_equal(stub_nvalues, 2 + 3);
    assert_int_equal(stub_count_logs(LOG_WARNING, "labels layout"), 2);
}

/* A quota notification is named as the percent value it is about. */
static void test_quota_notification(void **state)
{
    (void)state;
    stub_reset();
    dvp_logger log;
    dvp_notify notify;
    dvp_logger_init(&log, "local", NULL);
    dvp_notify_init(&notify, "local", NULL, 90, 98, &log);
    notify.layout = DVA_LAYOUT_LABELS;
    dva_scrape_result r;
    tu_result_init(&r);
    tu_user_quota(tu_result_user(&r, "bob@example.com"), "quota_bob.bin"); /* 93 % */
    dvp_logger_new_read(&log);
    dvp_notify_result(&notify, &r, WHEN);
    dva_scrape_result_free(&r);
    assert_int_equal(stub_nnotifications, 1);
    const notification_t *n = &stub_notifications[0];
    assert_int_equal(n->severity, NOTIF_WARNING);
    assert_string_equal(n->plugin_instance, "local-User_quota-storage");
    assert_string_equal(n->type, "percent");
    assert_string_equal(n->type_instance, "bob@example.com");
    assert_non_null(
        strstr(n->message, "Quota of bob@example.com (User quota, storage)"));
    dvp_notify_free(&notify);
    dvp_logger_free(&log);
    stub_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test_setup_teardown(test_quota_and_mailbox, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_old_stats_keys, setup, tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_overlong_plugin_instance_skipped, setup,
                                        tu_submit_teardown),
        cmocka_unit_test(test_quota_notification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
