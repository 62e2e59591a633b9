/* SPDX-License-Identifier: MIT */
/* user <mask>: command, reply decoding (captures from Dovecot 2.3.19.1) and
 * the strict JSON parser for {"userList":[...]}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/reply.h"
#include "doveadm/userlist.h"
#include "test_support_reply.h"

/* ---- helpers ---- */

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define MAXU 1000

/* Parses a C string; returns the result and leaves the list in *out. */
static int parse(const char *json, dva_userlist *out, dva_error *err)
{
    return dva_userlist_parse(json, strlen(json), MAXU, out, err);
}

static void expect_decode_error(const char *json, const char *needle)
{
    dva_userlist l = {.users = (char **)1, .strings = (char *)1, .nusers = 5};
    dva_error err;
    if (parse(json, &l, &err) != -1)
        fail_msg("accepted: %s", json);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    if (needle != NULL && strstr(err.message, needle) == NULL)
        fail_msg("\"%s\" not in \"%s\"", needle, err.message);
    assert_null(l.users);
    assert_null(l.strings);
    assert_int_equal(l.nusers, 0);
}

static void expect_users(const char *json, const char *const *users, size_t n)
{
    dva_userlist l;
    dva_error err;
    if (parse(json, &l, &err) != 0)
        fail_msg("%s: %s", json, err.message);
    assert_int_equal(l.nusers, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l.users[i], users[i]);
    dva_userlist_free(&l);
    assert_null(l.users);
    assert_int_equal(l.nusers, 0);
}

/* ---- command ---- */

static void test_command(void **state)
{
    (void)state;
    dva_command cmd;
    char mask[] = "*@example.com";
    memset(&cmd, 0x5a, sizeof(cmd));
    assert_int_equal(dva_userlist_command(&cmd, mask), 0);
    assert_int_equal(cmd.argc, 2);
    assert_string_equal(cmd.argv[0], "user");
    assert_string_equal(cmd.argv[1], "*@example.com");
    assert_null(cmd.argv[2]);
    assert_int_equal(cmd.ncols, 1);
    mask[0] = 'x'; /* copied, not borrowed */
    assert_string_equal(cmd.argv[1], "*@example.com");
}

static void test_command_rejects(void **state)
{
    (void)state;
    dva_command cmd;
    assert_int_equal(dva_userlist_command(&cmd, NULL), -1);
    assert_int_equal(cmd.argc, 0);
    assert_int_equal(dva_userlist_command(&cmd, ""), -1);
    assert_int_equal(cmd.argc, 0);
    assert_int_equal(dva_userlist_command(&cmd, "-a"), -1);
    assert_int_equal(cmd.argc, 0);

    char mask[DVA_COMMAND_STORAGE + 1];
    memset(mask, 'u', sizeof(mask));
    mask[DVA_COMMAND_STORAGE - 1] = '\0'; /* 511 bytes: fits */
    assert_int_equal(dva_userlist_command(&cmd, mask), 0);
    assert_int_equal(strlen(cmd.argv[1]), DVA_COMMAND_STORAGE - 1);
    mask[DVA_COMMAND_STORAGE - 1] = 'u';
    mask[DVA_COMMAND_STORAGE] = '\0'; /* 512 bytes: does not */
    assert_int_equal(dva_userlist_command(&cmd, mask), -1);
    assert_int_equal(cmd.argc, 0);
    assert_null(cmd.argv[1]);
}

/* ---- captures ---- */

static void test_capture_user_list(void **state)
{
    (void)state;
    dva_reply reply;
    dva_userlist l;
    dva_error err;
    dva_test_parse_capture("user_list.bin", 1, &reply);
    assert_int_equal(reply.nvalues, 1);
    assert_int_equal(dva_userlist_decode(&reply, MAXU, &l, &err), 0);
    assert_int_equal(l.nusers, 5);
    assert_string_equal(l.users[0], "alice@example.com");
    assert_string_equal(l.users[1], "bob@example.com");
    assert_string_equal(l.users[2], "carol@example.com");
    assert_string_equal(l.users[3], "dave@example.com");
    assert_string_equal(l.users[4], "erin@example.org");
    dva_userlist_free(&l);
    /* the users are owned: they outlive the reply */
    assert_int_equal(dva_userlist_decode(&reply, MAXU, &l, &err), 0);
    dva_reply_free(&reply);
    assert_string_equal(l.users[4], "erin@example.org");
    dva_userlist_free(&l);
}

