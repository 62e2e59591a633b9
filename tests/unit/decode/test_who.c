/* SPDX-License-Identifier: MIT */
/* who / who -1: commands, decoders (captures from Dovecot 2.3.19.1 and
 * built replies) and the per-service summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/reply.h"
#include "doveadm/who.h"
#include "test_support_reply.h"

/* ---- helpers ---- */

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int decode_who(const char *const *vals, size_t n, dva_who *who, dva_error *err)
{
    dva_reply r;
    dva_test_build_reply(&r, DVA_STATUS_OK, DVA_WHO_NCOLS, vals, n);
    int ret = dva_who_decode(&r, who, err);
    dva_reply_free(&r);
    return ret;
}

static int decode_sessions(const char *const *vals, size_t n, dva_who_sessions *s,
                           dva_error *err)
{
    dva_reply r;
    dva_test_build_reply(&r, DVA_STATUS_OK, DVA_WHO_SESSIONS_NCOLS, vals, n);
    int ret = dva_who_sessions_decode(&r, s, err);
    dva_reply_free(&r);
    return ret;
}

/* A dva_who made directly from (user, service, connections) triples. */
static void make_who(dva_who *who, dva_who_row *rows, const char *const *triples,
                     const uint64_t *conns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rows[i] = (dva_who_row){.user = triples[2 * i],
                                .service = triples[2 * i + 1],
                                .connections = conns[i],
                                .pids = "(1)",
                                .ips = "()"};
    }
    who->rows = rows;
    who->nrows = n;
}

/* ---- commands ---- */

static void test_commands(void **state)
{
    (void)state;
    dva_command cmd;
    memset(&cmd, 0x5a, sizeof(cmd));
    dva_who_command(&cmd);
    assert_int_equal(cmd.argc, 1);
    assert_string_equal(cmd.argv[0], "who");
    assert_null(cmd.argv[1]);
    assert_int_equal(cmd.ncols, 5);

    memset(&cmd, 0x5a, sizeof(cmd));
    dva_who_sessions_command(&cmd);
    assert_int_equal(cmd.argc, 2);
    assert_string_equal(cmd.argv[0], "who");
    assert_string_equal(cmd.argv[1], "-1");
    assert_null(cmd.argv[2]);
    assert_int_equal(cmd.ncols, 4);
}

/* ---- captures (checked against cli_reference.txt `who` / `who -1`) ---- */

static void test_capture_who(void **state)
{
    (void)state;
    dva_reply reply;
    dva_who who;
    dva_error err;
    dva_test_parse_capture("who.bin", DVA_WHO_NCOLS, &reply);
    assert_int_equal(dva_who_decode(&reply, &who, &err), 0);
    assert_int_equal(who.nrows, 2);
    assert_string_equal(who.rows[0].user, "alice@example.com");
    assert_int_equal(who.rows[0].connections, 2);
    assert_string_equal(who.rows[0].service, "imap");
    assert_string_equal(who.rows[0].pids, "(12654 12656)");
    assert_string_equal(who.rows[0].ips, "(127.0.0.1)");
    assert_string_equal(who.rows[1].user, "bob@example.com");
    assert_int_equal(who.rows[1].connections, 1);
    assert_string_equal(who.rows[1].pids, "(12658)");

    dva_who_summary sum;
    assert_int_equal(dva_who_summarize(&who, &sum, &err), 0);
    assert_int_equal(sum.nservices, 1);
    assert_string_equal(sum.services[0].service, "imap");
    assert_int_equal(sum.services[0].users, 2);
    assert_int_equal(sum.services[0].sessions, 3);
    assert_int_equal(sum.users, 2);
    assert_int_equal(sum.sessions, 3);
    dva_who_summary_free(&sum);
    assert_null(sum.services);
    dva_who_free(&who);
    assert_null(who.rows);
    dva_reply_free(&reply);
}

/* Over TCP the rows came in the other order: same summary. */
static void test_capture_who_tcp_same_summary(void **state)
{
    (void)state;
    dva_reply reply;
    dva_who who;
    dva_who_summary sum;
    dva_error err;
    dva_test_parse_capture("who_tcp.bin", DVA_WHO_NCOLS, &reply);
    assert_int_equal(dva_who_decode(&reply, &who, &err), 0);
    assert_string_equal(who.rows[0].user, "bob@example.com");
    assert_int_equal(dva_who_summarize(&who, &sum, &err), 0);
    assert_int_equal(sum.nservices, 1);
    assert_int_equal(sum.services[0].users, 2);
    assert_int_equal(sum.services[0].sessions, 3);
    dva_who_summary_free(&sum);
    dva_who_free(&who);
    dva_reply_free(&reply);
}

