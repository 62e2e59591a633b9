/* SPDX-License-Identifier: MIT */
/* quota get -A: command and decoder, against the captures of Dovecot
 * 2.3.19.1 (alice, bob near his limit, carol unlimited, dave's broken
 * backend) and built replies for every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode_util.h"
#include "doveadm/quota.h"
#include "doveadm/reply.h"
#include "test_support.h"
#include "test_support_reply.h"

/* ---- helpers ---- */

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Decodes a built one-row reply; the reply stays in *r for the caller. */
static int decode_row(dva_reply *r, const char *const *vals, const char *expected,
                      dva_quota *q, dva_error *err)
{
    dva_test_build_reply(r, DVA_STATUS_OK, DVA_QUOTA_NCOLS, vals, DVA_QUOTA_NCOLS);
    return dva_quota_decode(r, expected, q, err);
}

/* Expects a one-row reply to fail with code. */
static void expect_row_fails(const char *const *vals, const char *expected,
                             dva_errcode code, const char *needle)
{
    dva_reply r;
    dva_quota q = {(dva_quota_row *)1, 7};
    dva_error err;
    assert_int_equal(decode_row(&r, vals, expected, &q, &err), -1);
    assert_int_equal(err.code, code);
    if (needle != NULL && strstr(err.message, needle) == NULL)
        fail_msg("\"%s\" not in \"%s\"", needle, err.message);
    assert_null(q.rows);
    assert_int_equal(q.nrows, 0);
    dva_reply_free(&r);
}

/* ---- command ---- */

static void test_command(void **state)
{
    (void)state;
    dva_command cmd;
    memset(&cmd, 0x5a, sizeof(cmd));
    dva_quota_command(&cmd, DVA_ROWS_NAMED);
    assert_int_equal(cmd.argc, 2);
    assert_string_equal(cmd.argv[0], "quota get");
    assert_string_equal(cmd.argv[1], "-A");
    assert_null(cmd.argv[2]);
    assert_int_equal(cmd.ncols, DVA_QUOTA_NCOLS);
    dva_request req = dva_command_request(&cmd, "alice@example.com", NULL);
    assert_string_equal(req.username, "alice@example.com");
    assert_int_equal(req.ncols, 6);
}

/* ---- captures (values checked against cli_reference.txt) ---- */

static void decode_capture(const char *file, const char *user, dva_reply *reply,
                           dva_quota *q)
{
    dva_error err;
    dva_test_parse_capture(file, DVA_QUOTA_NCOLS, reply);
    if (dva_quota_decode(reply, user, q, &err) < 0)
        fail_msg("%s: %s", file, err.message);
}

static void test_capture_alice(void **state)
{
    (void)state;
    dva_reply reply;
    dva_quota q;
    decode_capture("quota_alice.bin", "alice@example.com", &reply, &q);
    assert_int_equal(q.nrows, 2);
    const dva_quota_row *s = &q.rows[0], *m = &q.rows[1];
    assert_string_equal(s->user, "alice@example.com");
    assert_string_equal(s->root, "User quota");
    assert_string_equal(s->type_name, "STORAGE");
    assert_int_equal(s->type, DVA_QUOTA_STORAGE);
    assert_false(s->error);
    assert_false(s->unlimited);
    assert_int_equal(s->value, 29); /* KiB */
    assert_int_equal(s->limit, 10240);
    assert_int_equal(s->percent, 0);
    assert_string_equal(m->type_name, "MESSAGE");
    assert_int_equal(m->type, DVA_QUOTA_MESSAGE);
    assert_int_equal(m->value, 6);
    assert_int_equal(m->limit, 1000);
    assert_int_equal(m->percent, 0);
    dva_quota_free(&q);
    assert_null(q.rows);
    dva_reply_free(&reply);
}

static void test_capture_bob_near_limit(void **state)
{
    (void)state;
    dva_reply reply;
    dva_quota q;
    decode_capture("quota_bob.bin", "bob@example.com", &reply, &q);
    assert_int_equal(q.nrows, 2);
    assert_int_equal(q.rows[0].type, DVA_QUOTA_STORAGE);
    assert_int_equal(q.rows[0].value, 93);
    assert_int_equal(q.rows[0].limit, 100);
    assert_int_equal(q.rows[0].percent, 93);
    assert_int_equal(q.rows[1].value, 20);
    assert_int_equal(q.rows[1].limit, 1000);
    assert_int_equal(q.rows[1].percent, 2);
    dva_quota_free(&q);
    dva_reply_free(&reply);
}

