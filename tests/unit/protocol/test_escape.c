/* SPDX-License-Identifier: MIT */
/* Tab escaping (escape.h, PROTOCOL.md section 5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/escape.h"

static const struct {
    char byte;
    char code;
} SPECIALS[] = {
    {'\001', '1'}, {'\t', 't'}, {'\r', 'r'}, {'\n', 'n'}, {'\0', '0'},
};
#define N_SPECIALS (sizeof(SPECIALS) / sizeof(SPECIALS[0]))

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* Escapes in[0..len) into a fresh buffer with a guard region after the
 * announced length, and checks the guard is untouched. */
static char *escape_checked(const char *in, size_t len, size_t *out_len)
{
    size_t elen = dva_escaped_len(in, len);
    char *out = malloc(elen + 16);
    assert_non_null(out);
    memset(out, 0x5a, elen + 16);
    size_t written = dva_escape(out, in, len);
    assert_int_equal(written, elen);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal((unsigned char)out[elen + i], 0x5a);
    *out_len = written;
    return out;
}

static void test_escape_plain_unchanged(void **state)
{
    (void)state;
    const char *in = "User quota STORAGE 98 alice@example.com (127.0.0.1)";
    size_t n;
    char *out = escape_checked(in, strlen(in), &n);
    assert_int_equal(n, strlen(in));
    assert_memory_equal(out, in, n);
    free(out);
}

static void test_escape_each_special(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SPECIALS; i++) {
        char in[3] = {'a', SPECIALS[i].byte, 'b'};
        char want[4] = {'a', '\001', SPECIALS[i].code, 'b'};
        size_t n;
        char *out = escape_checked(in, sizeof(in), &n);
        assert_int_equal(n, sizeof(want));
        assert_memory_equal(out, want, sizeof(want));
        free(out);
    }
}

static void test_unescape_each_code(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SPECIALS; i++) {
        char buf[4] = {'a', '\001', SPECIALS[i].code, 'b'};
        size_t n = dva_unescape_inplace(buf, sizeof(buf));
        assert_int_equal(n, 3);
        assert_int_equal(buf[0], 'a');
        assert_int_equal(buf[1], SPECIALS[i].byte);
        assert_int_equal(buf[2], 'b');
    }
}

static void test_unescape_code_all_bytes(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        char want = (char)c;
        for (size_t i = 0; i < N_SPECIALS; i++)
            if ((char)c == SPECIALS[i].code)
                want = SPECIALS[i].byte;
        assert_int_equal(dva_unescape_code((char)c), want);
    }
}

static void test_escape_mixed_example(void **state)
{
    (void)state;
    const char in[] = "a\tb\nc\rd\001e\0f";
    const char want[] = "a\001tb\001nc\001rd\0011e\0010f";
    size_t n;
    char *out = escape_checked(in, sizeof(in) - 1, &n);
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(out, want, n);
    free(out);
}

static void test_roundtrip_all_256_bytes(void **state)
{
    (void)state;
    char in[256];
    for (int i = 0; i < 256; i++)
        in[i] = (char)i;
    size_t n;
    char *out = escape_checked(in, sizeof(in), &n);
    assert_int_equal(n, 256 + N_SPECIALS);
    size_t back = dva_unescape_inplace(out, n);
    assert_int_equal(back, 256);
    assert_memory_equal(out, in, 256);
    free(out);

    /* and every byte on its own */
    for (int i = 0; i < 256; i++) {
        char one = (char)i;
        char *o = escape_checked(&one, 1, &n);
        assert_true(n == 1 || n == 2);
        assert_int_equal(dva_unescape_inplace(o, n), 1);
        assert_int_equal(o[0], one);
        free(o);
    }
}

static void test_escaped_output_has_no_raw_specials(void **state)
{
    (void)state;
    char in[256];
    for (int i = 0; i < 256; i++)
        in[i] = (char)(255 - i);
    size_t n;
    char *out = escape_checked(in, sizeof(in), &n);
    for (size_t i = 0; i < n; i++) {
        assert_true(out[i] != '\t' && out[i] != '\n' && out[i] != '\r' &&
                    out[i] != '\0');
        if (out[i] == '\001') {
            assert_true(i + 1 < n);
            assert_non_null(memchr("1trn0", out[i + 1], 5));
            i++;
        }
    }
    free(out);
}

