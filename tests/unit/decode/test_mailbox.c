/* SPDX-License-Identifier: MIT */
/* mailbox status -A: field validation, command building (Dovecot's fixed
 * output order), and the decoder against captures and built replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/mailbox.h"
#include "doveadm/reply.h"
#include "test_support_reply.h"

/* ---- helpers ---- */

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const FIELDS3[] = {"messages", "unseen", "vsize"};

/* ---- fields and command ---- */

static void test_field_valid(void **state)
{
    (void)state;
    static const char *const good[] = {"messages",    "recent",    "uidnext",
                                       "uidvalidity", "unseen",    "highestmodseq",
                                       "vsize",       "firstsaved"};
    for (size_t i = 0; i < N(good); i++)
        assert_true(dva_mailbox_field_valid(good[i]));
    static const char *const bad[] = {"guid", "all",     "Messages",       "messages ",
                                      "",     "deleted", "messages unseen"};
    for (size_t i = 0; i < N(bad); i++)
        assert_false(dva_mailbox_field_valid(bad[i]));
    assert_false(dva_mailbox_field_valid(NULL));
}

/* Without -A (2.4's per-user form; a real 2.4.1 answered
 * "INBOX\t5\t5\t300125\t"): no username column, rows credited to the
 * request's user. */
static void test_plain_form(void **state)
{
    (void)state;
    dva_command cmd;
    dva_error err;
    assert_int_equal(
        dva_mailbox_command(&cmd, FIELDS3, 3, "INBOX", DVA_ROWS_PLAIN, &err), 0);
    assert_int_equal(cmd.argc, 3);
    assert_string_equal(cmd.argv[0], "mailbox status");
    assert_string_equal(cmd.argv[1], "messages unseen vsize");
    assert_string_equal(cmd.argv[2], "INBOX");
    assert_int_equal(cmd.ncols, 4);

    static const char *const vals[] = {"INBOX", "5", "5", "300125"};
    dva_reply r;
    dva_test_build_reply(&r, DVA_STATUS_OK, cmd.ncols, vals, N(vals));
    dva_mailbox_status st;
    assert_int_equal(dva_mailbox_decode(&r, 3, "alice@example.com", &st, &err), 0);
    assert_int_equal(st.nrows, 1);
    assert_string_equal(st.rows[0].user, "alice@example.com");
    assert_string_equal(st.rows[0].mailbox, "INBOX");
    assert_int_equal(st.rows[0].values[2], 300125);
    dva_mailbox_free(&st);
    /* Plain rows name nobody: no user to credit them to, no decode. */
    assert_int_equal(dva_mailbox_decode(&r, 3, NULL, &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    dva_reply_free(&r);
}

static void test_command(void **state)
{
    (void)state;
    dva_command cmd;
    dva_error err;
    char mask[] = "INBOX*";
    assert_int_equal(dva_mailbox_command(&cmd, FIELDS3, 3, mask, DVA_ROWS_NAMED, &err),
                     0);
    assert_int_equal(cmd.argc, 4);
    assert_string_equal(cmd.argv[0], "mailbox status");
    assert_string_equal(cmd.argv[1], "-A");
    assert_string_equal(cmd.argv[2], "messages unseen vsize"); /* ONE argument */
    assert_string_equal(cmd.argv[3], "INBOX*");
    assert_null(cmd.argv[4]);
    assert_int_equal(cmd.ncols, 5);
    /* both live in the command's own storage */
    assert_true(cmd.argv[2] >= cmd.storage &&
                cmd.argv[2] < cmd.storage + sizeof(cmd.storage));
    assert_true(cmd.argv[3] >= cmd.storage &&
                cmd.argv[3] < cmd.storage + sizeof(cmd.storage));
    mask[0] = 'X';
    assert_string_equal(cmd.argv[3], "INBOX*");
}

static void test_command_all_fields(void **state)
{
    (void)state;
    static const char *const all[] = {"messages",    "recent",    "uidnext",
                                      "uidvalidity", "unseen",    "highestmodseq",
                                      "vsize",       "firstsaved"};
    dva_command cmd;
    dva_error err;
    assert_int_equal(dva_mailbox_command(&cmd, all, 8, "*", DVA_ROWS_NAMED, &err), 0);
    assert_string_equal(cmd.argv[2], "messages recent uidnext uidvalidity unseen "
                                     "highestmodseq vsize firstsaved");
    assert_int_equal(cmd.ncols, 10);
    const char *one[] = {"firstsaved"};
    assert_int_equal(dva_mailbox_command(&cmd, one, 1, "*", DVA_ROWS_NAMED, &err), 0);
    assert_string_equal(cmd.argv[2], "firstsaved");
    assert_int_equal(cmd.ncols, 3);
}

static void expect_command_fails(const char *const *fields, size_t n, const char *mask,
                                 const char *needle)
{
    dva_command cmd;
    dva_error err;
    assert_int_equal(dva_mailbox_command(&cmd, fields, n, mask, DVA_ROWS_NAMED, &err),
                     -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_int_equal(cmd.argc, 0);
    if (needle != NULL && strstr(err.message, needle) == NULL)
        fail_msg("\"%s\" not in \"%s\"", needle, err.message);
}

/* Dovecot prints "messages vsize" for "vsize messages": refused. */
static void test_command_order_enforced(void **state)
{
    (void)state;
    const char *rev[] = {"vsize", "messages"};
    expect_command_fails(rev, 2, "*", "must come before");
    const char *late[] = {"messages", "firstsaved", "unseen"};
    expect_command_fails(late, 3, "*", "unseen");
}

static void test_command_bad_fields(void **state)
{
    (void)state;
    const char *rep[] = {"messages", "messages"};
    expect_command_fails(rep, 2, "*", "twice");
    const char *rep2[] = {"messages", "vsize", "vsize"};
    expect_command_fails(rep2, 3, "*", "twice");
    const char *unknown[] = {"messages", "guid"};
    expect_command_fails(unknown, 2, "*", "guid");
    const char *null_field[] = {"messages", NULL};
    expect_command_fails(null_field, 2, "*", "Unknown");
    const char *nine[] = {"messages",    "recent",     "uidnext",
                          "uidvalidity", "unseen",     "highestmodseq",
                          "vsize",       "firstsaved", "messages"};
    expect_command_fails(nine, 9, "*", "at most");
    expect_command_fails(FIELDS3, 0, "*", NULL);
    expect_command_fails(NULL, 3, "*", NULL);
}

static void test_command_bad_masks(void **state)
{
    (void)state;
    expect_command_fails(FIELDS3, 3, NULL, "mask");
    expect_command_fails(FIELDS3, 3, "", "mask");
    expect_command_fails(FIELDS3, 3, "-A", "option");

    /* the longest mask that fits, and one byte more */
    const size_t used = strlen("messages unseen vsize") + 1;
    size_t fit = DVA_COMMAND_STORAGE - used - 1;
    char *mask = malloc(fit + 2);
    assert_non_null(mask);
    memset(mask, 'm', fit + 1);
    mask[fit] = '\0';
    dva_command cmd;
    dva_error err;
    assert_int_equal(dva_mailbox_command(&cmd, FIELDS3, 3, mask, DVA_ROWS_NAMED, &err),
                     0);
    assert_int_equal(strlen(cmd.argv[3]), fit);
    mask[fit] = 'm';
    mask[fit + 1] = '\0';
    expect_command_fails(FIELDS3, 3, mask, "long");
    free(mask);
}

/* ---- captures ---- */

static void test_capture_alice(void **state)
{
    (void)state;
    dva_reply reply;
    dva_mailbox_status st;
    dva_error err;
    dva_test_parse_capture("mailbox_status_alice.bin", 5, &reply);
    assert_int_equal(dva_mailbox_decode(&reply, 3, "alice@example.com", &st, &err), 0);
    assert_int_equal(st.nrows, 1);
    assert_int_equal(st.nfields, 3);
    assert_string_equal(st.rows[0].user, "alice@example.com");
    assert_string_equal(st.rows[0].mailbox, "INBOX");
    assert_int_equal(st.rows[0].values[0], 6);     /* messages */
    assert_int_equal(st.rows[0].values[1], 6);     /* unseen */
    assert_int_equal(st.rows[0].values[2], 29500); /* vsize */
    dva_mailbox_free(&st);
    assert_null(st.rows);
    assert_int_equal(st.nfields, 0);
    dva_reply_free(&reply);
}

static void test_capture_alice_wrong_user(void **state)
{
    (void)state;
    dva_reply reply;
    dva_mailbox_status st;
    dva_error err;
    dva_test_parse_capture("mailbox_status_alice.bin", 5, &reply);
    assert_int_equal(dva_mailbox_decode(&reply, 3, "carol@example.com", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "alice@example.com"));
    assert_non_null(strstr(err.message, "carol@example.com"));
    assert_null(st.rows);
    assert_int_equal(dva_mailbox_decode(&reply, 3, "Alice@EXAMPLE.com", &st, &err), 0);
    dva_mailbox_free(&st);
    dva_reply_free(&reply);
}

static void test_capture_alice_wrong_nfields(void **state)
{
    (void)state;
    dva_reply reply;
    dva_mailbox_status st;
    dva_error err;
    dva_test_parse_capture("mailbox_status_alice.bin", 5, &reply);
    assert_int_equal(dva_mailbox_decode(&reply, 2, "alice@example.com", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_int_equal(dva_mailbox_decode(&reply, 4, "alice@example.com", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_int_equal(dva_mailbox_decode(&reply, 0, "alice@example.com", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    assert_int_equal(dva_mailbox_decode(&reply, 9, "alice@example.com", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    dva_reply_free(&reply);
}

/* dave: no mail directory, `*` matches nothing: empty success. */
static void test_capture_dave_empty(void **state)
{
    (void)state;
    dva_reply reply;
    dva_mailbox_status st;
    dva_error err;
    dva_test_parse_capture("mailbox_status_dave.bin", 5, &reply);
    assert_int_equal(dva_mailbox_decode(&reply, 3, "dave@example.com", &st, &err), 0);
    assert_int_equal(st.nrows, 0);
    assert_null(st.rows);
    dva_reply_free(&reply);
}

/* The split-fields capture (only "messages" taken as a field) still
 * decodes as a one-field reply. */
static void test_capture_one_field(void **state)
{
    (void)state;
    dva_reply reply;
    dva_mailbox_status st;
    dva_error err;
    dva_test_parse_capture("mailbox_status_split_fields.bin", 3, &reply);
    assert_int_equal(dva_mailbox_decode(&reply, 1, "alice@example.com", &st, &err), 0);
    assert_int_equal(st.nrows, 1);
    assert_int_equal(st.rows[0].values[0], 6);
    dva_mailbox_free(&st);
    dva_reply_free(&reply);
}

/* ---- built replies ---- */

static int decode_built(dva_reply *r, const char *const *vals, size_t n, size_t nfields,
                        const char *user, dva_mailbox_status *st, dva_error *err)
{
    dva_test_build_reply(r, DVA_STATUS_OK, 2 + nfields, vals, n);
    return dva_mailbox_decode(r, nfields, user, st, err);
}

static void test_firstsaved_never(void **state)
{
    (void)state;
    dva_reply r;
    dva_mailbox_status st;
    dva_error err;
    const char *vals[] = {"u", "INBOX", "0", "0",   "never",
                          "u", "Sent",  "2", "120", "1795335697"};
    assert_int_equal(decode_built(&r, vals, N(vals), 3, "u", &st, &err), 0);
    assert_int_equal(st.nrows, 2);
    assert_int_equal(st.rows[0].values[2], 0);
    assert_string_equal(st.rows[1].mailbox, "Sent");
    assert_int_equal(st.rows[1].values[2], 1795335697);
    dva_mailbox_free(&st);
    dva_reply_free(&r);

    /* "never" anywhere but the last column is not a number */
    const char *bad[] = {"u", "INBOX", "never", "0", "0"};
    assert_int_equal(decode_built(&r, bad, N(bad), 3, "u", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);
    /* "never" followed by a NUL byte is not "never" */
    const char *nul_never[] = {"u", "INBOX", "0", "0", "never\0junk"};
    size_t lens[] = {1, 5, 1, 1, 10};
    dva_test_build_reply_len(&r, DVA_STATUS_OK, 5, nul_never, lens, 5);
    assert_int_equal(dva_mailbox_decode(&r, 3, "u", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "NUL"));
    dva_reply_free(&r);
    const char *case_bad[] = {"u", "INBOX", "0", "0", "Never"};
    assert_int_equal(decode_built(&r, case_bad, N(case_bad), 3, "u", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);
}

static void test_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {"",   "-1", "1.0",
                                      "1 ", "x",  "18446744073709551616"};
    for (size_t i = 0; i < N(bad); i++) {
        dva_reply r;
        dva_mailbox_status st;
        dva_error err;
        const char *vals[] = {"u", "INBOX", "1", bad[i], "3"};
        assert_int_equal(decode_built(&r, vals, N(vals), 3, "u", &st, &err), -1);
        assert_int_equal(err.code, DVA_ERR_DECODE);
        assert_null(st.rows);
        dva_reply_free(&r);
    }
}

static void test_mailbox_names(void **state)
{
    (void)state;
    dva_reply r;
    dva_mailbox_status st;
    dva_error err;
    /* names with spaces, tabs (sent escaped) and UTF-8 are fine */
    const char *vals[] = {"u", "Archive/2024 \tq1", "1", "u", "Entw\xc3\xbcrfe", "2"};
    assert_int_equal(decode_built(&r, vals, N(vals), 1, "u", &st, &err), 0);
    assert_string_equal(st.rows[0].mailbox, "Archive/2024 \tq1");
    assert_string_equal(st.rows[1].mailbox, "Entw\xc3\xbcrfe");
    dva_mailbox_free(&st);
    dva_reply_free(&r);

    const char *empty[] = {"u", "", "1"};
    assert_int_equal(decode_built(&r, empty, N(empty), 1, "u", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);

    const char *nul[] = {"u", "IN\0BOX", "1"};
    size_t lens[] = {1, 6, 1};
    dva_test_build_reply_len(&r, DVA_STATUS_OK, 3, nul, lens, 3);
    assert_int_equal(dva_mailbox_decode(&r, 1, "u", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "NUL"));
    dva_reply_free(&r);
}

static void test_failed_reply(void **state)
{
    (void)state;
    dva_reply r;
    dva_mailbox_status st;
    dva_error err;
    dva_test_build_reply(&r, DVA_STATUS_NOUSER, 5, NULL, 0);
    assert_int_equal(dva_mailbox_decode(&r, 3, "u", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    assert_non_null(strstr(err.message, "NOUSER"));
    dva_reply_free(&r);
}

static void test_second_user_refused(void **state)
{
    (void)state;
    dva_reply r;
    dva_mailbox_status st;
    dva_error err;
    const char *vals[] = {"u", "INBOX", "1", "v", "INBOX", "2"};
    assert_int_equal(decode_built(&r, vals, N(vals), 1, "u", &st, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_non_null(strstr(err.message, "Row 2"));
    dva_reply_free(&r);
    /* NULL accepts any user */
    assert_int_equal(decode_built(&r, vals, N(vals), 1, NULL, &st, &err), 0);
    assert_int_equal(st.nrows, 2);
    dva_mailbox_free(&st);
    dva_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_valid),
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_plain_form),
        cmocka_unit_test(test_command_all_fields),
        cmocka_unit_test(test_command_order_enforced),
        cmocka_unit_test(test_command_bad_fields),
        cmocka_unit_test(test_command_bad_masks),
        cmocka_unit_test(test_capture_alice),
        cmocka_unit_test(test_capture_alice_wrong_user),
        cmocka_unit_test(test_capture_alice_wrong_nfields),
        cmocka_unit_test(test_capture_dave_empty),
        cmocka_unit_test(test_capture_one_field),
        cmocka_unit_test(test_firstsaved_never),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_mailbox_names),
        cmocka_unit_test(test_failed_reply),
        cmocka_unit_test(test_second_user_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
