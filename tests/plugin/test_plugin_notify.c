/* SPDX-License-Identifier: MIT */
/* Edge-triggered notifications and logs (plugin_notify.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectd_stubs.h"
#include "plugin_log.h"
#include "plugin_notify.h"
#include "plugin_test_util.h"

#define NOW TIME_T_TO_CDTIME_T_STATIC(1700000200)
#define PASSWORD "hunter2-secret"

typedef struct {
    dvp_logger log;
    dvp_notify notify;
} fixture;

static int setup_with(void **state, const char *host, double warning, double failure)
{
    stub_reset();
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    dvp_logger_init(&f->log, "local", PASSWORD);
    dvp_notify_init(&f->notify, "local", host, warning, failure, &f->log);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL, 90, 98);
}

static int setup_no_warning(void **state)
{
    return setup_with(state, "mail1", 0, 98);
}

static int teardown(void **state)
{
    fixture *f = *state;
    /* Nothing the plugin said may hold the password. */
    assert_false(stub_anywhere(PASSWORD));
    dvp_notify_free(&f->notify);
    dvp_logger_free(&f->log);
    free(f);
    stub_reset();
    return 0;
}

/* ---- reads ---- */

static void run(fixture *f, dva_scrape_result *r)
{
    dvp_logger_new_read(&f->log);
    dvp_notify_result(&f->notify, r, NOW);
    dva_scrape_result_free(r);
}

static void read_up(fixture *f)
{
    dva_scrape_result r;
    tu_result_init(&r);
    run(f, &r);
}

static void read_down(fixture *f, const char *why)
{
    dva_scrape_result r;
    tu_result_init(&r);
    r.up = false;
    r.down_reason.code = DVA_ERR_CONNECT;
    snprintf(r.down_reason.message, sizeof(r.down_reason.message), "%s", why);
    tu_fail_step(&r.stats_step, DVA_ERR_CONNECT, why);
    tu_fail_step(&r.who_step, DVA_ERR_CONNECT, why);
    dva_scrape_user *u = tu_result_user(&r, "bob@example.com");
    tu_fail_user_step(&u->quota_step, DVA_ERR_CONNECT, why);
    run(f, &r);
}

/* One read where user's only quota row (root "User quota") is at pct. */
static void read_quota(fixture *f, const char *user, dva_quota_type type, uint64_t pct)
{
    dva_scrape_result r;
    tu_result_init(&r);
    dva_scrape_user *u = tu_result_user(&r, user);
    uint64_t limit = type == DVA_QUOTA_STORAGE ? 10240 : 1000;
    tu_user_quota_row(u, "User quota", type, limit * pct / 100, limit, pct);
    run(f, &r);
}

static void read_capture(fixture *f, const char *user, const char *capture)
{
    dva_scrape_result r;
    tu_result_init(&r);
    tu_user_quota(tu_result_user(&r, user), capture);
    run(f, &r);
}

static const notification_t *last_notification(void)
{
    assert_true(stub_nnotifications > 0);
    return &stub_notifications[stub_nnotifications - 1];
}

/* ---- server ---- */

static void test_first_read_up_is_silent(void **state)
{
    fixture *f = *state;
    read_up(f);
    read_capture(f, "alice@example.com", "quota_alice.bin"); /* 0%: OKAY */
    assert_int_equal(stub_nnotifications, 0);
    assert_int_equal(stub_nlogs, 0);
}

static void test_server_down_once_and_recovery_once(void **state)
{
    fixture *f = *state;
    read_up(f);
    for (int i = 0; i < 3; i++)
        read_down(f, "connect(/run/dovecot/doveadm-server) failed: No such file");
    assert_int_equal(stub_nnotifications, 1);
    const notification_t *n = last_notification();
    assert_int_equal(n->severity, NOTIF_FAILURE);
    assert_int_equal(n->time, NOW);
    assert_string_equal(n->host, STUB_HOSTNAME);
    assert_string_equal(n->plugin, "dovecot");
    assert_string_equal(n->plugin_instance, "local");
    assert_string_equal(n->type, "bool");
    assert_string_equal(n->type_instance, "up");
    assert_non_null(strstr(n->message, "No such file"));
    assert_int_equal(stub_count_logs(LOG_ERR, "instance \"local\""), 1);
    assert_int_equal(stub_count_logs(LOG_ERR, "No such file"), 1);
    /* Only the server is reported while it is down: no step warnings. */
    assert_int_equal(stub_nlogs, 1);

    for (int i = 0; i < 2; i++)
        read_up(f);
    assert_int_equal(stub_nnotifications, 2);
    n = last_notification();
    assert_int_equal(n->severity, NOTIF_OKAY);
    assert_string_equal(n->type, "bool");
    assert_string_equal(n->type_instance, "up");
    assert_int_equal(stub_count_logs(LOG_INFO, "answers again"), 1);
    assert_int_equal(stub_nlogs, 2);
}

