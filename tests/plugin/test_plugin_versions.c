/* SPDX-License-Identifier: MIT */
/* Old statistics as collectd values (plugin_submit.c) and the version
 * logic of plugin_versions.c: detection switches the plan with one INFO
 * line, unsupported steps are logged once, failing old-stats scopes are
 * logged when they start and stop failing. Replies are the captures of
 * the real Dovecot 2.3.19 with old_stats (tests/data/captures/oldstats_*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collectd_stubs.h"
#include "plugin_log.h"
#include "plugin_submit.h"
#include "plugin_test_util.h"
#include "plugin_versions.h"

#define INTERVAL TIME_T_TO_CDTIME_T_STATIC(30)
#define WHEN TIME_T_TO_CDTIME_T_STATIC(1700000100)

typedef tu_submit_fixture fixture;

static int setup(void **state)
{
    return tu_submit_setup(state, NULL, INTERVAL);
}

/* Decodes a capture into the result's scope, as the scrape does. */
static void oldstats(fixture *f, dva_oldstats_scope scope, const char *capture,
                     size_t top)
{
    dva_scrape_oldstats *o = &f->result.oldstats[scope];
    dva_error err;
    assert_int_equal(
        dva_oldstats_layout_init(&o->layout, DVA_GEN_23, scope, NULL, 0, &err), 0);
    tu_parse_capture(capture, 0, &o->reply);
    assert_int_equal(dva_oldstats_decode(&o->reply, &o->layout, &o->stats, &err), 0);
    if (top > 0)
        dva_oldstats_keep_top(&o->stats,
                              (size_t)dva_oldstats_column(&o->layout, "num_cmds"), top);
    o->step.attempted = true;
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

static void test_values(void **state)
{
    fixture *f = *state;
    oldstats(f, DVA_OLDSTATS_GLOBAL, "oldstats_global.bin", 0);
    oldstats(f, DVA_OLDSTATS_USER, "oldstats_user.bin", 2);
    dvp_logger_new_read(&f->log);
    dvp_submit_result(&f->submit, &f->result, WHEN);

    expect_derive("old_global-num_logins", 6);
    expect_derive("old_global-num_cmds", 38);
    expect_derive("old_global-user_cpu_us", 26134); /* "0.26134" */
    expect_derive("old_global-read_bytes", 261963);
    const stub_value *sessions =
        stub_find("gauge", "old_global-num_connected_sessions");
    assert_non_null(sessions);
    assert_true(sessions->value.gauge == 2.0);
    assert_null(stub_find("derive", "old_global-reset_timestamp"));
    assert_null(stub_find("derive", "old_global-last_update_us"));
    assert_null(stub_find("derive", "old_global-num_connected_sessions"));

    /* top 2 by num_cmds: bob (22) and alice (9), not carol (4), erin (3) */
    expect_derive("old_user-bob@example.com-num_cmds", 22);
    expect_derive("old_user-alice@example.com-user_cpu_us", 5251);
    assert_null(stub_find("derive", "old_user-carol@example.com-num_cmds"));
    assert_null(stub_find("derive", "old_user-erin@example.org-num_cmds"));
    /* global: num_logins, num_cmds and 24 fields as DERIVE plus one gauge;
     * per kept user: num_logins, num_cmds and 24 fields */
    size_t old = 0;
    for (size_t i = 0; i < stub_nvalues; i++)
        old += strncmp(stub_values[i].vl.type_instance, "old_", 4) == 0;
    assert_int_equal(old, 27 + 2 * 26);
}

static void test_failed_scope_reports_nothing(void **state)
{
    fixture *f = *state;
    oldstats(f, DVA_OLDSTATS_GLOBAL, "oldstats_global.bin", 0);
    tu_fail_step(&f->result.oldstats[DVA_OLDSTATS_GLOBAL].step, DVA_ERR_DECODE, "bad");
    dvp_logger_new_read(&f->log);
    dvp_submit_result(&f->submit, &f->result, WHEN);
    assert_null(stub_find("derive", "old_global-num_cmds"));
}

static void test_detection_and_logs(void **state)
{
    fixture *f = *state;
    dvp_versions v;
    dvp_versions_init(&v, DVA_GEN_AUTO, &f->log);

    /* Read 1: the replies show 2.4 (oldstats dump unknown); the failure of
     * that read is explained by the INFO line, not logged as a failure. */
    dva_scrape_step *user = &f->result.oldstats[DVA_OLDSTATS_USER].step;
    tu_fail_step(user, DVA_ERR_COMMAND, "'oldstats dump' failed: FAILED");
    f->result.observed = DVA_GEN_24;
    f->result.observed_by = "oldstats dump (unknown command)";
    dvp_logger_new_read(&f->log);
    assert_int_equal(dvp_versions_after_read(&v, &f->result), DVA_GEN_24);
    assert_int_equal(stub_count_logs(LOG_INFO, "answers like Dovecot 2.4"), 1);
    assert_int_equal(stub_count_logs(LOG_WARNING, "old statistics"), 0);

    /* Reads 2-4: the scope is unsupported: one NOTICE in all. */
    for (int i = 0; i < 3; i++) {
        memset(user, 0, sizeof(*user));
        user->unsupported = true;
        dva_fail(&user->error, DVA_ERR_COMMAND, "Dovecot 2.4 has no old statistics");
        f->result.observed = DVA_GEN_AUTO;
        dvp_logger_new_read(&f->log);
        assert_int_equal(dvp_versions_after_read(&v, &f->result), DVA_GEN_24);
    }
    assert_int_equal(
        stub_count_logs(LOG_NOTICE, "old statistics (scope user) is not read"), 1);
    assert_int_equal(stub_count_logs(LOG_INFO, "answers like Dovecot"), 1);

    /* Pinned: the replies never switch it. */
    dvp_versions pinned;
    dvp_versions_init(&pinned, DVA_GEN_23, &f->log);
    f->result.observed = DVA_GEN_22;
    assert_int_equal(dvp_versions_after_read(&pinned, &f->result), DVA_GEN_23);
}

/* auto asks again after a read that found the server down, or whose
 * per-user replies did not fit the generation used; the same generation
 * found again is not logged again, an upgrade is, once. */
static void test_asked_again_after_down_or_doubt(void **state)
{
    fixture *f = *state;
    dvp_versions v;
    dvp_versions_init(&v, DVA_GEN_AUTO, &f->log);
    f->result.up = true;
    f->result.observed = DVA_GEN_23;
    f->result.observed_by = "oldstats dump";
    assert_int_equal(dvp_versions_after_read(&v, &f->result), DVA_GEN_23);
    f->result.observed = DVA_GEN_AUTO;
    assert_int_equal(dvp_versions_after_read(&v, &f->result), DVA_GEN_23);

    f->result.up = false; /* down: the next read asks again */
    assert_int_equal(dvp_versions_after_read(&v, &f->result), DVA_GEN_AUTO);
    f->result.up = true;
    f->result.observed = DVA_GEN_23; /* back, still 2.3: nothing logged */
    assert_int_equal(dvp_versions_after_read(&v, &f->result), DVA_GEN_23);
    assert_int_equal(stub_count_logs(LOG_INFO, "answers like Dovecot 2.3"), 1);

    f->result.observed = DVA_GEN_AUTO;
    f->result.generation_doubtful = true; /* `-A` rows of other users */
    assert_int_equal(dvp_versions_after_read(&v, &f->result), DVA_GEN_AUTO);
    f->result.generation_doubtful = false;
    f->result.observed = DVA_GEN_24;
    assert_int_equal(dvp_versions_after_read(&v, &f->result), DVA_GEN_24);
    assert_int_equal(stub_count_logs(LOG_INFO, "now answers like Dovecot 2.4, no "
                                               "longer like 2.3"),
                     1);
    assert_int_equal(stub_count_logs(LOG_INFO, "answers like Dovecot"), 2);

    /* Pinned: neither a down read nor a doubt asks again. */
    dvp_versions pinned;
    dvp_versions_init(&pinned, DVA_GEN_23, &f->log);
    f->result.up = false;
    f->result.generation_doubtful = true;
    assert_int_equal(dvp_versions_after_read(&pinned, &f->result), DVA_GEN_23);
}

static void test_failing_scope_edge_triggered(void **state)
{
    fixture *f = *state;
    dvp_versions v;
    dvp_versions_init(&v, DVA_GEN_23, &f->log);
    dva_scrape_step *global = &f->result.oldstats[DVA_OLDSTATS_GLOBAL].step;
    for (int i = 0; i < 3; i++) {
        tu_fail_step(global, DVA_ERR_CLOSED, "the server closed the connection");
        dvp_logger_new_read(&f->log);
        dvp_versions_after_read(&v, &f->result);
    }
    assert_int_equal(
        stub_count_logs(LOG_WARNING, "old statistics (scope global) cannot be read"),
        1);
    memset(global, 0, sizeof(*global));
    global->attempted = true;
    dvp_versions_after_read(&v, &f->result);
    dvp_versions_after_read(&v, &f->result);
    assert_int_equal(stub_count_logs(LOG_INFO, "(scope global) can be read again"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_values, setup, tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_failed_scope_reports_nothing, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_detection_and_logs, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_asked_again_after_down_or_doubt, setup,
                                        tu_submit_teardown),
        cmocka_unit_test_setup_teardown(test_failing_scope_edge_triggered, setup,
                                        tu_submit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
