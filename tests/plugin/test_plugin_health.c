/* SPDX-License-Identifier: MIT */
/* The server-health values and notifications (plugin_health.c,
 * plugin_health_notify.c) through the submit and notify code, and the
 * stats counters across a reset (plugin_resets.c), with results built by
 * hand in the shapes real 2.3.19 and 2.4.1 answer (the decoders are
 * tested on the captures in tests/unit/decode/test_health.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "collectd_stubs.h"
#include "doveadm/collector.h"
#include "plugin_log.h"
#include "plugin_notify.h"
#include "plugin_submit.h"

#define INTERVAL TIME_T_TO_CDTIME_T_STATIC(10)
#define WHEN TIME_T_TO_CDTIME_T_STATIC(1700000100)
#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    dvp_logger log;
    dvp_submit submit;
    dvp_notify notify;
    dva_scrape_result result;
    dva_collected collected[2];
    dva_services services;
    dva_processes processes;
} fixture;

static int setup(void **state)
{
    stub_reset();
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    dvp_logger_init(&f->log, "local", NULL);
    dvp_submit_init(&f->submit, "local", NULL, INTERVAL, &f->log);
    dvp_notify_init(&f->notify, "local", NULL, 90, 98, &f->log);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dvp_notify_free(&f->notify);
    dvp_submit_free(&f->submit);
    dvp_logger_free(&f->log);
    free(f);
    stub_reset();
    return 0;
}

/* One read whose result holds these rows (NULL: that command not read). */
static void read_with(fixture *f, dva_service_row *services, size_t nservices,
                      dva_process_row *procs, size_t nprocs)
{
    memset(&f->result, 0, sizeof(f->result));
    memset(f->collected, 0, sizeof(f->collected));
    f->result.up = true;
    f->result.collected = f->collected;
    f->collected[0].collector = &dva_collect_services;
    f->collected[1].collector = &dva_collect_processes;
    f->result.ncollected = 2;
    f->services = (dva_services){services, nservices};
    f->processes = (dva_processes){procs, nprocs};
    if (services != NULL) {
        f->collected[0].step.attempted = true;
        f->collected[0].data = &f->services;
    }
    if (procs != NULL) {
        f->collected[1].step.attempted = true;
        f->collected[1].data = &f->processes;
    }
    stub_clear_captures();
    dvp_logger_new_read(&f->log);
    dvp_submit_result(&f->submit, &f->result, WHEN);
    dvp_notify_result(&f->notify, &f->result, WHEN);
}

static double gauge(const char *type, const char *ti)
{
    const stub_value *v = stub_find(type, ti);
    if (v == NULL) {
        stub_dump();
        fail_msg("no value %s-%s", type, ti);
    }
    return v->value.gauge;
}

static int64_t derive(const char *type, const char *ti)
{
    const stub_value *v = stub_find(type, ti);
    if (v == NULL) {
        stub_dump();
        fail_msg("no value %s-%s", type, ti);
    }
    return v->value.derive;
}

/* imap (client_limit 1) with n of its 2 processes busy; auth (one process
 * of one, 1000 clients) as every Dovecot has it. */
static void services_at(dva_service_row rows[2], uint64_t imap_busy, bool pending)
{
    rows[0] = (dva_service_row){.name = "imap",
                                .process_count = imap_busy,
                                .process_avail = 0,
                                .process_limit = 2,
                                .client_limit = 1,
                                .listen_pending = pending,
                                .listening = true,
                                .process_total = 6};
    rows[1] = (dva_service_row){.name = "auth",
                                .process_count = 1,
                                .process_avail = 1,
                                .process_limit = 1,
                                .client_limit = 1000,
                                .process_total = 1};
}

static void test_service_values(void **state)
{
    fixture *f = *state;
    dva_service_row rows[2];
    services_at(rows, 1, false);
    read_with(f, rows, 2, NULL, 0);
    assert_true(gauge("vs_processes", "imap") == 1);
    assert_true(gauge("vs_processes", "imap-limit") == 2);
    assert_true(gauge("vs_processes", "imap-available") == 0);
    assert_true(gauge("percent", "imap-processes") == 50);
    assert_true(gauge("count", "imap-client_slots_free") == 1);
    assert_true(gauge("bool", "imap-listen_pending") == 0);
    assert_null(stub_find("percent", "auth-processes")); /* process_limit 1 */
    /* client_limit 1000 without `process status`: slots unknown */
    assert_null(stub_find("count", "auth-client_slots_free"));
    assert_null(stub_find("percent", "auth-clients"));
    assert_int_equal(stub_nnotifications, 0); /* a first read below the limit */
}