static void test_capture_who_sessions(void **state)
{
    (void)state;
    dva_reply reply;
    dva_who_sessions s;
    dva_error err;
    dva_test_parse_capture("who_1.bin", DVA_WHO_SESSIONS_NCOLS, &reply);
    assert_int_equal(dva_who_sessions_decode(&reply, &s, &err), 0);
    assert_int_equal(s.nrows, 3);
    assert_string_equal(s.rows[0].user, "alice@example.com");
    assert_string_equal(s.rows[0].service, "imap");
    assert_string_equal(s.rows[0].pid, "12654");
    assert_string_equal(s.rows[0].ip, "127.0.0.1");
    assert_string_equal(s.rows[1].user, "bob@example.com");
    assert_string_equal(s.rows[1].pid, "12658");
    assert_string_equal(s.rows[2].user, "alice@example.com");
    assert_string_equal(s.rows[2].pid, "12656");
    dva_who_sessions_free(&s);
    assert_null(s.rows);
    dva_reply_free(&reply);
}

/* who -1's capture cut at who's width is refused, not misread. */
static void test_capture_wrong_width(void **state)
{
    (void)state;
    dva_reply reply;
    dva_who who;
    dva_who_sessions s;
    dva_error err;
    dva_test_parse_capture("who_1.bin", DVA_WHO_SESSIONS_NCOLS, &reply);
    assert_int_equal(dva_who_decode(&reply, &who, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&reply);

    dva_test_parse_capture("who.bin", DVA_WHO_NCOLS, &reply);
    assert_int_equal(dva_who_sessions_decode(&reply, &s, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&reply);
}

/* 2.4's who -1 has 6 columns; cut at 4, the pid column gives it away. */
static void test_sessions_misaligned_rows(void **state)
{
    (void)state;
    dva_who_sessions s;
    dva_error err;
    const char *vals[] = {"alice", "imap", "100", "127.0.0.1", "127.0.0.2", "x",
                          "bob",   "imap", "101", "127.0.0.1", "127.0.0.2", "y"};
    assert_int_equal(decode_sessions(vals, N(vals), &s, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "pid"));
}

static void test_sessions_bad_pid(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "0", "-1", "12a", "(12)", " 12"};
    dva_who_sessions s;
    dva_error err;
    for (size_t i = 0; i < N(bad); i++) {
        const char *vals[] = {"alice", "imap", bad[i], "127.0.0.1"};
        assert_int_equal(decode_sessions(vals, N(vals), &s, &err), -1);
        assert_int_equal(err.code, DVA_ERR_DECODE);
        assert_null(s.rows);
    }
}

static void test_sessions_empty_ip_ok(void **state)
{
    (void)state;
    dva_reply r;
    dva_who_sessions s;
    dva_error err;
    const char *vals[] = {"alice", "imap", "77", ""};
    dva_test_build_reply(&r, DVA_STATUS_OK, DVA_WHO_SESSIONS_NCOLS, vals, N(vals));
    assert_int_equal(dva_who_sessions_decode(&r, &s, &err), 0);
    assert_int_equal(s.nrows, 1);
    assert_string_equal(s.rows[0].pid, "77");
    assert_string_equal(s.rows[0].ip, "");
    dva_who_sessions_free(&s);
    dva_reply_free(&r);
}

static void test_who_bad_connections(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "-1", "two", "1.0", "18446744073709551616"};
    dva_who who;
    dva_error err;
    for (size_t i = 0; i < N(bad); i++) {
        const char *vals[] = {"alice", bad[i], "imap", "(1)", "(::1)"};
        assert_int_equal(decode_who(vals, N(vals), &who, &err), -1);
        assert_int_equal(err.code, DVA_ERR_DECODE);
        assert_non_null(strstr(err.message, "connections"));
    }
}

