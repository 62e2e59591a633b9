/* SPDX-License-Identifier: MIT */
/* stats dump: command, decoder (captures from Dovecot 2.3.19.1 and built
 * replies), and the strict number parsers of decode_util. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode_util.h"
#include "doveadm/reply.h"
#include "doveadm/stats.h"
#include "test_support_reply.h"

/* ---- helpers ---- */

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int decode_values(const char *const *vals, size_t n, dva_stats *st,
                         dva_error *err)
{
    dva_reply r;
    dva_test_build_reply(&r, DVA_STATUS_OK, DVA_STATS_NCOLS, vals, n);
    int ret = dva_stats_decode(&r, st, err);
    dva_reply_free(&r);
    return ret;
}

/* One row with the given count/sum and distribution values. */
static int decode_one(const char *count, const char *sum, const char *dist,
                      dva_stats *st, dva_error *err)
{
    const char *row[] = {"m",  "duration", count, sum,  dist,
                         dist, dist,       dist,  dist, dist};
    return decode_values(row, N(row), st, err);
}

/* ---- command ---- */

static void test_command(void **state)
{
    (void)state;
    dva_command cmd;
    memset(&cmd, 0x5a, sizeof(cmd));
    dva_stats_command(&cmd);
    assert_int_equal(cmd.argc, 3);
    assert_string_equal(cmd.argv[0], "stats dump");
    assert_string_equal(cmd.argv[1], "-f");
    assert_string_equal(cmd.argv[2], "count,sum,min,max,avg,median,stddev,%95");
    assert_null(cmd.argv[3]);
    assert_int_equal(cmd.ncols, DVA_STATS_NCOLS);
    dva_request req = dva_command_request(&cmd, NULL, &cmd);
    assert_int_equal(req.argc, 3);
    assert_int_equal(req.ncols, 10);
    assert_ptr_equal(req.tag, &cmd);
}

/* ---- captures ---- */

/* Values checked by hand against cli_reference.txt
 * (`doveadm -f tab stats dump -f 'count,sum,...'`). */
static void check_capture_rows(const dva_stats *st)
{
    assert_int_equal(st->nrows, 10);

    const dva_stats_row *r = &st->rows[0];
    assert_string_equal(r->metric, "imap_command");
    assert_string_equal(r->field, "duration");
    assert_int_equal(r->count, 46);
    assert_int_equal(r->sum, 102279);
    assert_true(r->min == 24.0);
    assert_true(r->max == 8493.0);
    assert_true(r->avg == 2223.46);
    assert_true(r->median == 1968.0);
    assert_true(r->stddev == 2024.15);
    assert_true(r->p95 == 7684.0);

    r = &st->rows[3];
    assert_string_equal(r->metric, "imap_command_SELECT");
    assert_int_equal(r->count, 3);
    assert_int_equal(r->sum, 5836);
    assert_true(r->avg == 1945.33);
    assert_true(r->stddev == 155.26);

    r = &st->rows[6];
    assert_string_equal(r->metric, "imap_command_EXAMINE");
    assert_true(r->stddev == 0.0);
    assert_true(r->avg == 1535.0);

    /* auth_failure: count 0, and Dovecot prints 0 / 0.00 everywhere. */
    r = &st->rows[9];
    assert_string_equal(r->metric, "auth_failure");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->sum, 0);
    assert_true(isnan(r->min));
    assert_true(isnan(r->max));
    assert_true(isnan(r->avg));
    assert_true(isnan(r->median));
    assert_true(isnan(r->stddev));
    assert_true(isnan(r->p95));
}

static void test_capture_pinned(void **state)
{
    (void)state;
    dva_reply reply;
    dva_stats st;
    dva_error err;
    dva_test_parse_capture("stats_dump.bin", DVA_STATS_NCOLS, &reply);
    assert_int_equal(dva_stats_decode(&reply, &st, &err), 0);
    check_capture_rows(&st);
    /* strings point into the reply */
    assert_true(st.rows[0].metric >= reply.data &&
                st.rows[0].metric < reply.data + reply.data_len);
    dva_stats_free(&st);
    assert_null(st.rows);
    assert_int_equal(st.nrows, 0);
    dva_reply_free(&reply);
}