static void test_first_read_down_notifies(void **state)
{
    fixture *f = *state;
    read_down(f, "connection refused");
    read_down(f, "connection refused");
    assert_int_equal(stub_count_notifications(NOTIF_FAILURE, "connection refused"), 1);
    assert_string_equal(last_notification()->host, "mail1"); /* ReportHost */
}

/* ---- steps ---- */

static void test_step_failure_logged_once(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++) {
        dva_scrape_result r;
        tu_result_init(&r);
        tu_fail_step(&r.stats_step, DVA_ERR_DECODE, "stats dump reply has 9 columns");
        tu_result_who(&r, "who.bin");
        run(f, &r);
    }
    assert_int_equal(stub_count_logs(LOG_WARNING, "stats dump failed"), 1);
    assert_int_equal(stub_count_logs(LOG_WARNING, "9 columns"), 1);
    assert_int_equal(stub_nlogs, 1);
    for (int i = 0; i < 2; i++) {
        dva_scrape_result r;
        tu_result_init(&r);
        tu_result_stats(&r, "stats_dump.bin");
        run(f, &r);
    }
    assert_int_equal(stub_count_logs(LOG_INFO, "stats dump works again"), 1);
    assert_int_equal(stub_nlogs, 2);
    assert_int_equal(stub_nnotifications, 0);
}

static void test_user_quota_failure_streak(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++) {
        dva_scrape_result r;
        tu_result_init(&r);
        dva_scrape_user *d = tu_result_user(&r, "dave@example.com");
        tu_fail_user_step(&d->quota_step, DVA_ERR_COMMAND,
                          "quota get failed: TEMPFAIL");
        /* bob is still reported: he crosses the warning level meanwhile */
        tu_user_quota(tu_result_user(&r, "bob@example.com"), "quota_bob.bin");
        run(f, &r);
    }
    assert_int_equal(stub_count_logs(LOG_WARNING, "\"dave@example.com\""), 1);
    assert_int_equal(stub_count_logs(LOG_WARNING, "TEMPFAIL"), 1);
    assert_int_equal(stub_count_notifications(NOTIF_WARNING, "bob@example.com"), 1);

    read_capture(f, "dave@example.com", "quota_dave.bin"); /* works: error rows */
    read_capture(f, "dave@example.com", "quota_dave.bin");
    assert_int_equal(stub_count_logs(LOG_INFO,
                                     "quota of user \"dave@example.com\" can be "
                                     "read again"),
                     1);
    assert_int_equal(stub_count_notifications(0, "dave"), 0);
}

/* A reason that ends a sentence is not followed by ".;" in the log line. */
static void test_user_failure_reason_full_stop(void **state)
{
    fixture *f = *state;
    dva_scrape_result r;
    tu_result_init(&r);
    dva_scrape_user *u = tu_result_user(&r, "carol@example.com");
    tu_fail_user_step(&u->quota_step, DVA_ERR_DECODE, "Row 1 is for another user.");
    run(f, &r);
    assert_int_equal(stub_count_logs(LOG_WARNING, "another user; the other users are"),
                     1);
    assert_int_equal(stub_count_logs(LOG_WARNING, ".;"), 0);
}

/* ---- quota levels ---- */

static void test_quota_level(void **state)
{
    (void)state;
    assert_int_equal(dvp_quota_level(0, 90, 98), DVP_LEVEL_OKAY);
    assert_int_equal(dvp_quota_level(89, 90, 98), DVP_LEVEL_OKAY);
    assert_int_equal(dvp_quota_level(90, 90, 98), DVP_LEVEL_WARNING);
    assert_int_equal(dvp_quota_level(98, 90, 98), DVP_LEVEL_FAILURE);
    assert_int_equal(dvp_quota_level(250, 90, 98), DVP_LEVEL_FAILURE);
    assert_int_equal(dvp_quota_level(95, 0, 98), DVP_LEVEL_OKAY);
    assert_int_equal(dvp_quota_level(99, 90, 0), DVP_LEVEL_WARNING);
    assert_int_equal(dvp_quota_level(100, 0, 0), DVP_LEVEL_OKAY);
}