static void test_process_limit_notifications(void **state)
{
    fixture *f = *state;
    dva_service_row rows[2];
    services_at(rows, 2, false);
    read_with(f, rows, 2, NULL, 0);
    assert_int_equal(stub_count_notifications(NOTIF_WARNING,
                                              "service imap is at its process limit "
                                              "(2 of 2 processes"),
                     1);
    assert_int_equal(stub_nnotifications, 1); /* auth, at 1 of 1, takes clients */
    read_with(f, rows, 2, NULL, 0);
    assert_int_equal(stub_nnotifications, 0); /* edge-triggered */
    services_at(rows, 1, false);
    rows[0].process_avail = 1;
    read_with(f, rows, 2, NULL, 0);
    assert_int_equal(stub_count_notifications(
                         NOTIF_OKAY, "service imap has free client slots again"),
                     1);
    /* below the limit, but none takes a client and clients wait */
    services_at(rows, 1, true);
    read_with(f, rows, 2, NULL, 0);
    assert_int_equal(stub_count_notifications(NOTIF_WARNING, "clients wait"), 1);
    /* a failed read keeps the state: no OKAY, no second WARNING */
    read_with(f, NULL, 0, NULL, 0);
    assert_int_equal(stub_nnotifications, 0);
    read_with(f, rows, 2, NULL, 0);
    assert_int_equal(stub_nnotifications, 0);
}

static void test_notifications_off(void **state)
{
    fixture *f = *state;
    f->notify.health.enabled = false;
    dva_service_row rows[2];
    services_at(rows, 2, true);
    read_with(f, rows, 2, NULL, 0);
    read_with(f, rows, 2, NULL, 0);
    assert_int_equal(stub_nnotifications, 0);
    assert_true(gauge("vs_processes", "imap") == 2);
}

static void test_processes_clients_and_restarts(void **state)
{
    fixture *f = *state;
    dva_service_row rows[2];
    services_at(rows, 2, false);
    dva_process_row p1[] = {
        {.name = "imap", .pid = 10, .total_count = 1},
        {.name = "imap", .pid = 11, .total_count = 1},
        {.name = "auth", .pid = 5, .available_count = 998, .total_count = 3},
    };
    read_with(f, rows, 2, p1, N(p1));
    assert_int_equal(derive("total_requests", "imap-clients"), 2);
    assert_int_equal(derive("total_requests", "auth-clients"), 3);
    assert_int_equal(derive("total_events", "imap-restarts"), 0);
    assert_true(gauge("current_connections", "auth") == 2);
    assert_true(gauge("percent", "auth-clients") == 0.2);
    assert_true(gauge("count", "auth-client_slots_free") == 998);
    assert_true(gauge("vs_processes", "imap-idle") == 0);
    /* pid 10 gone, 12 new; auth restarted (new pid, count from 0); pid 11
     * served one more */
    dva_process_row p2[] = {
        {.name = "imap", .pid = 11, .total_count = 2},
        {.name = "imap", .pid = 12, .total_count = 1},
        {.name = "auth", .pid = 6, .available_count = 1000, .idle_start = 1},
    };
    read_with(f, rows, 2, p2, N(p2));
    assert_int_equal(derive("total_requests", "imap-clients"), 4);
    assert_int_equal(derive("total_events", "imap-restarts"), 1);
    assert_int_equal(derive("total_requests", "auth-clients"), 3);
    assert_int_equal(derive("total_events", "auth-restarts"), 1);
    assert_true(gauge("vs_processes", "auth-idle") == 1);
    /* without `service status`, the processes are counted from the list */
    read_with(f, NULL, 0, p2, N(p2));
    assert_true(gauge("vs_processes", "imap") == 2);
    assert_int_equal(derive("total_events", "imap-restarts"), 1);
}

/* A health command that fails: one WARNING line, one INFO line when it
 * works again; its values are not reported meanwhile. */
static void test_step_failure_logged_once(void **state)
{
    fixture *f = *state;
    dva_service_row rows[2];
    services_at(rows, 1, false);
    for (int i = 0; i < 3; i++) {
        read_with(f, NULL, 0, NULL, 0);
        f->collected[0].step.attempted = true;
        dva_fail(&f->collected[0].step.error, DVA_ERR_DECODE, "row 3 is bad");
        stub_clear_captures();
        dvp_logger_new_read(&f->log);
        dvp_submit_result(&f->submit, &f->result, WHEN);
        dvp_notify_result(&f->notify, &f->result, WHEN);
        assert_int_equal(
            stub_count_logs(LOG_WARNING, "service status failed: row 3 is bad"),
            i == 0 ? 1 : 0);
        assert_null(stub_find("vs_processes", "imap"));
    }
    read_with(f, rows, 2, NULL, 0);
    assert_int_equal(stub_count_logs(LOG_INFO, "service status works again"), 1);
    assert_true(gauge("vs_processes", "imap") == 1);
}

/* ---- stats counters across a reload ---- */

static dva_stats_row stat_row(const char *metric, uint64_t count, uint64_t sum)
{
    return (dva_stats_row){.metric = metric,
                           .field = "duration",
                           .count = count,
                           .sum = sum,
                           .min = NAN,
                           .max = NAN,
                           .avg = NAN,
                           .median = NAN,
                           .stddev = NAN,
                           .p95 = NAN};
}

static void read_stats(fixture *f, dva_stats_row *rows, size_t n)
{
    memset(&f->result, 0, sizeof(f->result));
    f->result.up = true;
    f->result.stats_step.attempted = true;
    f->result.stats = (dva_stats){rows, n};
    stub_clear_captures();
    dvp_logger_new_read(&f->log);
    dvp_submit_result(&f->submit, &f->result, WHEN);
}