static void test_who_bad_lists(void **state)
{
    (void)state;
    dva_who who;
    dva_error err;
    const char *no_parens[] = {"alice", "1", "imap", "1234", "(127.0.0.1)"};
    assert_int_equal(decode_who(no_parens, N(no_parens), &who, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "pids"));
    const char *half[] = {"alice", "1", "imap", "(1234)", "("};
    assert_int_equal(decode_who(half, N(half), &who, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "ips"));
    const char *empty_user[] = {"", "1", "imap", "(1)", "()"};
    assert_int_equal(decode_who(empty_user, N(empty_user), &who, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    const char *empty_service[] = {"a", "1", "", "(1)", "()"};
    assert_int_equal(decode_who(empty_service, N(empty_service), &who, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    /* "()" is an empty list, which is fine */
    const char *ok[] = {"a", "1", "imap", "(1)", "()"};
    assert_int_equal(decode_who(ok, N(ok), &who, &err), 0);
    dva_who_free(&who);
}

static void test_who_nul_in_user(void **state)
{
    (void)state;
    dva_reply r;
    dva_who who;
    dva_error err;
    const char *vals[] = {"alice\0bob", "1", "imap", "(1)", "()"};
    size_t lens[] = {9, 1, 4, 3, 2};
    dva_test_build_reply_len(&r, DVA_STATUS_OK, DVA_WHO_NCOLS, vals, lens, N(vals));
    assert_int_equal(dva_who_decode(&r, &who, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "NUL"));
    dva_reply_free(&r);
}

static void test_who_failed_reply(void **state)
{
    (void)state;
    dva_reply r;
    dva_who who;
    dva_who_sessions s;
    dva_error err;
    dva_test_build_reply(&r, DVA_STATUS_FAILED, DVA_WHO_NCOLS, NULL, 0);
    assert_int_equal(dva_who_decode(&r, &who, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    r.ncols = DVA_WHO_SESSIONS_NCOLS;
    assert_int_equal(dva_who_sessions_decode(&r, &s, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    dva_reply_free(&r);
}

/* ---- summary ---- */

static void test_summary_services_and_duplicates(void **state)
{
    (void)state;
    /* unsorted services; alice twice under imap (counted once, both
     * connection counts summed); Alice (other case) is another string */
    const char *pairs[] = {
        "alice",      "pop3",  "bob",  "imap",  "alice", "imap", "carol",
        "submission", "alice", "imap", "Alice", "imap",  "bob",  "pop3",
    };
    const uint64_t conns[] = {1, 2, 3, 1, 4, 1, 5};
    dva_who_row rows[7];
    dva_who who;
    dva_who_summary sum;
    dva_error err;
    make_who(&who, rows, pairs, conns, 7);
    assert_int_equal(dva_who_summarize(&who, &sum, &err), 0);
    assert_int_equal(sum.nservices, 3);
    assert_string_equal(sum.services[0].service, "imap");
    assert_int_equal(sum.services[0].users, 3); /* alice, bob, Alice */
    assert_int_equal(sum.services[0].sessions, 2 + 3 + 4 + 1);
    assert_string_equal(sum.services[1].service, "pop3");
    assert_int_equal(sum.services[1].users, 2);
    assert_int_equal(sum.services[1].sessions, 1 + 5);
    assert_string_equal(sum.services[2].service, "submission");
    assert_int_equal(sum.services[2].users, 1);
    assert_int_equal(sum.services[2].sessions, 1);
    assert_int_equal(sum.users, 4); /* alice, bob, carol, Alice */
    assert_int_equal(sum.sessions, 17);
    /* the input is not reordered */
    assert_string_equal(who.rows[0].service, "pop3");
    dva_who_summary_free(&sum);
}

static void test_summary_empty(void **state)
{
    (void)state;
    dva_who who = {NULL, 0};
    dva_who_summary sum;
    dva_error err;
    memset(&sum, 0x5a, sizeof(sum));
    assert_int_equal(dva_who_summarize(&who, &sum, &err), 0);
    assert_int_equal(sum.nservices, 0);
    assert_null(sum.services);
    assert_int_equal(sum.users, 0);
    assert_int_equal(sum.sessions, 0);
    dva_who_summary_free(&sum);
}

static void test_summary_overflow(void **state)
{
    (void)state;
    const char *pairs[] = {"a", "imap", "b", "pop3"};
    const uint64_t conns[] = {UINT64_MAX, 1};
    dva_who_row rows[2];
    dva_who who;
    dva_who_summary sum;
    dva_error err;
    make_who(&who, rows, pairs, conns, 2);
    assert_int_equal(dva_who_summarize(&who, &sum, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_null(sum.services);
    assert_int_equal(sum.nservices, 0);
}

static void test_summary_many_rows(void **state)
{
    (void)state;
    enum { ROWS = 3000 };
    static char names[ROWS][16];
    static const char *pairs[2 * ROWS];
    static uint64_t conns[ROWS];
    static dva_who_row rows[ROWS];
    static const char *const services[] = {"imap", "pop3", "lmtp"};
    for (size_t i = 0; i < ROWS; i++) {
        snprintf(names[i], sizeof(names[i]), "u%zu", i % 1000);
        pairs[2 * i] = names[i];
        pairs[2 * i + 1] = services[i / 1000];
        conns[i] = 2;
    }
    dva_who who;
    dva_who_summary sum;
    dva_error err;
    make_who(&who, rows, pairs, conns, ROWS);
    assert_int_equal(dva_who_summarize(&who, &sum, &err), 0);
    assert_int_equal(sum.nservices, 3);
    assert_string_equal(sum.services[0].service, "imap");
    assert_string_equal(sum.services[1].service, "lmtp");
    assert_string_equal(sum.services[2].service, "pop3");
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(sum.services[i].users, 1000);
        assert_int_equal(sum.services[i].sessions, 2000);
    }
    assert_int_equal(sum.users, 1000);
    assert_int_equal(sum.sessions, 6000);
    dva_who_summary_free(&sum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_capture_who),
        cmocka_unit_test(test_capture_who_tcp_same_summary),
        cmocka_unit_test(test_capture_who_sessions),
        cmocka_unit_test(test_capture_wrong_width),
        cmocka_unit_test(test_sessions_misaligned_rows),
        cmocka_unit_test(test_sessions_bad_pid),
        cmocka_unit_test(test_sessions_empty_ip_ok),
        cmocka_unit_test(test_who_bad_connections),
        cmocka_unit_test(test_who_bad_lists),
        cmocka_unit_test(test_who_nul_in_user),
        cmocka_unit_test(test_who_failed_reply),
        cmocka_unit_test(test_summary_services_and_duplicates),
        cmocka_unit_test(test_summary_empty),
        cmocka_unit_test(test_summary_overflow),
        cmocka_unit_test(test_summary_many_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