static void test_capture_default_fields(void **state)
{
    (void)state;
    dva_reply reply;
    dva_stats st;
    dva_error err;
    dva_test_parse_capture("stats_dump_default.bin", DVA_STATS_NCOLS, &reply);
    assert_int_equal(dva_stats_decode(&reply, &st, &err), 0);
    check_capture_rows(&st);
    dva_stats_free(&st);
    dva_reply_free(&reply);
}

/* `-f count,p95`: 4 columns; decoding it as our 10 is refused. */
static void test_capture_other_width_refused(void **state)
{
    (void)state;
    dva_reply reply;
    dva_stats st = {(dva_stats_row *)1, 99};
    dva_error err;
    dva_test_parse_capture("stats_dump_badfield.bin", 4, &reply);
    assert_int_equal(dva_stats_decode(&reply, &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "columns"));
    assert_null(st.rows);
    assert_int_equal(st.nrows, 0);
    dva_reply_free(&reply);
}

static void test_capture_usage_failure(void **state)
{
    (void)state;
    dva_reply reply;
    dva_stats st;
    dva_error err;
    dva_test_parse_capture("stats_dump_badopt.bin", DVA_STATS_NCOLS, &reply);
    assert_int_equal(reply.status, DVA_STATUS_USAGE);
    assert_int_equal(dva_stats_decode(&reply, &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    assert_non_null(strstr(err.message, "USAGE"));
    dva_reply_free(&reply);
}

/* ---- built replies ---- */

static void test_empty_reply(void **state)
{
    (void)state;
    dva_stats st;
    dva_error err;
    assert_int_equal(decode_values(NULL, 0, &st, &err), 0);
    assert_int_equal(st.nrows, 0);
    assert_null(st.rows);
    dva_stats_free(&st);
}

static void test_empty_values_are_nan(void **state)
{
    (void)state;
    dva_stats st;
    dva_error err;
    const char *row[] = {"m", "duration", "3", "30", "", "12", "", "10.50", "", ""};
    assert_int_equal(decode_values(row, N(row), &st, &err), 0);
    assert_true(isnan(st.rows[0].min));
    assert_true(st.rows[0].max == 12.0);
    assert_true(isnan(st.rows[0].avg));
    assert_true(st.rows[0].median == 10.5);
    assert_true(isnan(st.rows[0].stddev));
    assert_true(isnan(st.rows[0].p95));
    dva_stats_free(&st);
}

static void test_count_and_sum_required(void **state)
{
    (void)state;
    dva_stats st;
    dva_error err;
    assert_int_equal(decode_one("", "1", "1", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "count"));
    assert_int_equal(decode_one("1", "", "1", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "sum"));
}

static void test_bad_counts(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "-1",
        "+1",
        " 1",
        "1 ",
        "0x10",
        "1.0",
        "1e3",
        "18446744073709551616",
        "99999999999999999999999",
        "١",
        "abc",
    };
    dva_stats st;
    dva_error err;
    for (size_t i = 0; i < N(bad); i++) {
        assert_int_equal(decode_one(bad[i], "0", "0", &st, &err), -1);
        assert_int_equal(err.code, DVA_ERR_DECODE);
        assert_null(st.rows);
    }
    assert_int_equal(decode_one("18446744073709551615", "0", "1", &st, &err), 0);
    assert_true(st.rows[0].count == UINT64_MAX);
    dva_stats_free(&st);
}

static void test_bad_doubles(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "nan", "NaN",  "inf",  "-inf", "infinity", "1e5",   "1.",    ".5",
        "1,5", " 1.0", "1.0 ", "--1",  "-",        "0x1p3", "1.2.3",
    };
    dva_stats st;
    dva_error err;
    for (size_t i = 0; i < N(bad); i++) {
        assert_int_equal(decode_one("1", "1", bad[i], &st, &err), -1);
        assert_int_equal(err.code, DVA_ERR_DECODE);
    }
    /* 400 digits overflow a double: refused, not inf */
    char big[402];
    memset(big, '9', 400);
    big[400] = '\0';
    assert_int_equal(decode_one("1", "1", big, &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
}

static void test_nul_and_empty_names(void **state)
{
    (void)state;
    dva_reply r;
    dva_stats st;
    dva_error err;
    const char *vals[] = {"imap\0x", "duration", "1", "1", "1",
                          "1",       "1",        "1", "1", "1"};
    size_t lens[] = {6, 8, 1, 1, 1, 1, 1, 1, 1, 1};
    dva_test_build_reply_len(&r, DVA_STATUS_OK, DVA_STATS_NCOLS, vals, lens, N(vals));
    assert_int_equal(dva_stats_decode(&r, &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "NUL"));
    dva_reply_free(&r);

    const char *empty_metric[] = {"",  "duration", "1", "1", "1",
                                  "1", "1",        "1", "1", "1"};
    assert_int_equal(decode_values(empty_metric, N(empty_metric), &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    const char *empty_field[] = {"m", "", "1", "1", "1", "1", "1", "1", "1", "1"};
    assert_int_equal(decode_values(empty_field, N(empty_field), &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
}

/* A bad value in a later row frees what was decoded (ASan checks). */
static void test_error_in_second_row(void **state)
{
    (void)state;
    dva_stats st;
    dva_error err;
    const char *rows[] = {"a", "duration", "1", "1", "1", "1", "1", "1", "1", "1",
                          "b", "duration", "1", "1", "1", "1", "x", "1", "1", "1"};
    assert_int_equal(decode_values(rows, N(rows), &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "Row 2"));
    assert_non_null(strstr(err.message, "avg"));
    assert_null(st.rows);
}

static void test_partial_row_refused(void **state)
{
    (void)state;
    dva_reply r;
    dva_stats st;
    dva_error err;
    const char *vals[] = {"a", "duration", "1", "1", "1", "1", "1", "1", "1", "1", "b"};
    dva_test_build_reply(&r, DVA_STATUS_OK, DVA_STATS_NCOLS, vals, N(vals));
    assert_int_equal(dva_stats_decode(&r, &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);

    /* ncols 0 (not cut) is not the stats width either */
    dva_test_build_reply(&r, DVA_STATUS_OK, 0, vals, 10);
    assert_int_equal(dva_stats_decode(&r, &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);
}

/* ---- decode_util parsers ---- */

static void test_parse_u64(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_true(dva_parse_u64("0", &v) && v == 0);
    assert_true(dva_parse_u64("007", &v) && v == 7);
    assert_true(dva_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
    v = 42;
    assert_false(dva_parse_u64("18446744073709551616", &v));
    assert_false(dva_parse_u64("18446744073709551620", &v));
    assert_false(dva_parse_u64("", &v));
    assert_false(dva_parse_u64(NULL, &v));
    assert_false(dva_parse_u64("-0", &v));
    assert_false(dva_parse_u64("+5", &v));
    assert_false(dva_parse_u64("5\n", &v));
    assert_false(dva_parse_u64("\t5", &v));
    assert_int_equal(v, 42); /* untouched on failure */
}

static void test_parse_double(void **state)
{
    (void)state;
    double d = 0;
    assert_true(dva_parse_double("0", &d) && d == 0.0);
    assert_true(dva_parse_double("0.00", &d) && d == 0.0);
    assert_true(dva_parse_double("2223.46", &d) && d == strtod("2223.46", NULL));
    assert_true(dva_parse_double("-1.50", &d) && d == -1.5);
    assert_true(dva_parse_double("18446744073709551615", &d) &&
                d == 18446744073709551615.0);
    /* more digits than fit exactly: still close to strtod's answer */
    assert_true(dva_parse_double("123456789012345678901.25", &d));
    double ref = strtod("123456789012345678901.25", NULL);
    assert_true(fabs(d - ref) / ref < 1e-12);
    d = 3;
    assert_false(dva_parse_double("", &d));
    assert_false(dva_parse_double(NULL, &d));
    assert_false(dva_parse_double("1e3", &d));
    assert_false(dva_parse_double("nan", &d));
    assert_int_equal((int)d, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_capture_pinned),
        cmocka_unit_test(test_capture_default_fields),
        cmocka_unit_test(test_capture_other_width_refused),
        cmocka_unit_test(test_capture_usage_failure),
        cmocka_unit_test(test_empty_reply),
        cmocka_unit_test(test_empty_values_are_nan),
        cmocka_unit_test(test_count_and_sum_required),
        cmocka_unit_test(test_bad_counts),
        cmocka_unit_test(test_bad_doubles),
        cmocka_unit_test(test_nul_and_empty_names),
        cmocka_unit_test(test_error_in_second_row),
        cmocka_unit_test(test_partial_row_refused),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_parse_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