static void test_roundtrip_random(void **state)
{
    (void)state;
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = rng() % 300;
        char *in = malloc(len + 1);
        assert_non_null(in);
        for (size_t i = 0; i < len; i++) {
            /* bias towards the special bytes */
            uint32_t r = rng();
            in[i] =
                (r & 3) == 0 ? SPECIALS[(r >> 2) % N_SPECIALS].byte : (char)(r >> 4);
        }
        size_t n;
        char *out = escape_checked(in, len, &n);
        assert_int_equal(dva_unescape_inplace(out, n), len);
        if (len > 0)
            assert_memory_equal(out, in, len);
        free(out);
        free(in);
    }
}

static void test_escaped_len_exact(void **state)
{
    (void)state;
    assert_int_equal(dva_escaped_len("", 0), 0);
    assert_int_equal(dva_escaped_len("abc", 3), 3);
    assert_int_equal(dva_escaped_len("\t\t\t", 3), 6);
    assert_int_equal(dva_escaped_len("a\0b", 3), 4);
    assert_int_equal(dva_escaped_len("\001\r\n", 3), 6);
    /* counts only the given length, not up to a NUL */
    assert_int_equal(dva_escaped_len("\t\tabc", 1), 2);
    /* 0x02 .. 0x1f other than TAB/LF/CR, and 0x80.. are not escaped */
    assert_int_equal(dva_escaped_len("\002\037\177\200\377", 5), 5);
}

static void test_unescape_unknown_code(void **state)
{
    (void)state;
    char buf[] = "\001x\001T\001\001\001\377z";
    size_t n = dva_unescape_inplace(buf, sizeof(buf) - 1);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "xT\001\377z", 5);
}

static void test_unescape_lone_at_end(void **state)
{
    (void)state;
    char buf[] = "abc\001";
    assert_int_equal(dva_unescape_inplace(buf, 4), 3);
    assert_memory_equal(buf, "abc", 3);

    char only[] = "\001";
    assert_int_equal(dva_unescape_inplace(only, 1), 0);

    /* an escaped 0x01 followed by a lone one */
    char two[] = "a\0011\001";
    assert_int_equal(dva_unescape_inplace(two, 4), 2);
    assert_memory_equal(two, "a\001", 2);
}

static void test_empty_input(void **state)
{
    (void)state;
    char out[4] = {'X', 'X', 'X', 'X'};
    assert_int_equal(dva_escaped_len("", 0), 0);
    assert_int_equal(dva_escape(out, "", 0), 0);
    assert_int_equal(out[0], 'X');
    char buf[1] = {'Y'};
    assert_int_equal(dva_unescape_inplace(buf, 0), 0);
    assert_int_equal(buf[0], 'Y');
}

static void test_unescape_consecutive_and_no_escape(void **state)
{
    (void)state;
    char buf[] = "\001t\001n\001r\0010\0011";
    size_t n = dva_unescape_inplace(buf, sizeof(buf) - 1);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "\t\n\r\0\001", 5);

    char plain[] = "no escapes here";
    assert_int_equal(dva_unescape_inplace(plain, 15), 15);
    assert_string_equal(plain, "no escapes here");
}

static void test_unescape_long_runs(void **state)
{
    (void)state;
    /* long runs between escapes are moved correctly */
    size_t len = 10000;
    char *in = malloc(len);
    assert_non_null(in);
    for (size_t i = 0; i < len; i++)
        in[i] = (i % 997 == 0) ? '\t' : (char)('a' + i % 26);
    size_t n;
    char *out = escape_checked(in, len, &n);
    assert_int_equal(n, len + 11);
    assert_int_equal(dva_unescape_inplace(out, n), len);
    assert_memory_equal(out, in, len);
    free(out);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_plain_unchanged),
        cmocka_unit_test(test_escape_each_special),
        cmocka_unit_test(test_unescape_each_code),
        cmocka_unit_test(test_unescape_code_all_bytes),
        cmocka_unit_test(test_escape_mixed_example),
        cmocka_unit_test(test_roundtrip_all_256_bytes),
        cmocka_unit_test(test_escaped_output_has_no_raw_specials),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_escaped_len_exact),
        cmocka_unit_test(test_unescape_unknown_code),
        cmocka_unit_test(test_unescape_lone_at_end),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_unescape_consecutive_and_no_escape),
        cmocka_unit_test(test_unescape_long_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