static void test_capture_carol_unlimited(void **state)
{
    (void)state;
    dva_reply reply;
    dva_quota q;
    decode_capture("quota_carol.bin", "carol@example.com", &reply, &q);
    assert_int_equal(q.nrows, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_true(q.rows[i].unlimited);
        assert_false(q.rows[i].error);
        assert_int_equal(q.rows[i].limit, 0);
        assert_int_equal(q.rows[i].percent, 0);
    }
    assert_int_equal(q.rows[0].value, 7);
    assert_int_equal(q.rows[1].value, 3);
    dva_quota_free(&q);
    dva_reply_free(&reply);
}

/* dave: "error" rows AND a -TEMPFAIL status (2.3.19.1). */
static void test_capture_dave_error(void **state)
{
    (void)state;
    dva_reply reply;
    dva_quota q;
    decode_capture("quota_dave.bin", "dave@example.com", &reply, &q);
    assert_int_equal(reply.status, DVA_STATUS_TEMPFAIL);
    assert_int_equal(q.nrows, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(q.rows[i].user, "dave@example.com");
        assert_true(q.rows[i].error);
        assert_false(q.rows[i].unlimited);
        assert_int_equal(q.rows[i].value, 0);
        assert_int_equal(q.rows[i].limit, 0);
        assert_int_equal(q.rows[i].percent, 0);
    }
    assert_int_equal(q.rows[0].type, DVA_QUOTA_STORAGE);
    assert_int_equal(q.rows[1].type, DVA_QUOTA_MESSAGE);
    dva_quota_free(&q);
    dva_reply_free(&reply);
}

