/* SPDX-License-Identifier: MIT */
/* Old statistics (`oldstats dump <scope>` on 2.3, `stats dump <scope>` on
 * 2.2): layouts, command, decoder against captures of Dovecot 2.3.19.1 with
 * the old_stats plugin (tests/tools/capture_oldstats.py; the header lines
 * the protocol does not carry are in oldstats_cli_reference.txt), top-N,
 * and the generation names and detection signals of generation.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/oldstats.h"
#include "doveadm/reply.h"
#include "doveadm/generation.h"
#include "test_support_reply.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void layout(dva_oldstats_layout *l, dva_generation gen, dva_oldstats_scope s)
{
    dva_error err;
    assert_int_equal(dva_oldstats_layout_init(l, gen, s, NULL, 0, &err), 0);
}

static int decode_capture(const char *name, dva_oldstats_scope scope,
                          dva_oldstats_layout *l, dva_reply *reply, dva_oldstats *st,
                          dva_error *err)
{
    layout(l, DVA_GEN_23, scope);
    dva_test_parse_capture(name, 0, reply);
    return dva_oldstats_decode(reply, l, st, err);
}

static uint64_t col(const dva_oldstats_layout *l, const dva_oldstats_row *row,
                    const char *name)
{
    long c = dva_oldstats_column(l, name);
    assert_true(c >= 0);
    return row->values[c];
}

/* ---- layouts and command ---- */

static void test_layouts_23(void **state)
{
    (void)state;
    dva_oldstats_layout l;
    /* Header lines of oldstats_cli_reference.txt: 29, 30, 29, 30 names. */
    layout(&l, DVA_GEN_23, DVA_OLDSTATS_GLOBAL);
    assert_int_equal(l.ncolumns, 29);
    assert_string_equal(l.columns[0], "reset_timestamp");
    assert_string_equal(l.columns[4], "num_connected_sessions");
    assert_string_equal(l.columns[28], "auth_cache_misses");
    layout(&l, DVA_GEN_23, DVA_OLDSTATS_DOMAIN);
    assert_int_equal(l.ncolumns, 30);
    assert_string_equal(l.columns[0], "domain");
    layout(&l, DVA_GEN_23, DVA_OLDSTATS_USER);
    assert_int_equal(l.ncolumns, 29);
    assert_string_equal(l.columns[4], "num_cmds");
    assert_string_equal(l.columns[5], "user_cpu");
    assert_int_equal(dva_oldstats_column(&l, "num_connected_sessions"), -1);
    layout(&l, DVA_GEN_AUTO, DVA_OLDSTATS_IP);
    assert_int_equal(l.ncolumns, 30);
    assert_int_equal(l.gen, DVA_GEN_23);
}

