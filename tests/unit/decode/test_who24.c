/* SPDX-License-Identifier: MIT */
/* `who -1` of Dovecot 2.4 (doveadm-who.c: username, service, pid, ip,
 * dest_ip, then the server's alternative username fields, whose count is
 * not sent): the decoder finds the row width itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/who.h"
#include "test_support_reply.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static dva_reply reply; /* rows point into it until the next decode */

static int decode(dva_status status, const char *const *vals, size_t n,
                  dva_generation gen, dva_who_sessions *out, dva_error *err)
{
    dva_reply_free(&reply);
    dva_test_build_reply(&reply, status, 0, vals, n);
    return dva_who_sessions_decode_gen(&reply, gen, out, err);
}

static void test_command(void **state)
{
    (void)state;
    dva_command cmd;
    dva_who_sessions_command_gen(&cmd, DVA_GEN_24);
    assert_int_equal(cmd.argc, 2);
    assert_string_equal(cmd.argv[1], "-1");
    assert_int_equal(cmd.ncols, 0);
    dva_who_sessions_command_gen(&cmd, DVA_GEN_23);
    assert_int_equal(cmd.ncols, DVA_WHO_SESSIONS_NCOLS);
}

static void test_widths(void **state)
{
    (void)state;
    dva_who_sessions s;
    dva_error err;
    /* No alternative usernames: 5 columns. */
    const char *five[] = {"a", "imap", "7", "127.0.0.1", "10.0.0.1",
                          "b", "pop3", "8", "::1",       ""};
    assert_int_equal(decode(DVA_STATUS_OK, five, N(five), DVA_GEN_24, &s, &err), 0);
    assert_int_equal(s.nrows, 2);
    assert_string_equal(s.rows[1].ip, "::1");
    assert_string_equal(s.rows[1].dest_ip, "");
    assert_int_equal(s.rows[0].nalt, 0);
    dva_who_sessions_free(&s);

    /* Two alternative usernames, three rows. */
    const char *seven[] = {"a", "imap", "7", "i", "d", "x", "y",
                           "b", "imap", "8", "i", "d", "",  "z",
                           "c", "lmtp", "9", "i", "d", "",  ""};
    assert_int_equal(decode(DVA_STATUS_OK, seven, N(seven), DVA_GEN_24, &s, &err), 0);
    assert_int_equal(s.nrows, 3);
    assert_int_equal(s.rows[0].nalt, 2);
    assert_string_equal(s.rows[0].alt[1], "y");
    assert_string_equal(s.rows[1].alt[1], "z");
    assert_string_equal(s.rows[2].service, "lmtp");
    dva_who_sessions_free(&s);

    /* The same values read as 2.3 (4 columns) are refused. */
    assert_int_equal(decode(DVA_STATUS_OK, seven, N(seven), DVA_GEN_23, &s, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
}

static void test_refused(void **state)
{
    (void)state;
    dva_who_sessions s;
    dva_error err;
    const char *nopid[] = {"a", "imap", "x", "i", "d"};
    assert_int_equal(decode(DVA_STATUS_OK, nopid, N(nopid), DVA_GEN_24, &s, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    assert_null(s.rows);
    const char *four[] = {"a", "imap", "7", "i"};
    assert_int_equal(decode(DVA_STATUS_OK, four, N(four), DVA_GEN_24, &s, &err), -1);
    const char *zero[] = {"a", "imap", "0", "i", "d"};
    assert_int_equal(decode(DVA_STATUS_OK, zero, N(zero), DVA_GEN_24, &s, &err), -1);
    const char *nouser[] = {"", "imap", "7", "i", "d"};
    assert_int_equal(decode(DVA_STATUS_OK, nouser, N(nouser), DVA_GEN_24, &s, &err),
                     -1);
    /* Wider than 5 + DVA_WHO_MAX_ALT_FIELDS. */
    const char *wide[14] = {"a",  "imap", "7",  "i",  "d",  "x1", "x2",
                            "x3", "x4",   "x5", "x6", "x7", "x8", "x9"};
    assert_int_equal(decode(DVA_STATUS_OK, wide, N(wide), DVA_GEN_24, &s, &err), -1);
    assert_int_equal(decode(DVA_STATUS_FAILED, NULL, 0, DVA_GEN_24, &s, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    assert_int_equal(decode(DVA_STATUS_OK, NULL, 0, DVA_GEN_24, &s, &err), 0);
    assert_int_equal(s.nrows, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_refused),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    dva_reply_free(&reply);
    return failed;
}