static void test_stats_reset(void **state)
{
    fixture *f = *state;
    dva_stats_row r1[] = {stat_row("imap_command", 10, 100), stat_row("auth", 4, 40)};
    read_stats(f, r1, 2);
    assert_int_equal(derive("derive", "imap_command"), 10);
    dva_stats_row r2[] = {stat_row("imap_command", 20, 200), stat_row("auth", 4, 40)};
    read_stats(f, r2, 2);
    assert_int_equal(derive("derive", "imap_command"), 20);
    assert_int_equal(stub_count_logs(-1, "restarted"), 0);
    /* a reload: every counter starts again at 0 */
    dva_stats_row r3[] = {stat_row("imap_command", 3, 30), stat_row("auth", 0, 0)};
    read_stats(f, r3, 2);
    assert_int_equal(derive("derive", "imap_command"), 23);
    assert_int_equal(derive("derive", "imap_command-sum_us"), 230);
    assert_int_equal(derive("derive", "auth"), 4);
    assert_int_equal(derive("derive", "auth-sum_us"), 40);
    assert_int_equal(stub_count_logs(LOG_INFO, "Dovecot's statistics restarted"), 1);
    dva_stats_row r4[] = {stat_row("imap_command", 5, 50), stat_row("auth", 1, 9),
                          stat_row("new_metric", 2, 2)};
    read_stats(f, r4, 3);
    assert_int_equal(derive("derive", "imap_command"), 25);
    assert_int_equal(derive("derive", "auth-sum_us"), 49);
    assert_int_equal(derive("derive", "new_metric"), 2);
    assert_int_equal(stub_count_logs(-1, "restarted"), 0);
}

/* Many counters: the table grows and stays correct. */
static void test_stats_many_counters(void **state)
{
    fixture *f = *state;
    enum { M = 1000 };
    static char names[M][16];
    static dva_stats_row rows[M];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < M; i++) {
            snprintf(names[i], sizeof(names[i]), "m%zu", i);
            rows[i] = stat_row(names[i], round == 2 ? 1 : 100 + (uint64_t)round, 0);
        }
        read_stats(f, rows, M);
    }
    assert_int_equal(derive("derive", "m0"), 102);
    assert_int_equal(derive("derive", "m999"), 102);
    assert_int_equal(stub_count_logs(LOG_INFO, "restarted"), 1);
}

/* Old statistics: a user's counters start again on their own (Dovecot
 * forgot the user, or the old-stats process restarted); a stats reset in
 * the same instance leaves them alone. */
static void read_oldstats(fixture *f, uint64_t user_cmds, uint64_t stats_count)
{
    static dva_oldstats_row row;
    static uint64_t values[2];
    static dva_stats_row srow;
    memset(&f->result, 0, sizeof(f->result));
    f->result.up = true;
    dva_scrape_oldstats *o = &f->result.oldstats[DVA_OLDSTATS_USER];
    dva_error err;
    assert_int_equal(dva_oldstats_layout_init(&o->layout, DVA_GEN_23, DVA_OLDSTATS_USER,
                                              NULL, 0, &err),
                     0);
    size_t cmds = o->layout.ncolumns;
    for (size_t c = 0; c < o->layout.ncolumns; c++)
        if (strcmp(o->layout.columns[c], "num_cmds") == 0)
            cmds = c;
    assert_true(cmds < o->layout.ncolumns);
    o->layout.columns[1] = o->layout.columns[cmds];
    o->layout.ncolumns = 2; /* the key column, num_cmds */
    values[0] = 0;
    values[1] = user_cmds;
    row = (dva_oldstats_row){.key = "alice@example.com", .values = values};
    o->stats = (dva_oldstats){.rows = &row, .nrows = 1};
    o->step.attempted = true;
    srow = stat_row("imap_command", stats_count, 0);
    f->result.stats_step.attempted = true;
    f->result.stats = (dva_stats){&srow, 1};
    stub_clear_captures();
    dvp_logger_new_read(&f->log);
    dvp_submit_result(&f->submit, &f->result, WHEN);
}

static void test_oldstats_restart(void **state)
{
    fixture *f = *state;
    const char *ti = "old_user-alice@example.com-num_cmds";
    read_oldstats(f, 50, 10);
    assert_int_equal(derive("derive", ti), 50);
    read_oldstats(f, 60, 20);
    assert_int_equal(derive("derive", ti), 60);
    read_oldstats(f, 70, 1); /* stats reset: old stats untouched */
    assert_int_equal(derive("derive", ti), 70);
    assert_int_equal(derive("derive", "imap_command"), 21);
    read_oldstats(f, 4, 2); /* alice's old stats start again */
    assert_int_equal(derive("derive", ti), 74);
    assert_int_equal(derive("derive", "imap_command"), 22);
    read_oldstats(f, 9, 3);
    assert_int_equal(derive("derive", ti), 79);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_service_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_limit_notifications, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_notifications_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_processes_clients_and_restarts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_step_failure_logged_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_many_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oldstats_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