static void test_capture_nouser(void **state)
{
    (void)state;
    dva_reply reply;
    dva_quota q;
    dva_error err;
    dva_test_parse_capture("quota_nouser.bin", DVA_QUOTA_NCOLS, &reply);
    assert_int_equal(dva_quota_decode(&reply, "nosuchuser@example.com", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    assert_non_null(strstr(err.message, "NOUSER"));
    dva_reply_free(&reply);
}

/* The guarantee: a row naming another user is never credited. */
static void test_capture_wrong_user(void **state)
{
    (void)state;
    dva_reply reply;
    dva_quota q;
    dva_error err;
    dva_test_parse_capture("quota_alice.bin", DVA_QUOTA_NCOLS, &reply);
    assert_int_equal(dva_quota_decode(&reply, "bob@example.com", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "alice@example.com"));
    assert_non_null(strstr(err.message, "bob@example.com"));
    assert_null(q.rows);
    /* a prefix or extension of the name is another user too */
    assert_int_equal(dva_quota_decode(&reply, "alice@example.co", &q, &err), -1);
    assert_int_equal(dva_quota_decode(&reply, "alice@example.com.", &q, &err), -1);
    assert_int_equal(dva_quota_decode(&reply, "", &q, &err), -1);
    dva_reply_free(&reply);
}

static void test_capture_user_case_and_null(void **state)
{
    (void)state;
    dva_reply reply;
    dva_quota q;
    dva_error err;
    dva_test_parse_capture("quota_alice.bin", DVA_QUOTA_NCOLS, &reply);
    assert_int_equal(dva_quota_decode(&reply, "ALICE@Example.COM", &q, &err), 0);
    assert_int_equal(q.nrows, 2);
    dva_quota_free(&q);
    assert_int_equal(dva_quota_decode(&reply, NULL, &q, &err), 0);
    assert_int_equal(q.nrows, 2);
    dva_quota_free(&q);
    dva_reply_free(&reply);
}

/* Three pipelined replies on one connection: each decodes for its own user
 * and for no other. */
static void test_capture_pipelined(void **state)
{
    (void)state;
    static const char *const users[] = {"alice@example.com", "bob@example.com",
                                        "carol@example.com"};
    static const uint64_t storage[] = {29, 93, 7};
    size_t len, off = 0;
    char *buf = dva_test_read_data("captures/pipelined_quota.bin", &len);
    dva_parser parser;
    dva_error err;
    dva_parser_init(&parser, NULL);
    for (size_t i = 0; i < 3; i++) {
        dva_reply reply;
        dva_quota q;
        size_t consumed = 0;
        dva_reply_init(&reply);
        dva_parser_begin(&parser, &reply, DVA_QUOTA_NCOLS);
        assert_int_equal(
            dva_parser_feed(&parser, buf + off, len - off, &consumed, &err),
            DVA_PARSE_DONE);
        off += consumed;
        assert_int_equal(dva_quota_decode(&reply, users[i], &q, &err), 0);
        assert_int_equal(q.rows[0].value, storage[i]);
        dva_quota_free(&q);
        assert_int_equal(dva_quota_decode(&reply, users[(i + 1) % 3], &q, &err), -1);
        assert_int_equal(err.code, DVA_ERR_DECODE);
        dva_reply_free(&reply);
    }
    assert_int_equal(off, len);
    free(buf);
}

/* `quota get` without -A (the plain form, real 2.3.19.1; a real 2.4.1
 * answers the same shape): 5 columns, the request user's rows. */
static void test_capture_without_A(void **state)
{
    (void)state;
    dva_reply reply;
    dva_quota q;
    dva_error err;
    dva_command cmd;
    dva_quota_command(&cmd, DVA_ROWS_PLAIN);
    assert_int_equal(cmd.argc, 1);
    assert_int_equal(cmd.ncols, DVA_QUOTA_NCOLS_PLAIN);
    dva_test_parse_capture("quota_alice_noA.bin", cmd.ncols, &reply);
    assert_int_equal(dva_quota_decode(&reply, "alice@example.com", &q, &err), 0);
    assert_int_equal(q.nrows, 2);
    assert_string_equal(q.rows[0].user, "alice@example.com");
    assert_string_equal(q.rows[0].root, "User quota");
    assert_int_equal(q.rows[0].type, DVA_QUOTA_STORAGE);
    assert_int_equal(q.rows[0].limit, 10240);
    assert_int_equal(q.rows[1].type, DVA_QUOTA_MESSAGE);
    assert_int_equal(q.rows[1].limit, 1000);
    dva_quota_free(&q);
    /* Plain rows name nobody: without the user they were asked for they
     * cannot be credited at all. */
    assert_int_equal(dva_quota_decode(&reply, NULL, &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    dva_reply_free(&reply);
}

/* ---- built replies ---- */

static void test_empty_success(void **state)
{
    (void)state;
    dva_reply r;
    dva_quota q;
    dva_error err;
    dva_test_build_reply(&r, DVA_STATUS_OK, DVA_QUOTA_NCOLS, NULL, 0);
    assert_int_equal(dva_quota_decode(&r, "a", &q, &err), 0);
    assert_int_equal(q.nrows, 0);
    assert_null(q.rows);
    dva_reply_free(&r);
}

static void test_unknown_type_is_other(void **state)
{
    (void)state;
    dva_reply r;
    dva_quota q;
    dva_error err;
    const char *vals[] = {"a", "", "STORAGE_BYTES", "5", "10", "50"};
    assert_int_equal(decode_row(&r, vals, "a", &q, &err), 0);
    assert_int_equal(q.rows[0].type, DVA_QUOTA_OTHER);
    assert_string_equal(q.rows[0].type_name, "STORAGE_BYTES");
    assert_string_equal(q.rows[0].root, "");
    assert_int_equal(q.rows[0].percent, 50);
    dva_quota_free(&q);
    dva_reply_free(&r);
    /* type names are case sensitive: "storage" is not STORAGE */
    const char *lower[] = {"a", "r", "storage", "5", "10", "50"};
    assert_int_equal(decode_row(&r, lower, "a", &q, &err), 0);
    assert_int_equal(q.rows[0].type, DVA_QUOTA_OTHER);
    dva_quota_free(&q);
    dva_reply_free(&r);
}

static void test_bad_numbers(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",      "-1",    "+1", "1 ", " 1", "0x1", "1.5", "1e3", "18446744073709551616",
        "ERROR", "Error", "--"};
    for (size_t i = 0; i < N(bad); i++) {
        const char *v[] = {"a", "r", "STORAGE", bad[i], "10", "0"};
        expect_row_fails(v, "a", DVA_ERR_DECODE, "value");
        const char *l[] = {"a", "r", "STORAGE", "1", bad[i], "0"};
        expect_row_fails(l, "a", DVA_ERR_DECODE, "limit");
        const char *p[] = {"a", "r", "STORAGE", "1", "10", bad[i]};
        expect_row_fails(p, "a", DVA_ERR_DECODE, "percent");
    }
    /* "-" means unlimited only in the limit column */
    const char *dash_value[] = {"a", "r", "STORAGE", "-", "10", "0"};
    expect_row_fails(dash_value, "a", DVA_ERR_DECODE, "value");
    const char *dash_percent[] = {"a", "r", "STORAGE", "1", "-", "-"};
    expect_row_fails(dash_percent, "a", DVA_ERR_DECODE, "percent");
}

static void test_max_values(void **state)
{
    (void)state;
    dva_reply r;
    dva_quota q;
    dva_error err;
    const char *vals[] = {
        "a", "r", "STORAGE", "18446744073709551615", "18446744073709551615", "100"};
    assert_int_equal(decode_row(&r, vals, "a", &q, &err), 0);
    assert_true(q.rows[0].value == UINT64_MAX);
    assert_true(q.rows[0].limit == UINT64_MAX);
    dva_quota_free(&q);
    dva_reply_free(&r);
}

static void test_mixed_error_refused(void **state)
{
    (void)state;
    const char *a[] = {"a", "r", "STORAGE", "error", "10", "0"};
    expect_row_fails(a, "a", DVA_ERR_DECODE, "error");
    const char *b[] = {"a", "r", "STORAGE", "5", "error", "error"};
    expect_row_fails(b, "a", DVA_ERR_DECODE, "error");
}

static void test_error_row_with_ok_status(void **state)
{
    (void)state;
    dva_reply r;
    dva_quota q;
    dva_error err;
    const char *vals[] = {"a", "r", "MESSAGE", "error", "error", "error"};
    assert_int_equal(decode_row(&r, vals, "a", &q, &err), 0);
    assert_true(q.rows[0].error);
    dva_quota_free(&q);
    dva_reply_free(&r);
}

/* TEMPFAIL is decoded only when rows explain it; other failures never. */
static void test_failure_statuses(void **state)
{
    (void)state;
    dva_reply r;
    dva_quota q;
    dva_error err;
    const char *ok_rows[] = {"a", "r", "STORAGE", "1", "10", "10"};
    dva_test_build_reply(&r, DVA_STATUS_TEMPFAIL, DVA_QUOTA_NCOLS, ok_rows, 6);
    assert_int_equal(dva_quota_decode(&r, "a", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    assert_null(q.rows);
    dva_reply_free(&r);

    dva_test_build_reply(&r, DVA_STATUS_TEMPFAIL, DVA_QUOTA_NCOLS, NULL, 0);
    assert_int_equal(dva_quota_decode(&r, "a", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    dva_reply_free(&r);

    const char *err_rows[] = {"a", "r", "STORAGE", "error", "error", "error"};
    dva_test_build_reply(&r, DVA_STATUS_NOPERM, DVA_QUOTA_NCOLS, err_rows, 6);
    assert_int_equal(dva_quota_decode(&r, "a", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    dva_reply_free(&r);

    /* a TEMPFAIL reply is still checked for the user */
    dva_test_build_reply(&r, DVA_STATUS_TEMPFAIL, DVA_QUOTA_NCOLS, err_rows, 6);
    assert_int_equal(dva_quota_decode(&r, "b", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);
}

static void test_wrong_user_in_later_row(void **state)
{
    (void)state;
    dva_reply r;
    dva_quota q;
    dva_error err;
    const char *vals[] = {"alice",   "r", "STORAGE", "1", "10", "10",
                          "mallory", "r", "MESSAGE", "1", "10", "10"};
    dva_test_build_reply(&r, DVA_STATUS_OK, DVA_QUOTA_NCOLS, vals, N(vals));
    assert_int_equal(dva_quota_decode(&r, "alice", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "Row 2"));
    assert_non_null(strstr(err.message, "mallory"));
    assert_null(q.rows);
    dva_reply_free(&r);
}

static void test_nul_and_empty_user(void **state)
{
    (void)state;
    dva_reply r;
    dva_quota q;
    dva_error err;
    /* "alice\0x" would compare equal to "alice" as a C string */
    const char *vals[] = {"alice\0x", "r", "STORAGE", "1", "10", "10"};
    size_t lens[] = {7, 1, 7, 1, 2, 2};
    dva_test_build_reply_len(&r, DVA_STATUS_OK, DVA_QUOTA_NCOLS, vals, lens, 6);
    assert_int_equal(dva_quota_decode(&r, "alice", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "NUL"));
    dva_reply_free(&r);

    const char *empty[] = {"", "r", "STORAGE", "1", "10", "10"};
    expect_row_fails(empty, NULL, DVA_ERR_DECODE, "username");
    const char *no_type[] = {"a", "r", "", "1", "10", "10"};
    expect_row_fails(no_type, NULL, DVA_ERR_DECODE, "type");
}

static void test_wrong_width(void **state)
{
    (void)state;
    dva_reply r;
    dva_quota q;
    dva_error err;
    const char *vals[] = {"a", "r", "STORAGE", "1", "10", "10", "a"};
    dva_test_build_reply(&r, DVA_STATUS_OK, 7, vals, 7);
    assert_int_equal(dva_quota_decode(&r, "a", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);
    dva_test_build_reply(&r, DVA_STATUS_OK, DVA_QUOTA_NCOLS, vals, 7); /* 7 % 6 != 0 */
    assert_int_equal(dva_quota_decode(&r, "a", &q, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);
}

static void test_user_equal(void **state)
{
    (void)state;
    assert_true(dva_user_equal("alice@example.com", "ALICE@EXAMPLE.COM"));
    assert_true(dva_user_equal("", ""));
    assert_false(dva_user_equal("alice", "alice2"));
    assert_false(dva_user_equal("alice2", "alice"));
    assert_false(dva_user_equal("alice", ""));
    /* only ASCII folds: bytes >= 0x80 compare exactly */
    assert_true(dva_user_equal("j\xc3\xa9r\xc3\xb4me", "J\xc3\xa9R\xc3\xb4ME"));
    assert_false(dva_user_equal("\xc3\xa9", "\xc3\x89"));
    /* '@' (0x40) and '`' (0x60) are not letters */
    assert_false(dva_user_equal("a@b", "a`b"));
    assert_false(dva_user_equal("[", "{"));
}

/* The length-taking helpers the row decoders use agree with the C-string
 * ones. */
static void test_user_equal_n_and_parse_u64_n(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"alice@example.com", "ALICE@EXAMPLE.COM"},
        {"", ""},
        {"alice", "alice2"},
        {"alice2", "alice"},
        {"j\xc3\xa9r", "J\xc3\xa9R"},
        {"\xc3\xa9", "\xc3\x89"},
        {"a@b", "a`b"},
        {"[", "{"},
        {"bob", "bOb"},
        {"bob", "bop"},
    };
    for (size_t i = 0; i < N(pairs); i++) {
        const char *a = pairs[i][0], *b = pairs[i][1];
        assert_int_equal(dva_user_equal_n(a, strlen(a), b, strlen(b)),
                         dva_user_equal(a, b));
    }
    uint64_t v = 42;
    assert_true(dva_parse_u64_n("0071", 3, &v) && v == 7); /* only len bytes */
    assert_true(dva_parse_u64_n("18446744073709551615", 20, &v) && v == UINT64_MAX);
    assert_true(dva_parse_u64_n("9999999999999999999", 19, &v) &&
                v == UINT64_C(9999999999999999999));
    v = 42;
    assert_false(dva_parse_u64_n("18446744073709551616", 20, &v));
    assert_false(dva_parse_u64_n("00000000000000000000018446744073709551616", 41, &v));
    assert_false(dva_parse_u64_n("", 0, &v));
    assert_false(dva_parse_u64_n("1\0002", 3, &v));
    assert_false(dva_parse_u64_n("-1", 2, &v));
    assert_false(dva_parse_u64_n("1 ", 2, &v));
    assert_int_equal(v, 42); /* untouched on failure */
    assert_true(dva_parse_u64_n("00000000000000000000018446744073709551615", 41, &v) &&
                v == UINT64_MAX);
}

/* dva_decode_cell: the cell with its length, the same refusals as
 * dva_decode_cstr, and only complete rows. */
static void test_decode_cell(void **state)
{
    (void)state;
    dva_reply r;
    dva_error err;
    dva_cell c;
    const char *vals[] = {"ab", "", "x\0y", "d", "e"};
    size_t lens[] = {2, 0, 3, 1, 1};
    dva_test_build_reply_len(&r, DVA_STATUS_OK, 2, vals, lens, 5);
    assert_int_equal(dva_decode_cell(&r, 0, 0, true, "t", "first", &c, &err), 0);
    assert_string_equal(c.s, "ab");
    assert_int_equal(c.len, 2);
    assert_int_equal(dva_decode_cell(&r, 0, 1, false, "t", "second", &c, &err), 0);
    assert_int_equal(c.len, 0);
    assert_int_equal(dva_decode_cell(&r, 0, 1, true, "t", "second", &c, &err), -1);
    assert_non_null(strstr(err.message, "empty second"));
    assert_int_equal(dva_decode_cell(&r, 1, 0, false, "t", "first", &c, &err), -1);
    assert_non_null(strstr(err.message, "NUL byte in its first"));
    assert_int_equal(dva_decode_cell(&r, 1, 1, false, "t", "second", &c, &err), 0);
    assert_string_equal(c.s, "d");
    /* value 4 ("e") is not a complete row; column 2 is past the width */
    assert_int_equal(dva_decode_cell(&r, 2, 0, false, "t", "first", &c, &err), -1);
    assert_non_null(strstr(err.message, "Row 3 of the t reply has no first column"));
    assert_int_equal(dva_decode_cell(&r, 0, 2, false, "t", "third", &c, &err), -1);
    assert_int_equal(dva_decode_cell(&r, SIZE_MAX, 1, false, "t", "x", &c, &err), -1);
    /* a whole row at once, unchecked: the decoder checks each cell */
    dva_cell row[2];
    assert_true(dva_decode_row_cells(&r, 1, 2, row));
    assert_int_equal(row[0].len, 3);
    assert_memory_equal(row[0].s, "x\0y", 3);
    assert_int_equal(dva_decode_check_cell(&r, &row[0], 1, false, "t", "first", &err),
                     -1);
    assert_int_equal(dva_decode_check_cell(&r, &row[1], 1, true, "t", "second", &err),
                     0);
    assert_false(dva_decode_row_cells(&r, 2, 2, row));
    assert_false(dva_decode_row_cells(&r, 0, 3, row));
    assert_null(dva_decode_cstr(&r, 1, 0, false, "t", "first", &err));
    assert_string_equal(dva_decode_cstr(&r, 1, 1, true, "t", "second", &err), "d");
    dva_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_capture_alice),
        cmocka_unit_test(test_capture_bob_near_limit),
        cmocka_unit_test(test_capture_carol_unlimited),
        cmocka_unit_test(test_capture_dave_error),
        cmocka_unit_test(test_capture_nouser),
        cmocka_unit_test(test_capture_wrong_user),
        cmocka_unit_test(test_capture_user_case_and_null),
        cmocka_unit_test(test_capture_pipelined),
        cmocka_unit_test(test_capture_without_A),
        cmocka_unit_test(test_empty_success),
        cmocka_unit_test(test_unknown_type_is_other),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_max_values),
        cmocka_unit_test(test_mixed_error_refused),
        cmocka_unit_test(test_error_row_with_ok_status),
        cmocka_unit_test(test_failure_statuses),
        cmocka_unit_test(test_wrong_user_in_later_row),
        cmocka_unit_test(test_nul_and_empty_user),
        cmocka_unit_test(test_wrong_width),
        cmocka_unit_test(test_user_equal),
        cmocka_unit_test(test_user_equal_n_and_parse_u64_n),
        cmocka_unit_test(test_decode_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