static void test_quota_warning_once_over_three_reads(void **state)
{
    fixture *f = *state;
    read_quota(f, "bob@example.com", DVA_QUOTA_STORAGE, 80);
    assert_int_equal(stub_nnotifications, 0);
    read_capture(f, "bob@example.com", "quota_bob.bin"); /* 93 % of 100 KiB */
    read_capture(f, "bob@example.com", "quota_bob.bin");
    assert_int_equal(stub_nnotifications, 1);
    const notification_t *n = last_notification();
    assert_int_equal(n->severity, NOTIF_WARNING);
    assert_string_equal(n->message,
                        "Quota of bob@example.com (User quota, storage) is at "
                        "93% of 100 KiB (warning at 90%)");
    assert_string_equal(n->plugin, "dovecot");
    assert_string_equal(n->plugin_instance, "local");
    assert_string_equal(n->type, "percent");
    assert_string_equal(n->type_instance, "bob@example.com-User_quota-storage");
    assert_string_equal(n->host, STUB_HOSTNAME);
    assert_int_equal(n->time, NOW);
}

static void test_quota_failure_then_back_to_okay(void **state)
{
    fixture *f = *state;
    read_quota(f, "alice@example.com", DVA_QUOTA_STORAGE, 99);
    assert_int_equal(stub_nnotifications, 1);
    assert_int_equal(last_notification()->severity, NOTIF_FAILURE);
    assert_string_equal(
        last_notification()->message,
        "Quota of alice@example.com (User quota, storage) is at 99% of 10 "
        "MiB (failure at 98%)");
    read_quota(f, "alice@example.com", DVA_QUOTA_STORAGE, 100);
    assert_int_equal(stub_nnotifications, 1);
    read_quota(f, "alice@example.com", DVA_QUOTA_STORAGE, 93);
    assert_int_equal(stub_nnotifications, 2);
    assert_int_equal(last_notification()->severity, NOTIF_WARNING);
    read_quota(f, "alice@example.com", DVA_QUOTA_STORAGE, 50);
    assert_int_equal(stub_nnotifications, 3);
    assert_int_equal(last_notification()->severity, NOTIF_OKAY);
    assert_string_equal(
        last_notification()->message,
        "Quota of alice@example.com (User quota, storage) is back at 50% "
        "of 10 MiB (warning at 90%)");
    read_quota(f, "alice@example.com", DVA_QUOTA_STORAGE, 10);
    assert_int_equal(stub_nnotifications, 3);
    assert_int_equal(f->notify.state.count, 0); /* OKAY is not stored */
}

static void test_quota_messages_resource(void **state)
{
    fixture *f = *state;
    read_quota(f, "bob@example.com", DVA_QUOTA_MESSAGE, 91);
    assert_int_equal(stub_nnotifications, 1);
    assert_string_equal(
        last_notification()->message,
        "Quota of bob@example.com (User quota, messages) is at 91% of 1000 "
        "messages (warning at 90%)");
    assert_string_equal(last_notification()->type_instance,
                        "bob@example.com-User_quota-messages");
    /* The storage resource of the same root is a separate condition. */
    read_quota(f, "bob@example.com", DVA_QUOTA_STORAGE, 10);
    assert_int_equal(stub_nnotifications, 1);
}

static void test_quota_threshold_zero_disables(void **state)
{
    fixture *f = *state;
    read_quota(f, "bob@example.com", DVA_QUOTA_STORAGE, 95);
    assert_int_equal(stub_nnotifications, 0);
    read_quota(f, "bob@example.com", DVA_QUOTA_STORAGE, 98);
    assert_int_equal(stub_count_notifications(NOTIF_FAILURE, "(failure at 98%)"), 1);
    assert_string_equal(last_notification()->host, "mail1");
    read_quota(f, "bob@example.com", DVA_QUOTA_STORAGE, 20);
    assert_int_equal(stub_count_notifications(NOTIF_OKAY, "back at 20%"), 1);
}