static void test_layouts_22_and_24(void **state)
{
    (void)state;
    dva_oldstats_layout l;
    dva_error err;
    /* 2.2 src/stats/client-export.c: key, 4 fixed, 17 mail fields. */
    layout(&l, DVA_GEN_22, DVA_OLDSTATS_USER);
    assert_int_equal(l.ncolumns, 22);
    assert_int_equal(dva_oldstats_column(&l, "clock_time"), -1);
    assert_int_equal(dva_oldstats_column(&l, "auth_successes"), -1);
    layout(&l, DVA_GEN_22, DVA_OLDSTATS_DOMAIN);
    assert_int_equal(l.ncolumns, 22);
    assert_int_equal(dva_oldstats_column(&l, "num_connected_sessions"), -1);
    assert_int_equal(
        dva_oldstats_layout_init(&l, DVA_GEN_24, DVA_OLDSTATS_USER, NULL, 0, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_non_null(strstr(err.message, "2.4"));
}

static void test_configured_fields(void **state)
{
    (void)state;
    dva_oldstats_layout l;
    dva_error err;
    const char *fields[] = {"user_cpu", "mail_read_count"};
    assert_int_equal(
        dva_oldstats_layout_init(&l, DVA_GEN_23, DVA_OLDSTATS_USER, fields, 2, &err),
        0);
    assert_int_equal(l.ncolumns, 7);
    assert_string_equal(l.columns[6], "mail_read_count");

    const char *dup[] = {"user_cpu", "user_cpu"};
    assert_int_equal(
        dva_oldstats_layout_init(&l, DVA_GEN_23, DVA_OLDSTATS_USER, dup, 2, &err), -1);
    assert_non_null(strstr(err.message, "user_cpu"));
    const char *fixed[] = {"num_cmds"};
    assert_int_equal(
        dva_oldstats_layout_init(&l, DVA_GEN_23, DVA_OLDSTATS_USER, fixed, 1, &err),
        -1);
    const char *empty[] = {""};
    assert_int_equal(
        dva_oldstats_layout_init(&l, DVA_GEN_23, DVA_OLDSTATS_USER, empty, 1, &err),
        -1);
    const char *many[DVA_OLDSTATS_MAX_FIELDS + 1];
    for (size_t i = 0; i < N(many); i++)
        many[i] = "x";
    assert_int_equal(dva_oldstats_layout_init(&l, DVA_GEN_23, DVA_OLDSTATS_USER, many,
                                              N(many), &err),
                     -1);
}

static void test_command(void **state)
{
    (void)state;
    dva_oldstats_layout l;
    dva_command cmd;
    layout(&l, DVA_GEN_23, DVA_OLDSTATS_DOMAIN);
    dva_oldstats_command(&cmd, &l);
    assert_int_equal(cmd.argc, 2);
    assert_string_equal(cmd.argv[0], "oldstats dump");
    assert_string_equal(cmd.argv[1], "domain");
    assert_int_equal(cmd.ncols, 0);
    layout(&l, DVA_GEN_22, DVA_OLDSTATS_IP);
    dva_oldstats_command(&cmd, &l);
    assert_string_equal(cmd.argv[0], "stats dump");
    assert_string_equal(cmd.argv[1], "ip");
}

/* ---- captures ---- */

static void test_capture_global(void **state)
{
    (void)state;
    dva_oldstats_layout l;
    dva_reply reply;
    dva_oldstats st;
    dva_error err;
    assert_int_equal(decode_capture("oldstats_global.bin", DVA_OLDSTATS_GLOBAL, &l,
                                    &reply, &st, &err),
                     0);
    assert_int_equal(st.nrows, 1);
    const dva_oldstats_row *r = &st.rows[0];
    assert_null(r->key);
    assert_int_equal(col(&l, r, "reset_timestamp"), 1796130633);
    assert_int_equal(col(&l, r, "last_update"), UINT64_C(1796130633329554));
    assert_int_equal(col(&l, r, "num_logins"), 6);
    assert_int_equal(col(&l, r, "num_cmds"), 38);
    assert_int_equal(col(&l, r, "num_connected_sessions"), 2);
    /* "0.26134" and "0.73145": microseconds not zero-padded */
    assert_int_equal(col(&l, r, "user_cpu"), 26134);
    assert_int_equal(col(&l, r, "sys_cpu"), 73145);
    assert_int_equal(col(&l, r, "read_bytes"), 261963);
    assert_int_equal(col(&l, r, "auth_cache_misses"), 0);
    dva_oldstats_free(&st);
    dva_reply_free(&reply);
}

static void test_capture_user_and_top(void **state)
{
    (void)state;
    dva_oldstats_layout l;
    dva_reply reply;
    dva_oldstats st;
    dva_error err;
    assert_int_equal(
        decode_capture("oldstats_user.bin", DVA_OLDSTATS_USER, &l, &reply, &st, &err),
        0);
    assert_int_equal(st.nrows, 4);
    assert_string_equal(st.rows[0].key, "erin@example.org");
    assert_int_equal(col(&l, &st.rows[0], "user_cpu"), 5088); /* "0.5088" */
    assert_string_equal(st.rows[3].key, "alice@example.com");
    assert_int_equal(col(&l, &st.rows[3], "num_cmds"), 9);

    /* Top 2 by num_cmds: bob (22), alice (9); erin 3, carol 4 dropped. */
    dva_oldstats_keep_top(&st, (size_t)dva_oldstats_column(&l, "num_cmds"), 2);
    assert_int_equal(st.nrows, 2);
    assert_int_equal(st.server_rows, 4);
    assert_string_equal(st.rows[0].key, "bob@example.com");
    assert_int_equal(col(&l, &st.rows[0], "num_cmds"), 22);
    assert_string_equal(st.rows[1].key, "alice@example.com");
    dva_oldstats_free(&st);
    dva_reply_free(&reply);
}

static void test_capture_domain_ip(void **state)
{
    (void)state;
    dva_oldstats_layout l;
    dva_reply reply;
    dva_oldstats st;
    dva_error err;
    assert_int_equal(decode_capture("oldstats_domain.bin", DVA_OLDSTATS_DOMAIN, &l,
                                    &reply, &st, &err),
                     0);
    assert_int_equal(st.nrows, 2);
    assert_string_equal(st.rows[1].key, "example.com");
    assert_int_equal(col(&l, &st.rows[1], "num_connected_sessions"), 2);
    dva_oldstats_free(&st);
    dva_reply_free(&reply);

    assert_int_equal(
        decode_capture("oldstats_ip.bin", DVA_OLDSTATS_IP, &l, &reply, &st, &err), 0);
    assert_int_equal(st.nrows, 1);
    assert_string_equal(st.rows[0].key, "127.0.0.1");
    assert_int_equal(col(&l, &st.rows[0], "num_logins"), 6);
    dva_oldstats_free(&st);
    dva_reply_free(&reply);
}

static void test_capture_wrong_columns_refused(void **state)
{
    (void)state;
    dva_oldstats_layout l;
    dva_reply reply;
    dva_oldstats st;
    dva_error err;
    /* The domain reply read with the user layout (29 instead of 30). */
    layout(&l, DVA_GEN_23, DVA_OLDSTATS_USER);
    dva_test_parse_capture("oldstats_domain.bin", 0, &reply);
    assert_int_equal(dva_oldstats_decode(&reply, &l, &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "OldStatsColumns"));
    assert_null(st.rows);
    dva_reply_free(&reply);

    /* 2.2's user layout (22) against 2.3's 4 user rows (116 values). */
    layout(&l, DVA_GEN_22, DVA_OLDSTATS_USER);
    dva_test_parse_capture("oldstats_user.bin", 0, &reply);
    assert_int_equal(dva_oldstats_decode(&reply, &l, &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&reply);
}

/* ---- built replies ---- */

/* Keys point into the reply: it lives until the next decode_built(). */
static dva_reply built;

static int decode_built(dva_status status, const char *const *vals, size_t n,
                        const char *const *fields, size_t nfields, dva_oldstats *st,
                        dva_error *err)
{
    dva_oldstats_layout l;
    assert_int_equal(dva_oldstats_layout_init(&l, DVA_GEN_23, DVA_OLDSTATS_USER, fields,
                                              nfields, err),
                     0);
    dva_reply_free(&built);
    dva_test_build_reply(&built, status, 0, vals, n);
    return dva_oldstats_decode(&built, &l, st, err);
}

static void test_time_values(void **state)
{
    (void)state;
    const char *fields[] = {"user_cpu", "read_bytes"};
    dva_oldstats st;
    dva_error err;
    const char *ok[] = {"u", "1", "2.000001", "3", "4", "1.5", "7",
                        "v", "1", "2",        "3", "4", "12",  "0"};
    assert_int_equal(decode_built(DVA_STATUS_OK, ok, N(ok), fields, 2, &st, &err), 0);
    assert_int_equal(st.rows[0].values[2], 2000001);
    assert_int_equal(st.rows[0].values[5], 1000005);  /* "1.5": 5 us */
    assert_int_equal(st.rows[1].values[5], 12000000); /* whole seconds */
    dva_oldstats_free(&st);

    static const char *const bad_time[] = {
        "1.1234567", "1.", ".5", "1.-2", "a.1", "99999999999999999999.1", "-1.0"};
    for (size_t i = 0; i < N(bad_time); i++) {
        const char *row[] = {"u", "1", "2.0", "3", "4", bad_time[i], "7"};
        assert_int_equal(decode_built(DVA_STATUS_OK, row, N(row), fields, 2, &st, &err),
                         -1);
        assert_int_equal(err.code, DVA_ERR_DECODE);
        assert_non_null(strstr(err.message, "user_cpu"));
    }
    /* A dot in a counter column is not a number. */
    const char *dotted[] = {"u", "1", "2.0", "3", "4", "1.0", "7.5"};
    assert_int_equal(
        decode_built(DVA_STATUS_OK, dotted, N(dotted), fields, 2, &st, &err), -1);
    assert_non_null(strstr(err.message, "read_bytes"));
}

static void test_bad_rows(void **state)
{
    (void)state;
    const char *fields[] = {"read_bytes"};
    dva_oldstats st;
    dva_error err;
    const char *nokey[] = {"", "1", "2.0", "3", "4", "5"};
    assert_int_equal(decode_built(DVA_STATUS_OK, nokey, N(nokey), fields, 1, &st, &err),
                     -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    /* A shifted row: a user name where a number belongs. */
    const char *shifted[] = {"a", "1", "2.0", "3",   "4", "5",
                             "b", "b", "1",   "2.0", "3", "4"};
    assert_int_equal(
        decode_built(DVA_STATUS_OK, shifted, N(shifted), fields, 1, &st, &err), -1);
    assert_non_null(strstr(err.message, "Row 2"));
    /* A failure status. */
    assert_int_equal(decode_built(DVA_STATUS_FAILED, NULL, 0, fields, 1, &st, &err),
                     -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    /* An empty success: no rows. */
    assert_int_equal(decode_built(DVA_STATUS_OK, NULL, 0, fields, 1, &st, &err), 0);
    assert_int_equal(st.nrows, 0);
    dva_oldstats_free(&st);
}

static void test_top_ties_and_noop(void **state)
{
    (void)state;
    const char *fields[] = {"read_bytes"};
    dva_oldstats st;
    dva_error err;
    const char *vals[] = {"c", "0", "0.0", "0", "0", "5",   "a", "0", "0.0",
                          "0", "0", "5",   "b", "0", "0.0", "0", "0", "9"};
    assert_int_equal(decode_built(DVA_STATUS_OK, vals, N(vals), fields, 1, &st, &err),
                     0);
    dva_oldstats_keep_top(&st, 5, 0); /* 0: keep all */
    assert_int_equal(st.nrows, 3);
    dva_oldstats_keep_top(&st, 5, 3); /* not more than there are */
    assert_string_equal(st.rows[0].key, "c");
    dva_oldstats_keep_top(&st, 5, 2);
    assert_string_equal(st.rows[0].key, "b");
    assert_string_equal(st.rows[1].key, "a"); /* tie 5/5: key order */
    dva_oldstats_free(&st);
    dva_oldstats_free(&st); /* twice is fine */
}

/* ---- scopes, generations ---- */

static void test_names(void **state)
{
    (void)state;
    dva_oldstats_scope s;
    assert_true(dva_oldstats_scope_parse("ip", &s));
    assert_int_equal(s, DVA_OLDSTATS_IP);
    assert_false(dva_oldstats_scope_parse("session", &s));
    assert_false(dva_oldstats_scope_parse("User", &s));
    assert_string_equal(dva_oldstats_scope_name(DVA_OLDSTATS_GLOBAL), "global");
    assert_true(dva_oldstats_column_is_counter("num_cmds"));
    assert_false(dva_oldstats_column_is_counter("num_connected_sessions"));
    assert_false(dva_oldstats_column_is_counter("last_update"));
    assert_true(dva_oldstats_column_is_time("clock_time"));

    dva_generation g;
    assert_true(dva_generation_parse("2.3.19", &g));
    assert_int_equal(g, DVA_GEN_23);
    assert_true(dva_generation_parse("auto", &g));
    assert_int_equal(g, DVA_GEN_AUTO);
    assert_true(dva_generation_parse("2.4", &g));
    assert_int_equal(g, DVA_GEN_24);
    assert_false(dva_generation_parse("2.5", &g));
    assert_false(dva_generation_parse("2.3.", &g));
    assert_false(dva_generation_parse("2.3x", &g));
    assert_false(dva_generation_parse("", &g));
    assert_false(dva_generation_parse(NULL, &g));
    assert_string_equal(dva_generation_name(DVA_GEN_22), "2.2");
}

/* Notes the status line as the reply to cmd into ev. */
static void note(dva_generation_evidence *ev, const char *cmd, bool server_wide,
                 const char *status_line)
{
    dva_parser p;
    dva_reply r;
    size_t used;
    dva_error err;
    char buf[64];
    snprintf(buf, sizeof(buf), "\n%s\n", status_line);
    dva_reply_init(&r);
    dva_parser_init(&p, NULL);
    dva_parser_begin(&p, &r, 0);
    assert_int_equal(dva_parser_feed(&p, buf, strlen(buf), &used, &err),
                     DVA_PARSE_DONE);
    dva_generation_note(ev, cmd, server_wide, &r);
    dva_reply_free(&r);
}

static dva_generation one(const char *cmd, bool server_wide, const char *status_line)
{
    dva_generation_evidence ev = {0};
    note(&ev, cmd, server_wide, status_line);
    return dva_generation_decide(&ev, NULL);
}

static void test_detection(void **state)
{
    (void)state;
    /* Numeric codes: 2.2 on a server-wide command only (mail commands
     * printed "-%u" up to early 2.3 too). */
    assert_int_equal(one("who", true, "-75"), DVA_GEN_22);
    assert_int_equal(one("quota get", false, "-75"), DVA_GEN_AUTO);
    assert_int_equal(one("quota get", false, "-NOUSER"), DVA_GEN_AUTO);
    assert_int_equal(one("quota get", false, "-EXPIRED"), DVA_GEN_24);
    assert_int_equal(one("quota get", false, "-CHANGED"), DVA_GEN_24);
    assert_int_equal(one("quota get", false, "-REFERRAL a@b"), DVA_GEN_24);
    assert_int_equal(one("oldstats dump", true, "+"), DVA_GEN_23);
    assert_int_equal(one("oldstats dump", true, "-"), DVA_GEN_24);
    assert_int_equal(one("stats dump -f", true, "+"), DVA_GEN_AUTO);
    assert_int_equal(one("stats dump -f", true, "-USAGE"), DVA_GEN_AUTO);
    assert_int_equal(one("who", true, "-"), DVA_GEN_AUTO);

    /* oldstats unknown: 2.4 when stats dump -f works, 2.2 when it fails. */
    dva_generation_evidence ev = {0};
    const char *by = NULL;
    note(&ev, "oldstats dump", true, "-");
    note(&ev, "stats dump -f", true, "-");
    assert_int_equal(dva_generation_decide(&ev, &by), DVA_GEN_22);
    assert_non_null(strstr(by, "stats dump -f"));
    memset(&ev, 0, sizeof(ev));
    note(&ev, "oldstats dump", true, "-");
    note(&ev, "stats dump -f", true, "+");
    assert_int_equal(dva_generation_decide(&ev, &by), DVA_GEN_24);
    /* A numeric server-wide code wins over everything. */
    note(&ev, "who", true, "-64");
    assert_int_equal(dva_generation_decide(&ev, NULL), DVA_GEN_22);
    dva_generation_note(&ev, "who", true, NULL); /* ignored */
    memset(&ev, 0, sizeof(ev));
    assert_int_equal(dva_generation_decide(&ev, &by), DVA_GEN_AUTO);
    assert_null(by);
}

static void test_status_hints(void **state)
{
    (void)state;
    assert_non_null(strstr(dva_status_hint(DVA_STATUS_FAILED), "does not know"));
    assert_non_null(strstr(dva_status_hint(DVA_STATUS_REFERRAL), "another server"));
    assert_non_null(dva_status_hint(DVA_STATUS_EXPIRED));
    assert_non_null(dva_status_hint(DVA_STATUS_CHANGED));
    assert_non_null(dva_status_hint(DVA_STATUS_NUMERIC));
    assert_null(dva_status_hint(DVA_STATUS_NOUSER));
    assert_null(dva_status_hint(DVA_STATUS_OK));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts_23),
        cmocka_unit_test(test_layouts_22_and_24),
        cmocka_unit_test(test_configured_fields),
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_capture_global),
        cmocka_unit_test(test_capture_user_and_top),
        cmocka_unit_test(test_capture_domain_ip),
        cmocka_unit_test(test_capture_wrong_columns_refused),
        cmocka_unit_test(test_time_values),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_top_ties_and_noop),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_detection),
        cmocka_unit_test(test_status_hints),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    dva_reply_free(&built);
    return failed;
}