static void test_capture_limit(void **state)
{
    (void)state;
    dva_reply reply;
    dva_userlist l;
    dva_error err;
    dva_test_parse_capture("user_list.bin", 1, &reply);
    assert_int_equal(dva_userlist_decode(&reply, 5, &l, &err), 0);
    assert_int_equal(l.nusers, 5);
    dva_userlist_free(&l);
    assert_int_equal(dva_userlist_decode(&reply, 4, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_LIMIT);
    assert_non_null(strstr(err.message, "4"));
    assert_null(l.users);
    assert_int_equal(l.nusers, 0);
    dva_reply_free(&reply);
}

static void test_capture_nomatch(void **state)
{
    (void)state;
    dva_reply reply;
    dva_userlist l;
    dva_error err;
    dva_test_parse_capture("user_list_nomatch.bin", 1, &reply);
    assert_int_equal(dva_userlist_decode(&reply, MAXU, &l, &err), 0);
    assert_int_equal(l.nusers, 0);
    dva_userlist_free(&l);
    /* an empty list is fine even with max_users 0 */
    assert_int_equal(dva_userlist_decode(&reply, 0, &l, &err), 0);
    dva_reply_free(&reply);
}

/* ---- decode: reply shape ---- */

static void test_decode_reply_shape(void **state)
{
    (void)state;
    dva_reply r;
    dva_userlist l;
    dva_error err;
    const char *two[] = {"{\"userList\":[]}", "{\"userList\":[]}"};
    dva_test_build_reply(&r, DVA_STATUS_OK, 1, two, 2);
    assert_int_equal(dva_userlist_decode(&r, MAXU, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);

    dva_test_build_reply(&r, DVA_STATUS_OK, 1, NULL, 0);
    assert_int_equal(dva_userlist_decode(&r, MAXU, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);

    /* the transient failure while the auth worker starts */
    dva_test_build_reply(&r, DVA_STATUS_DATAERR, 1, two, 1);
    assert_int_equal(dva_userlist_decode(&r, MAXU, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_COMMAND);
    assert_non_null(strstr(err.message, "DATAERR"));
    dva_reply_free(&r);

    dva_test_build_reply(&r, DVA_STATUS_OK, 2, two, 2);
    assert_int_equal(dva_userlist_decode(&r, MAXU, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);

    /* a NUL byte sent escaped inside the JSON */
    const char *nul[] = {"{\"userList\":[\"a\0b\"]}"};
    size_t len = 20;
    dva_test_build_reply_len(&r, DVA_STATUS_OK, 1, nul, &len, 1);
    assert_int_equal(dva_userlist_decode(&r, MAXU, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    dva_reply_free(&r);
}

/* ---- JSON ---- */

static void test_whitespace(void **state)
{
    (void)state;
    static const char *const ab[] = {"a", "b"};
    expect_users(" \t\r\n{ \"userList\" : [ \"a\" , \"b\" ] } \n", ab, 2);
    expect_users("{\"userList\":[\"a\",\"b\"]}", ab, 2);
    expect_users("{\n  \"userList\": [\n    \"a\",\n    \"b\"\n  ]\n}\n", ab, 2);
    expect_users("{\"userList\":[ ]}", NULL, 0);
    expect_decode_error("{\"userList\":[\"a\"]}\v", "end of the text");
    expect_decode_error("\xc2\xa0{\"userList\":[]}", NULL); /* NBSP is not JSON space */
}

static void test_simple_escapes(void **state)
{
    (void)state;
    static const char *const want[] = {"q\"b\\s/x", "\b\f\n\r\t"};
    expect_users("{\"userList\":[\"q\\\"b\\\\s\\/x\",\"\\b\\f\\n\\r\\t\"]}", want, 2);
    static const char *const key[] = {"k"};
    /* the key may be escaped too */
    expect_users("{\"user\\u004cist\":[\"k\"]}", key, 1);
}

static void test_unicode_escapes(void **state)
{
    (void)state;
    static const char *const want[] = {
        "\xc3\xa9",         /* U+00E9 */
        "\xe2\x82\xac",     /* U+20AC */
        "\xf0\x9f\x98\x80", /* U+1F600 via a surrogate pair */
        "\xf4\x8f\xbf\xbf", /* U+10FFFF */
        "A\x7f",
        "\x01",
    };
    expect_users("{\"userList\":[\"\\u00e9\",\"\\u20AC\",\"\\ud83d\\ude00\","
                 "\"\\uDBFF\\uDFFF\",\"\\u0041\\u007f\",\"\\u0001\"]}",
                 want, N(want));
}

static void test_bad_unicode_escapes(void **state)
{
    (void)state;
    expect_decode_error("{\"userList\":[\"\\ud83d\"]}", "low surrogate");
    expect_decode_error("{\"userList\":[\"\\ud83dx\"]}", "low surrogate");
    expect_decode_error("{\"userList\":[\"\\ud83d\\u0041\"]}", "low surrogate");
    expect_decode_error("{\"userList\":[\"\\ud83d\\ud83d\"]}", "low surrogate");
    expect_decode_error("{\"userList\":[\"\\ude00\"]}", "lone low surrogate");
    expect_decode_error("{\"userList\":[\"\\u12\"]}", "hex");
    expect_decode_error("{\"userList\":[\"\\u12G4\"]}", "hex");
    expect_decode_error("{\"userList\":[\"\\u\"]}", "hex");
    expect_decode_error("{\"userList\":[\"\\U0041\"]}", "escape");
    expect_decode_error("{\"userList\":[\"\\x41\"]}", "escape");
    expect_decode_error("{\"userList\":[\"\\'\"]}", "escape");
}

static void test_nul_rejected(void **state)
{
    (void)state;
    expect_decode_error("{\"userList\":[\"a\\u0000b\"]}", "NUL");
    expect_decode_error("{\"userList\":[\"\\u0000\"]}", "NUL");
    /* a raw NUL byte inside the text */
    dva_userlist l;
    dva_error err;
    static const char raw[] = "{\"userList\":[\"a\0b\"]}";
    assert_int_equal(dva_userlist_parse(raw, sizeof(raw) - 1, MAXU, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
    static const char after[] = "{\"userList\":[]}\0";
    assert_int_equal(dva_userlist_parse(after, sizeof(after) - 1, MAXU, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_DECODE);
}

static void test_raw_control_chars(void **state)
{
    (void)state;
    expect_decode_error("{\"userList\":[\"a\nb\"]}", "control");
    expect_decode_error("{\"userList\":[\"a\tb\"]}", "control");
    expect_decode_error("{\"userList\":[\"\x1f\"]}", "control");
    /* DEL is not a JSON control character */
    static const char *const del[] = {"a\x7f"};
    expect_users("{\"userList\":[\"a\x7f\"]}", del, 1);
}

static void test_utf8_validation(void **state)
{
    (void)state;
    static const char *const ok[] = {"j\xc3\xa9r\xc3\xb4me", "\xe4\xb8\xad",
                                     "\xf0\x90\x80\x80"};
    expect_users("{\"userList\":[\"j\xc3\xa9r\xc3\xb4me\",\"\xe4\xb8\xad\","
                 "\"\xf0\x90\x80\x80\"]}",
                 ok, 3);
    static const char *const bad[] = {
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\x80",     /* overlong */
        "\xed\xa0\x80",     /* UTF-16 surrogate */
        "\xf0\x80\x80\x80", /* overlong */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80", "\xff", "\x80", "\xc3", "\xe2\x82", "\xc3\x28",
    };
    for (size_t i = 0; i < N(bad); i++) {
        char json[64];
        snprintf(json, sizeof(json), "{\"userList\":[\"a%sb\"]}", bad[i]);
        expect_decode_error(json, "UTF-8");
    }
    /* a truncated sequence right before the closing quote */
    expect_decode_error("{\"userList\":[\"\xe2\x82\"]}", "UTF-8");
}

static void test_structure_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "{}",
        "[]",
        "\"userList\"",
        "null",
        "{\"userList\"}",
        "{\"userList\":}",
        "{\"userList\":null}",
        "{\"userList\":\"a\"}",
        "{\"userList\":{}}",
        "{\"userList\":[}",
        "{\"userList\":[\"a\"}",
        "{\"userList\":[\"a\",]}",
        "{\"userList\":[,\"a\"]}",
        "{\"userList\":[\"a\" \"b\"]}",
        "{\"userList\":[\"a\"],}",
        "{\"userList\":[[\"a\"]]}",
        "{\"userList\":[{\"a\":1}]}",
        "{\"userList\":[1]}",
        "{\"userList\":[null]}",
        "{\"userList\":[true]}",
        "{\"userList\":[\"a\"]]}",
        "{\"userList\":[\"a\"]}}",
        "{\"userList\":[\"a\"]} x",
        "{\"userList\":[\"a\"]}{\"userList\":[]}",
        "{\"userList\":[\"a]}",
        "{\"userList\":[\"a\\\"]}",
        "{\"userList\":[\"a\\",
        "{userList:[\"a\"]}",
        "{'userList':['a']}",
        "{\"userlist\":[\"a\"]}",
        "{\"users\":[\"a\"]}",
        "{\"\":[\"a\"]}",
        "{\"userList\":[\"a\"],\"userList\":[\"b\"]}",
        "{\"other\":1,\"userList\":[\"a\"]}",
        "{\"userList\":[\"a\"],\"other\":1}",
        "\xef\xbb\xbf{\"userList\":[]}", /* BOM */
    };
    for (size_t i = 0; i < N(bad); i++)
        expect_decode_error(bad[i], NULL);
}

static void test_messages_name_the_offset(void **state)
{
    (void)state;
    expect_decode_error("{\"userList\":[\"a\"] x", "offset 18");
    expect_decode_error("{\"users\":[]}", "\"userList\"");
    expect_decode_error("{\"userList\":[\"a\"],\"x\":1}", "only key");
    expect_decode_error("{\"userList\":[", "end of the text");
}

static void test_empty_name_rejected(void **state)
{
    (void)state;
    expect_decode_error("{\"userList\":[\"\"]}", "empty");
    expect_decode_error("{\"userList\":[\"a\",\"\"]}", "empty");
}

static void test_limits(void **state)
{
    (void)state;
    dva_userlist l;
    dva_error err;
    const char *json = "{\"userList\":[\"a\",\"b\",\"c\"]}";
    assert_int_equal(dva_userlist_parse(json, strlen(json), 3, &l, &err), 0);
    dva_userlist_free(&l);
    assert_int_equal(dva_userlist_parse(json, strlen(json), 2, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_LIMIT);
    assert_null(l.users);
    assert_int_equal(dva_userlist_parse(json, strlen(json), 0, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_LIMIT);
    /* a syntax error after the limit is still the limit: it came first */
    const char *broken = "{\"userList\":[\"a\",\"b\",\"c\",";
    assert_int_equal(dva_userlist_parse(broken, strlen(broken), 2, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_LIMIT);
}

static void test_many_users(void **state)
{
    (void)state;
    enum { USERS = 5000 };
    size_t cap = 32 + USERS * 16;
    char *json = malloc(cap);
    assert_non_null(json);
    size_t o = (size_t)snprintf(json, cap, "{\"userList\":[");
    for (size_t i = 0; i < USERS; i++)
        o += (size_t)snprintf(json + o, cap - o, "%s\"u%zu@x\"", i ? "," : "", i);
    o += (size_t)snprintf(json + o, cap - o, "]}");
    dva_userlist l;
    dva_error err;
    assert_int_equal(dva_userlist_parse(json, o, USERS, &l, &err), 0);
    assert_int_equal(l.nusers, USERS);
    assert_string_equal(l.users[0], "u0@x");
    assert_string_equal(l.users[USERS - 1], "u4999@x");
    dva_userlist_free(&l);
    assert_int_equal(dva_userlist_parse(json, o, USERS - 1, &l, &err), -1);
    assert_int_equal(err.code, DVA_ERR_LIMIT);
    free(json);
}

/* Every strict prefix of a valid text fails cleanly; the length is honoured
 * (no read past len: each prefix is its own allocation for ASan). */
static void test_every_prefix_fails(void **state)
{
    (void)state;
    const char *json = "{ \"userList\" : [ \"a\\u00e9\" , \"\\ud83d\\ude00\\n\" ] }";
    size_t len = strlen(json);
    for (size_t n = 0; n < len; n++) {
        char *copy = malloc(n + 1);
        assert_non_null(copy);
        memcpy(copy, json, n);
        dva_userlist l;
        dva_error err;
        int ret = dva_userlist_parse(n ? copy : NULL, n, MAXU, &l, &err);
        assert_int_equal(ret, -1);
        assert_int_equal(err.code, DVA_ERR_DECODE);
        assert_null(l.users);
        free(copy);
    }
}

/* Random mutations of a valid text: never a crash or leak (ASan), and an
 * accepted list always has non-empty names without NUL. */
static void test_mutations(void **state)
{
    (void)state;
    static const char base[] =
        "{\"userList\":[\"al\\u00e9ce@x\",\"b\\\"ob\",\"\\ud83d\\ude00\"]}";
    static const char alphabet[] = "{}[]\",:\\u0dDfF \t\n\x80\xc3\xa9\xed\xf4\x01";
    uint32_t seed = 1;
    for (int round = 0; round < 20000; round++) {
        size_t len = sizeof(base) - 1;
        char *buf = malloc(len + 4);
        assert_non_null(buf);
        memcpy(buf, base, len);
        int edits = 1 + (int)(seed % 3);
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            int op = (int)((seed >> 8) % 3);
            char c = alphabet[(seed >> 12) % (sizeof(alphabet) - 1)];
            if (op == 0) {
                buf[pos] = c;
            } else if (op == 1 && len > 1) {
                memmove(buf + pos, buf + pos + 1, len - pos - 1);
                len--;
            } else {
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = c;
                len++;
            }
        }
        char *exact = malloc(len);
        assert_non_null(exact);
        memcpy(exact, buf, len);
        free(buf);
        dva_userlist l;
        dva_error err;
        if (dva_userlist_parse(exact, len, MAXU, &l, &err) == 0) {
            for (size_t i = 0; i < l.nusers; i++)
                assert_true(l.users[i][0] != '\0');
            dva_userlist_free(&l);
        } else {
            assert_true(err.code == DVA_ERR_DECODE);
            assert_null(l.users);
        }
        free(exact);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_command_rejects),
        cmocka_unit_test(test_capture_user_list),
        cmocka_unit_test(test_capture_limit),
        cmocka_unit_test(test_capture_nomatch),
        cmocka_unit_test(test_decode_reply_shape),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_simple_escapes),
        cmocka_unit_test(test_unicode_escapes),
        cmocka_unit_test(test_bad_unicode_escapes),
        cmocka_unit_test(test_nul_rejected),
        cmocka_unit_test(test_raw_control_chars),
        cmocka_unit_test(test_utf8_validation),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_messages_name_the_offset),
        cmocka_unit_test(test_empty_name_rejected),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_many_users),
        cmocka_unit_test(test_every_prefix_fails),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