static void test_state_kept_while_down(void **state)
{
    fixture *f = *state;
    read_capture(f, "bob@example.com", "quota_bob.bin");
    assert_int_equal(stub_nnotifications, 1);
    for (int i = 0; i < DVP_NOTIFY_FORGET_READS + 5; i++)
        read_down(f, "timeout");
    read_up(f);
    read_capture(f, "bob@example.com", "quota_bob.bin");
    /* WARNING, FAILURE (down), OKAY (up): no second quota WARNING. */
    assert_int_equal(stub_nnotifications, 3);
    assert_int_equal(stub_count_notifications(NOTIF_WARNING, ""), 1);
}

static void test_state_forgotten_after_many_reads(void **state)
{
    fixture *f = *state;
    read_capture(f, "bob@example.com", "quota_bob.bin");
    assert_int_equal(f->notify.state.count, 1);
    for (int i = 0; i < DVP_NOTIFY_FORGET_READS / 2; i++)
        read_up(f);
    read_capture(f, "bob@example.com", "quota_bob.bin"); /* seen again: kept */
    for (int i = 0; i < DVP_NOTIFY_FORGET_READS + 1; i++)
        read_up(f);
    assert_int_equal(f->notify.state.count, 0);
    assert_int_equal(stub_nnotifications, 1);
    read_capture(f, "bob@example.com", "quota_bob.bin");
    assert_int_equal(stub_count_notifications(NOTIF_WARNING, "bob@example.com"), 2);
}

static void test_overlong_quota_name_still_notifies(void **state)
{
    fixture *f = *state;
    char user[300];
    memset(user, 'x', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';
    read_quota(f, user, DVA_QUOTA_STORAGE, 99);
    assert_int_equal(stub_nnotifications, 1);
    assert_string_equal(last_notification()->type_instance, "");
    assert_string_equal(last_notification()->type, "percent");
}

static void test_password_masked(void **state)
{
    fixture *f = *state;
    read_down(f, "server said " PASSWORD " back");
    dva_scrape_result r;
    tu_result_init(&r);
    tu_fail_step(&r.who_step, DVA_ERR_PROTOCOL, "unexpected \"" PASSWORD "\"");
    run(f, &r);
    dvp_lib_log(&f->log, DVA_LOG_WARNING, "lib echoed " PASSWORD);
    assert_true(stub_nlogs >= 3);
    assert_int_equal(stub_count_logs(-1, "**************"), 3);
    assert_int_equal(stub_count_notifications(0, "server said ************** back"), 1);
    /* teardown checks PASSWORD appears nowhere */
}

static void test_lib_log_once(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 5; i++) {
        dvp_logger_new_read(&f->log);
        dvp_lib_log(&f->log, DVA_LOG_WARNING,
                    "/run/dovecot/doveadm-server accepted the connection without "
                    "authentication; the configured password was not needed");
        dvp_lib_log(&f->log, DVA_LOG_INFO, "something else");
    }
    assert_int_equal(stub_count_logs(LOG_WARNING, "password was not needed"), 1);
    assert_int_equal(
        stub_count_logs(LOG_WARNING, "dovecot plugin: instance \"local\": "), 1);
    assert_int_equal(stub_count_logs(LOG_INFO, "something else"), 1);
    assert_int_equal(stub_nlogs, 2);
    /* Forgotten after a long quiet time, then logged again. */
    for (int i = 0; i < DVP_LOG_FORGET_READS + 1; i++)
        dvp_logger_new_read(&f->log);
    dvp_lib_log(&f->log, DVA_LOG_INFO, "something else");
    assert_int_equal(stub_count_logs(LOG_INFO, "something else"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_read_up_is_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_down_once_and_recovery_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_first_read_down_notifies, setup_no_warning,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_step_failure_logged_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_quota_failure_streak, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_user_failure_reason_full_stop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quota_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota_warning_once_over_three_reads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quota_failure_then_back_to_okay, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quota_messages_resource, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota_threshold_zero_disables,
                                        setup_no_warning, teardown),
        cmocka_unit_test_setup_teardown(test_state_kept_while_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_forgotten_after_many_reads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_overlong_quota_name_still_notifies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_password_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lib_log_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
