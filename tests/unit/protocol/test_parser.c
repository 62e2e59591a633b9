/* SPDX-License-Identifier: MIT */
/* The reply parser (reply.h): statuses, escapes, rows, limits, pipelining,
 * the 2.3.0-2.3.16 duplicate status line, and every split of the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doveadm/reply.h"
#include "test_support.h"

/* A string literal as (bytes, length), embedded NULs included. */
#define LIT(s) (s), (sizeof(s) - 1)

/* ---- helpers ---------------------------------------------------------- */

static dva_parse_result feed(dva_parser *p, const char *data, size_t len,
                             size_t *consumed, dva_error *err)
{
    dva_error_clear(err);
    return dva_parser_feed(p, data, len, consumed, err);
}

/* Parses one reply from bytes with a fresh parser; returns the result. */
static dva_parse_result parse_one(const char *bytes, size_t len, size_t ncols,
                                  const dva_limits *limits, dva_reply *r,
                                  dva_error *err, size_t *consumed)
{
    dva_parser p;
    dva_parser_init(&p, limits);
    dva_parser_begin(&p, r, ncols);
    return feed(&p, bytes, len, consumed, err);
}

/* Parses bytes that must be one complete reply. */
static void parse_ok(const char *bytes, size_t len, size_t ncols, dva_reply *r)
{
    dva_error err;
    size_t consumed = 0;
    dva_parse_result res = parse_one(bytes, len, ncols, NULL, r, &err, &consumed);
    if (res != DVA_PARSE_DONE)
        fail_msg("expected DONE, got %d: %s", (int)res, err.message);
    assert_int_equal(consumed, len);
}

/* Parses bytes that must fail with code; returns the message. */
static void parse_fail(const char *bytes, size_t len, size_t ncols,
                       const dva_limits *limits, dva_errcode code, dva_error *err)
{
    dva_reply r;
    dva_reply_init(&r);
    size_t consumed = 0;
    dva_parse_result res = parse_one(bytes, len, ncols, limits, &r, err, &consumed);
    if (res != DVA_PARSE_ERROR)
        fail_msg("expected ERROR, got %d", (int)res);
    assert_int_equal(err->code, code);
    assert_true(strlen(err->message) > 10);
    dva_reply_free(&r);
}

static void assert_value(const dva_reply *r, size_t i, const char *want,
                         size_t want_len)
{
    size_t len = 0;
    const char *v = dva_reply_value(r, i, &len);
    assert_non_null(v);
    assert_int_equal(len, want_len);
    assert_memory_equal(v, want, want_len);
    assert_int_equal(v[len], '\0');
}

/* Checks the storage invariants of reply.c. */
static void assert_storage_ok(const dva_reply *r)
{
    /* nul_free (decoders skip the NUL scan on it) never lies */
    bool has_nul = false;
    for (size_t i = 0; i < r->nvalues; i++)
        has_nul = has_nul || memchr(r->data + r->offsets[i], '\0',
                                    r->offsets[i + 1] - r->offsets[i] - 1) != NULL;
    assert_int_equal(r->nul_free, !has_nul);
    if (r->nvalues == 0)
        return;
    assert_true(r->offsets_cap >= r->nvalues + 1);
    assert_int_equal(r->offsets[0], 0);
    assert_int_equal(r->offsets[r->nvalues], r->data_len);
    assert_true(r->data_len <= r->data_cap);
    for (size_t i = 0; i < r->nvalues; i++) {
        assert_true(r->offsets[i] < r->offsets[i + 1]);
        assert_int_equal(r->data[r->offsets[i + 1] - 1], '\0');
    }
}

/* A growing byte string, for snapshots. */
typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->buf = realloc(b->buf, b->cap);
        assert_non_null(b->buf);
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(tmp));
    sb_add(b, tmp, (size_t)n);
}

static void snapshot_reply(sbuf *b, const dva_reply *r)
{
    assert_storage_ok(r);
    sb_printf(b, "reply %s exit=%d text=[%s] n=%zu\n", dva_status_name(r->status),
              r->exit_code, r->status_text, r->nvalues);
    for (size_t i = 0; i < r->nvalues; i++) {
        size_t len;
        const char *v = dva_reply_value(r, i, &len);
        sb_printf(b, "%zu:", len);
        for (size_t k = 0; k < len; k++) {
            unsigned char c = (unsigned char)v[k];
            if (c < 0x20 || c >= 0x7f || c == '\\')
                sb_printf(b, "\\x%02x", c);
            else
                sb_add(b, &v[k], 1);
        }
        sb_add(b, "\n", 1);
    }
}

/* Parses a stream of pipelined replies fed in chunks: the first chunk is
 * bytes[0..split), then chunks of step bytes (step 0: the rest at once).
 * Returns a text snapshot of every reply and of how the stream ended. */
static char *snapshot_stream(const char *bytes, size_t len, size_t ncols, size_t split,
                             size_t step, const dva_limits *limits)
{
    sbuf b = {0};
    dva_parser p;
    dva_reply r;
    dva_error err;
    dva_parser_init(&p, limits);
    dva_reply_init(&r);
    dva_parser_begin(&p, &r, ncols);

    size_t pos = 0;
    bool failed = false;
    while (pos < len && !failed) {
        size_t chunk;
        if (pos < split)
            chunk = split - pos;
        else
            chunk = step == 0 ? len - pos : (len - pos < step ? len - pos : step);
        const char *c = bytes + pos;
        size_t clen = chunk;
        pos += chunk;
        while (clen > 0) {
            size_t consumed = (size_t)-1;
            dva_parse_result res = feed(&p, c, clen, &consumed, &err);
            if (res == DVA_PARSE_ERROR) {
                sb_printf(&b, "error %s\n", dva_errcode_name(err.code));
                failed = true;
                break;
            }
            assert_true(consumed <= clen);
            if (res == DVA_PARSE_MORE) {
                assert_int_equal(consumed, clen);
                break;
            }
            assert_true(consumed > 0);
            snapshot_reply(&b, &r);
            dva_parser_begin(&p, &r, ncols);
            c += consumed;
            clen -= consumed;
        }
    }
    if (!failed)
        sb_printf(&b, "end discardable=%d\n", (int)dva_parser_discardable(&p));
    dva_reply_free(&r);
    return b.buf;
}

/* Feeds bytes whole, split in two at every position, and in chunks of 1, 2,
 * 3 and 7 bytes, and requires identical snapshots. Returns the snapshot. */
static char *check_every_split(const char *bytes, size_t len, size_t ncols)
{
    char *whole = snapshot_stream(bytes, len, ncols, 0, 0, NULL);
    for (size_t i = 1; i < len; i++) {
        char *s = snapshot_stream(bytes, len, ncols, i, 0, NULL);
        if (strcmp(s, whole) != 0)
            fail_msg("split at %zu differs:\n%s\nvs whole:\n%s", i, s, whole);
        free(s);
    }
    static const size_t steps[] = {1, 2, 3, 7};
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        char *s = snapshot_stream(bytes, len, ncols, 0, steps[k], NULL);
        if (strcmp(s, whole) != 0)
            fail_msg("chunks of %zu differ:\n%s\nvs whole:\n%s", steps[k], s, whole);
        free(s);
    }
    return whole;
}

static size_t count_substr(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- statuses --------------------------------------------------------- */

static void test_empty_success(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("\n+\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OK);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.nvalues, 0);
    assert_int_equal(dva_reply_rows(&r), 0);
    assert_null(dva_reply_value(&r, 0, NULL));
    assert_string_equal(r.status_text, "");
    dva_reply_free(&r);
}

static void test_empty_failure(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("\n-NOUSER\n"), 5, &r);
    assert_int_equal(r.status, DVA_STATUS_NOUSER);
    assert_int_equal(r.exit_code, 67);
    assert_string_equal(r.status_text, "NOUSER");
    assert_int_equal(r.nvalues, 0);
    dva_reply_free(&r);
}

static void test_each_status_code_name(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        dva_status status;
        int exit_code;
    } cases[] = {
        {"\n-UNKNOWN\n", DVA_STATUS_UNKNOWN, -1},
        {"\n-TEMPFAIL\n", DVA_STATUS_TEMPFAIL, 75},
        {"\n-USAGE\n", DVA_STATUS_USAGE, 64},
        {"\n-NOUSER\n", DVA_STATUS_NOUSER, 67},
        {"\n-NOPERM\n", DVA_STATUS_NOPERM, 77},
        {"\n-PROTOCOL\n", DVA_STATUS_PROTOCOL, 76},
        {"\n-DATAERR\n", DVA_STATUS_DATAERR, 65},
        {"\n-NOREPLICATE\n", DVA_STATUS_NOREPLICATE, 1001},
        {"\n-NOTFOUND\n", DVA_STATUS_NOTFOUND, 68},
        {"\n-CHANGED\n", DVA_STATUS_CHANGED, 2},
        {"\n-EXPIRED\n", DVA_STATUS_EXPIRED, 1003},
    };
    dva_reply r;
    dva_reply_init(&r);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse_ok(cases[i].line, strlen(cases[i].line), 0, &r);
        assert_int_equal(r.status, cases[i].status);
        assert_int_equal(r.exit_code, cases[i].exit_code);
        /* status_text is the code as sent, without '-' and LF */
        assert_int_equal(strlen(r.status_text), strlen(cases[i].line) - 3);
        assert_memory_equal(r.status_text, cases[i].line + 2, strlen(r.status_text));
        assert_string_equal(dva_status_name(r.status), r.status_text);
    }
    dva_reply_free(&r);
}

static void test_bare_minus_is_failed(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("\n-\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_FAILED);
    assert_int_equal(r.exit_code, 1);
    assert_string_equal(r.status_text, "");
    dva_reply_free(&r);
}

static void test_referral(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("\n-REFERRAL alice@backend2.example.com\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_REFERRAL);
    assert_int_equal(r.exit_code, 1002);
    assert_string_equal(r.status_text, "alice@backend2.example.com");

    parse_ok(LIT("\n-REFERRAL\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_REFERRAL);
    assert_string_equal(r.status_text, "");
    dva_reply_free(&r);
}

static void test_named_code_with_text(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("\n-NOUSER no such user\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_NOUSER);
    assert_int_equal(r.exit_code, 67);
    assert_string_equal(r.status_text, "NOUSER no such user");
    /* names are case sensitive, as in Dovecot */
    parse_ok(LIT("\n-nouser\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);
    /* a prefix of a name is not the name */
    parse_ok(LIT("\n-NOUSERS\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);
    assert_string_equal(r.status_text, "NOUSERS");
    dva_reply_free(&r);
}

static void test_numeric_known_codes(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        dva_status status;
        int exit_code;
    } cases[] = {
        {"\n-75\n", DVA_STATUS_TEMPFAIL, 75},
        {"\n-64\n", DVA_STATUS_USAGE, 64},
        {"\n-65\n", DVA_STATUS_DATAERR, 65},
        {"\n-67\n", DVA_STATUS_NOUSER, 67},
        {"\n-68\n", DVA_STATUS_NOTFOUND, 68},
        {"\n-76\n", DVA_STATUS_PROTOCOL, 76},
        {"\n-77\n", DVA_STATUS_NOPERM, 77},
        {"\n-1001\n", DVA_STATUS_NOREPLICATE, 1001},
        {"\n-0075\n", DVA_STATUS_TEMPFAIL, 75},
    };
    dva_reply r;
    dva_reply_init(&r);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse_ok(cases[i].line, strlen(cases[i].line), 0, &r);
        assert_int_equal(r.status, cases[i].status);
        assert_int_equal(r.exit_code, cases[i].exit_code);
        assert_memory_equal(r.status_text, cases[i].line + 2,
                            strlen(cases[i].line) - 3);
    }
    dva_reply_free(&r);
}

static void test_numeric_unknown_codes(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("\n-42\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_NUMERIC);
    assert_int_equal(r.exit_code, 42);
    assert_string_equal(r.status_text, "42");

    parse_ok(LIT("\n-1002\n"), 0, &r); /* REFERRAL's number, but no target */
    assert_int_equal(r.status, DVA_STATUS_NUMERIC);
    assert_int_equal(r.exit_code, 1002);

    parse_ok(LIT("\n-2147483647\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_NUMERIC);
    assert_int_equal(r.exit_code, 2147483647);

    /* no overflow: too big for an int is just an unknown code */
    parse_ok(LIT("\n-2147483648\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);
    assert_int_equal(r.exit_code, -1);
    assert_string_equal(r.status_text, "2147483648");
    parse_ok(LIT("\n-99999999999999999999999999999999\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);

    /* not all digits */
    parse_ok(LIT("\n-75x\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);
    parse_ok(LIT("\n--75\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);
    dva_reply_free(&r);
}

static void test_unknown_code_other(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("\n-SOMETHINGNEW\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);
    assert_int_equal(r.exit_code, -1);
    assert_string_equal(r.status_text, "SOMETHINGNEW");
    assert_string_equal(dva_status_name(r.status), "OTHER");
    dva_reply_free(&r);
}

static void test_other_code_sanitized_and_bounded(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    /* control bytes do not reach status_text raw */
    parse_ok(LIT("\n-BAD\001\033[2J\r\177\n"), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);
    for (const char *c = r.status_text; *c != '\0'; c++)
        assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
    assert_non_null(strstr(r.status_text, "BAD"));
    assert_non_null(strstr(r.status_text, "\\x1b"));

    /* a long code is cut to fit status_text */
    char line[1 + 1 + 1000 + 1];
    line[0] = '\n';
    line[1] = '-';
    memset(line + 2, 'Z', 1000);
    line[1002] = '\n';
    parse_ok(line, sizeof(line), 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);
    size_t n = strlen(r.status_text);
    assert_true(n > 100 && n < DVA_STATUS_TEXT_MAX);
    assert_memory_equal(r.status_text + n - 3, "...", 3);
    dva_reply_free(&r);
}

static void test_text_after_plus_ignored(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("v\t\n+ whatever \001 the server says\n"), 1, &r);
    assert_int_equal(r.status, DVA_STATUS_OK);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.status_text, "");
    assert_int_equal(r.nvalues, 1);
    assert_string_equal(dva_reply_cstr(&r, 0, 0), "v");
    dva_reply_free(&r);
}

static void test_garbage_status_line(void **state)
{
    (void)state;
    dva_error err;
    parse_fail(LIT("v\t\nOK\n"), 0, NULL, DVA_ERR_PROTOCOL, &err);
    assert_non_null(strstr(err.message, "'+' or '-'"));
    assert_non_null(strstr(err.message, "OK"));
    /* an empty status line */
    parse_fail(LIT("\n\n"), 0, NULL, DVA_ERR_PROTOCOL, &err);
    assert_non_null(strstr(err.message, "\\x0a"));
    /* found at the first byte, before the LF arrives */
    dva_parser p;
    dva_reply r;
    dva_reply_init(&r);
    dva_parser_init(&p, NULL);
    dva_parser_begin(&p, &r, 0);
    size_t consumed;
    assert_int_equal(feed(&p, LIT("\n"), &consumed, &err), DVA_PARSE_MORE);
    assert_int_equal(feed(&p, LIT("\033"), &consumed, &err), DVA_PARSE_ERROR);
    assert_non_null(strstr(err.message, "\\x1b"));
    dva_reply_free(&r);
}

static void test_status_line_max(void **state)
{
    (void)state;
    /* exactly DVA_STATUS_LINE_MAX bytes (with the '-') is accepted */
    char line[2 + DVA_STATUS_LINE_MAX + 1];
    line[0] = '\n';
    line[1] = '-';
    memset(line + 2, 'x', DVA_STATUS_LINE_MAX);
    line[1 + DVA_STATUS_LINE_MAX] = '\n';
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(line, 2 + DVA_STATUS_LINE_MAX, 0, &r);
    assert_int_equal(r.status, DVA_STATUS_OTHER);
    dva_reply_free(&r);

    /* one more byte is an error, found without waiting for the LF */
    line[1 + DVA_STATUS_LINE_MAX] = 'x';
    dva_error err;
    parse_fail(line, 2 + DVA_STATUS_LINE_MAX, 0, NULL, DVA_ERR_PROTOCOL, &err);
    assert_non_null(strstr(err.message, "1024"));

    /* also for a '+' line */
    char plus[2 + DVA_STATUS_LINE_MAX + 2];
    plus[0] = '\n';
    plus[1] = '+';
    memset(plus + 2, ' ', DVA_STATUS_LINE_MAX);
    plus[sizeof(plus) - 1] = '\n';
    parse_fail(plus, sizeof(plus), 0, NULL, DVA_ERR_PROTOCOL, &err);
}

/* ---- values ----------------------------------------------------------- */

static void test_values_with_every_escape(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(
        LIT("a\001tb\tc\001nd\te\001rf\tg\0011h\ti\0010j\tplain\t\001x\001\001\t\n+\n"),
        0, &r);
    assert_int_equal(r.nvalues, 7);
    assert_value(&r, 0, LIT("a\tb"));
    assert_value(&r, 1, LIT("c\nd"));
    assert_value(&r, 2, LIT("e\rf"));
    assert_value(&r, 3, LIT("g\001h"));
    assert_value(&r, 4, LIT("i\0j"));
    assert_value(&r, 5, LIT("plain"));
    /* unknown code gives the byte itself; 0x01 0x01 gives 0x01 */
    assert_value(&r, 6, LIT("x\001"));
    assert_storage_ok(&r);
    dva_reply_free(&r);
}

/* The word-at-a-time scan for TAB, LF, 0x01 and NUL: every other byte
 * (control bytes 0x02-0x08 and 0x0b-0x1f among them) is an ordinary byte
 * wherever it sits in a word, and a special byte is found at every offset. */
static void test_scan_finds_special_bytes_at_every_offset(void **state)
{
    (void)state;
    char value[64];
    for (size_t i = 0; i < 31; i++)
        value[i] =
            (char)(i % 3 == 0 ? 0x02 + i % 9 : (i % 3 == 1 ? 0x0b + i : 0xf0 + i % 16));
    for (size_t len = 0; len <= 31; len++) {
        /* a value of len ordinary bytes, then TAB, then "z" TAB and the end */
        char wire[128];
        memcpy(wire, value, len);
        memcpy(wire + len, "\tz\t\n+\n", 6);
        dva_reply r;
        dva_reply_init(&r);
        parse_ok(wire, len + 6, 0, &r);
        assert_int_equal(r.nvalues, 2);
        assert_value(&r, 0, value, len);
        assert_value(&r, 1, LIT("z"));
        assert_true(r.nul_free);
        dva_reply_free(&r);
        /* and with an escape, a raw NUL and an LF at that offset */
        static const char *const tails[] = {"\001t\t\n+\n", "\0\t\n+\n", "\n+\n"};
        static const size_t tail_lens[] = {6, 5, 3};
        for (size_t k = 0; k < 3; k++) {
            memcpy(wire + len, tails[k], tail_lens[k]);
            free(check_every_split(wire, len + tail_lens[k], 0));
        }
    }
}

static void test_empty_values(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("\t\tx\t\t\n+\n"), 0, &r);
    assert_int_equal(r.nvalues, 4);
    assert_value(&r, 0, LIT(""));
    assert_value(&r, 1, LIT(""));
    assert_value(&r, 2, LIT("x"));
    assert_value(&r, 3, LIT(""));
    assert_string_equal(dva_reply_cstr(&r, 0, 0), "");
    dva_reply_free(&r);
}

static void test_nul_inside_value(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("ab\0010cd\tok\t\n+\n"), 2, &r);
    size_t len = 0;
    const char *v = dva_reply_value(&r, 0, &len);
    assert_non_null(v);
    assert_int_equal(len, 5);
    assert_memory_equal(v, "ab\0cd", 5);
    assert_false(r.nul_free);
    assert_null(dva_reply_cstr(&r, 0, 0));
    assert_string_equal(dva_reply_cstr(&r, 0, 1), "ok");
    assert_storage_ok(&r);
    /* a raw NUL byte, as sent, is kept and seen too */
    parse_ok(LIT("x\0y\tok\t\n+\n"), 2, &r);
    assert_value(&r, 0, LIT("x\0y"));
    assert_false(r.nul_free);
    assert_null(dva_reply_cstr(&r, 0, 0));
    assert_storage_ok(&r);
    /* the next reply without one is NUL-free again */
    parse_ok(LIT("ab\tok\t\n+\n"), 2, &r);
    assert_true(r.nul_free);
    assert_string_equal(dva_reply_cstr(&r, 0, 0), "ab");
    free(check_every_split(LIT("x\0y\t\001\060\tz\t\n+\na\tb\t\n+\n"), 0));
    dva_reply_free(&r);
}

static void test_escape_split_across_feeds(void **state)
{
    (void)state;
    dva_parser p;
    dva_reply r;
    dva_error err;
    size_t consumed;
    dva_reply_init(&r);
    dva_parser_init(&p, NULL);
    dva_parser_begin(&p, &r, 0);
    assert_int_equal(feed(&p, LIT("a\001"), &consumed, &err), DVA_PARSE_MORE);
    assert_int_equal(consumed, 2);
    assert_int_equal(feed(&p, LIT("t"), &consumed, &err), DVA_PARSE_MORE);
    assert_int_equal(feed(&p, LIT("b\001"), &consumed, &err), DVA_PARSE_MORE);
    assert_int_equal(feed(&p, LIT("0\t\001"), &consumed, &err), DVA_PARSE_MORE);
    /* a lone 0x01 that ended one feed, and TAB at the start of the next */
    assert_int_equal(feed(&p, LIT("\t\n+\n"), &consumed, &err), DVA_PARSE_DONE);
    assert_int_equal(consumed, 4);
    assert_int_equal(r.nvalues, 2);
    assert_value(&r, 0, LIT("a\tb\0"));
    assert_value(&r, 1, LIT(""));
    dva_reply_free(&r);
}

static void test_lone_escape_before_tab_dropped(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("abc\001\t\001\tz\t\n+\n"), 0, &r);
    assert_int_equal(r.nvalues, 3);
    assert_value(&r, 0, LIT("abc"));
    assert_value(&r, 1, LIT(""));
    assert_value(&r, 2, LIT("z"));
    dva_reply_free(&r);
}

static void test_value_without_tab_before_lf(void **state)
{
    (void)state;
    dva_error err;
    parse_fail(LIT("User quota\tSTORAGE\n+\n"), 0, NULL, DVA_ERR_PROTOCOL, &err);
    assert_non_null(strstr(err.message, "TAB"));
    assert_non_null(strstr(err.message, "STORAGE"));
    /* a lone 0x01 before LF still makes an unterminated value */
    parse_fail(LIT("a\t\001\n+\n"), 0, NULL, DVA_ERR_PROTOCOL, &err);
    assert_non_null(strstr(err.message, "value 2"));
    /* rows of several columns still need every TAB */
    parse_fail(LIT("alice@example.com\n+\n"), 5, NULL, DVA_ERR_PROTOCOL, &err);
    assert_non_null(strstr(err.message, "reply has 1 values"));
}

/* Dovecot 2.3.19's `user <mask>` ends its one JSON value with LF, no TAB
 * (tests/data/captures/user_list.bin): a single unterminated value is
 * accepted as the reply's only value. */
static void test_single_value_without_tab(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("{\"userList\":[\"a@x\",\"b@x\"]}\n+\n"), 1, &r);
    assert_int_equal(r.status, DVA_STATUS_OK);
    assert_int_equal(r.nvalues, 1);
    assert_string_equal(dva_reply_cstr(&r, 0, 0), "{\"userList\":[\"a@x\",\"b@x\"]}");
    assert_storage_ok(&r);

    /* escapes still apply, and a lone 0x01 at its end is dropped */
    parse_ok(LIT("a\001tb\001\n-DATAERR\n"), 1, &r);
    assert_int_equal(r.status, DVA_STATUS_DATAERR);
    assert_value(&r, 0, LIT("a\tb"));

    /* split right before the LF */
    dva_parser p;
    dva_error err;
    size_t consumed;
    dva_parser_init(&p, NULL);
    dva_parser_begin(&p, &r, 1);
    assert_int_equal(feed(&p, LIT("{}"), &consumed, &err), DVA_PARSE_MORE);
    assert_int_equal(feed(&p, LIT("\n+\n"), &consumed, &err), DVA_PARSE_DONE);
    assert_string_equal(dva_reply_cstr(&r, 0, 0), "{}");

    /* the limits apply to it as to any value */
    dva_limits lim = {.max_value_len = 3};
    dva_reply_free(&r);
    parse_fail(LIT("{\"a\"}\n+\n"), 1, &lim, DVA_ERR_LIMIT, &err);
}

/* ---- rows ------------------------------------------------------------- */

static void test_row_cutting(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("User quota\tSTORAGE\t98\t10240\t0\t"
                 "User quota\tMESSAGE\t2\t1000\t0\t\n+\n"),
             5, &r);
    assert_int_equal(r.ncols, 5);
    assert_int_equal(r.nvalues, 10);
    assert_int_equal(dva_reply_rows(&r), 2);
    assert_string_equal(dva_reply_cstr(&r, 0, 1), "STORAGE");
    assert_string_equal(dva_reply_cstr(&r, 0, 3), "10240");
    assert_string_equal(dva_reply_cstr(&r, 1, 1), "MESSAGE");
    assert_string_equal(dva_reply_cstr(&r, 1, 2), "2");
    assert_null(dva_reply_cstr(&r, 2, 0));
    assert_null(dva_reply_cstr(&r, 0, 5));
    dva_reply_free(&r);
}

static void test_row_not_multiple_is_error(void **state)
{
    (void)state;
    dva_error err;
    parse_fail(LIT("1\t2\t3\t4\t5\t6\t7\t\n+\n"), 5, NULL, DVA_ERR_PROTOCOL, &err);
    assert_non_null(strstr(err.message, "reply has 7 values"));
    assert_non_null(strstr(err.message, "5 columns"));
}

static void test_row_not_multiple_allowed_on_failure(void **state)
{
    (void)state;
    dva_reply r;
    dva_reply_init(&r);
    parse_ok(LIT("1\t2\t3\t\n-DATAERR\n"), 5, &r);
    assert_int_equal(r.status, DVA_STATUS_DATAERR);
    assert_int_equal(r.nvalues, 3);
    assert_int_equal(dva_reply_rows(&r), 0);
    assert_value(&r, 2, LIT("3"));
    dva_reply_free(&r);
}

/* ---- limits ----------------------------------------------------------- */

static void test_limit_value_len(void **state)
{
    (void)state;
    dva_limits lim = {.max_value_len = 8};
    dva_reply r;
    dva_error err;
    size_t consumed;
    dva_reply_init(&r);
    /* exactly the limit, also when escaped */
    assert_int_equal(
        parse_one(LIT("12345678\t\001t\001t\001t\001t\001t\001t\001t\001t\t\n+\n"), 0,
                  &lim, &r, &err, &consumed),
        DVA_PARSE_DONE);
    assert_value(&r, 1, LIT("\t\t\t\t\t\t\t\t"));
    dva_reply_free(&r);
    parse_fail(LIT("123456789\t\n+\n"), 0, &lim, DVA_ERR_LIMIT, &err);
    assert_non_null(strstr(err.message, "max_value_len"));
    assert_non_null(strstr(err.message, " 8 "));
    /* found before the value ends */
    parse_fail(LIT("123456789"), 0, &lim, DVA_ERR_LIMIT, &err);
}

static void test_limit_values(void **state)
{
    (void)state;
    dva_limits lim = {.max_values = 3};
    dva_reply r;
    dva_error err;
    size_t consumed;
    dva_reply_init(&r);
    assert_int_equal(parse_one(LIT("a\t\tc\t\n+\n"), 0, &lim, &r, &err, &consumed),
                     DVA_PARSE_DONE);
    assert_int_equal(r.nvalues, 3);
    /* offsets never grow past what max_values needs */
    assert_true(r.offsets_cap <= 4);
    dva_reply_free(&r);
    parse_fail(LIT("a\t\tc\t\t\n+\n"), 0, &lim, DVA_ERR_LIMIT, &err);
    assert_non_null(strstr(err.message, "max_values"));
    assert_non_null(strstr(err.message, " 3 "));
}

static void test_limit_reply_len(void **state)
{
    (void)state;
    dva_limits lim = {.max_reply_len = 10};
    dva_reply r;
    dva_error err;
    size_t consumed;
    dva_reply_init(&r);
    assert_int_equal(
        parse_one(LIT("12345\t67890\t\t\n+\n"), 0, &lim, &r, &err, &consumed),
        DVA_PARSE_DONE);
    assert_int_equal(r.nvalues, 3);
    dva_reply_free(&r);
    parse_fail(LIT("12345\t678901\t\n+\n"), 0, &lim, DVA_ERR_LIMIT, &err);
    assert_non_null(strstr(err.message, "max_reply_len"));
    assert_non_null(strstr(err.message, " 10 "));
}

static void test_limits_bound_allocation(void **state)
{
    (void)state;
    dva_limits lim = {.max_value_len = 100000, .max_values = 10, .max_reply_len = 100};
    dva_parser p;
    dva_reply r;
    dva_error err;
    size_t consumed;
    dva_reply_init(&r);
    dva_parser_init(&p, &lim);
    assert_int_equal(p.limits.max_value_len, 100000);
    dva_parser_begin(&p, &r, 0);
    dva_parse_result res = DVA_PARSE_MORE;
    size_t fed = 0;
    while (res == DVA_PARSE_MORE && fed < 100000) {
        res = feed(&p, LIT("xxxxxxx"), &consumed, &err);
        fed += 7;
    }
    assert_int_equal(res, DVA_PARSE_ERROR);
    assert_int_equal(err.code, DVA_ERR_LIMIT);
    assert_true(fed <= 105);
    assert_true(r.data_cap <= 100 + 10 + 1);
    dva_reply_free(&r);

    /* defaults fill zero fields */
    dva_parser_init(&p, NULL);
    assert_int_equal(p.limits.max_values, DVA_DEFAULT_MAX_VALUES);
    assert_int_equal(p.limits.max_reply_len, DVA_DEFAULT_MAX_REPLY_LEN);
    assert_int_equal(p.limits.max_value_len, DVA_DEFAULT_MAX_VALUE_LEN);
}

/* ---- streams ---------------------------------------------------------- */

static void test_pipelined_consumed(void **state)
{
    (void)state;
    const char stream[] = "a\tb\t\n+\n\n-NOUSER\nc\t\n+\n";
    dva_parser p;
    dva_reply r;
    dva_error err;
    size_t consumed;
    dva_reply_init(&r);
    dva_parser_init(&p, NULL);

    dva_parser_begin(&p, &r, 2);
    assert_int_equal(feed(&p, LIT(stream), &consumed, &err), DVA_PARSE_DONE);
    assert_int_equal(consumed, 7);
    assert_int_equal(r.nvalues, 2);

    size_t off = consumed;
    dva_parser_begin(&p, &r, 2);
    assert_int_equal(feed(&p, stream + off, sizeof(stream) - 1 - off, &consumed, &err),
                     DVA_PARSE_DONE);
    assert_int_equal(consumed, 9);
    assert_int_equal(r.status, DVA_STATUS_NOUSER);
    assert_int_equal(r.nvalues, 0);

    off += consumed;
    dva_parser_begin(&p, &r, 1);
    assert_int_equal(feed(&p, stream + off, sizeof(stream) - 1 - off, &consumed, &err),
                     DVA_PARSE_DONE);
    assert_int_equal(off + consumed, sizeof(stream) - 1);
    assert_string_equal(dva_reply_cstr(&r, 0, 0), "c");
    dva_reply_free(&r);
}

static void test_duplicate_dropped_one_buffer(void **state)
{
    (void)state;
    const char stream[] = "\n-NOUSER\n\n-\nUser quota\tSTORAGE\t98\t10240\t0\t\n+\n";
    dva_parser p;
    dva_reply r;
    dva_error err;
    size_t consumed;
    dva_reply_init(&r);
    dva_parser_init(&p, NULL);
    dva_parser_begin(&p, &r, 5);
    assert_int_equal(feed(&p, LIT(stream), &consumed, &err), DVA_PARSE_DONE);
    assert_int_equal(consumed, 9);
    assert_int_equal(r.status, DVA_STATUS_NOUSER);

    dva_parser_begin(&p, &r, 5);
    size_t rest = sizeof(stream) - 1 - 9;
    assert_int_equal(feed(&p, stream + 9, rest, &consumed, &err), DVA_PARSE_DONE);
    /* the duplicate is consumed with the real reply, in the same feed */
    assert_int_equal(consumed, rest);
    assert_int_equal(r.status, DVA_STATUS_OK);
    assert_int_equal(r.ncols, 5);
    assert_int_equal(dva_reply_rows(&r), 1);
    assert_string_equal(dva_reply_cstr(&r, 0, 1), "STORAGE");
    dva_reply_free(&r);
}

static void test_duplicate_dropped_byte_by_byte(void **state)
{
    (void)state;
    const char stream[] = "\n-TEMPFAIL\n\n-\nx\t\n+\n";
    char *snap = check_every_split(LIT(stream), 1);
    assert_int_equal(count_substr(snap, "reply "), 2);
    assert_non_null(strstr(snap, "reply TEMPFAIL"));
    assert_non_null(strstr(snap, "reply OK exit=0 text=[] n=1\n1:x\n"));
    assert_null(strstr(snap, "FAILED"));
    free(snap);
}

static void test_duplicate_after_other_codes(void **state)
{
    (void)state;
    /* numeric, unknown and referral failures carry a code too */
    static const char *const firsts[] = {"\n-75\n", "\n-WHATEVER\n",
                                         "\n-REFERRAL a@b\n", "x\t\n-DATAERR\n"};
    for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
        char stream[64];
        int n = snprintf(stream, sizeof(stream), "%s\n-\n\n+\n", firsts[i]);
        char *snap = check_every_split(stream, (size_t)n, 0);
        assert_int_equal(count_substr(snap, "reply "), 2);
        assert_null(strstr(snap, "FAILED"));
        free(snap);
    }
}

static void test_duplicate_not_dropped_after_success(void **state)
{
    (void)state;
    char *snap = check_every_split(LIT("\n+\n\n-\n"), 0);
    assert_int_equal(count_substr(snap, "reply "), 2);
    assert_non_null(strstr(snap, "reply FAILED exit=1"));
    free(snap);
}

static void test_duplicate_not_dropped_after_bare_minus(void **state)
{
    (void)state;
    char *snap = check_every_split(LIT("\n-\n\n-\n"), 0);
    assert_int_equal(count_substr(snap, "reply FAILED"), 2);
    free(snap);
}

static void test_duplicate_dropped_only_once(void **state)
{
    (void)state;
    /* coded failure, its duplicate, then a genuine unknown command */
    char *snap = check_every_split(LIT("\n-NOUSER\n\n-\n\n-\n"), 0);
    assert_int_equal(count_substr(snap, "reply "), 2);
    assert_non_null(strstr(snap, "reply NOUSER"));
    assert_non_null(strstr(snap, "reply FAILED"));
    free(snap);

    /* a bare '-' with values is not the duplicate */
    snap = check_every_split(LIT("\n-NOUSER\nv\t\n-\n"), 1);
    assert_non_null(strstr(snap, "reply FAILED exit=1 text=[] n=1\n1:v\n"));
    free(snap);

    /* the duplicate is only possible right after the coded failure */
    snap = check_every_split(LIT("\n-NOUSER\n\n+\n\n-\n"), 0);
    assert_int_equal(count_substr(snap, "reply "), 3);
    free(snap);
}

static void test_discardable_states(void **state)
{
    (void)state;
    dva_parser p;
    dva_reply r;
    dva_error err;
    size_t consumed;
    dva_reply_init(&r);
    dva_parser_init(&p, NULL);
    assert_true(dva_parser_discardable(&p));

    /* after a success nothing but "no bytes" is discardable */
    dva_parser_begin(&p, &r, 0);
    assert_true(dva_parser_discardable(&p));
    assert_int_equal(feed(&p, LIT("\n+\n"), &consumed, &err), DVA_PARSE_DONE);
    assert_false(dva_parser_discardable(&p)); /* a whole reply was fed */
    dva_parser_begin(&p, &r, 0);
    assert_true(dva_parser_discardable(&p));
    assert_int_equal(feed(&p, LIT("\n"), &consumed, &err), DVA_PARSE_MORE);
    assert_false(dva_parser_discardable(&p));
    assert_int_equal(feed(&p, LIT("-NOUSER\n"), &consumed, &err), DVA_PARSE_DONE);

    /* after a coded failure: prefixes of "\n-\n" are discardable */
    dva_parser_begin(&p, &r, 0);
    assert_true(dva_parser_discardable(&p));
    assert_int_equal(feed(&p, LIT("\n"), &consumed, &err), DVA_PARSE_MORE);
    assert_true(dva_parser_discardable(&p));
    assert_int_equal(feed(&p, LIT("-"), &consumed, &err), DVA_PARSE_MORE);
    assert_true(dva_parser_discardable(&p));
    assert_int_equal(feed(&p, LIT("\n"), &consumed, &err), DVA_PARSE_MORE);
    assert_int_equal(consumed, 1);
    assert_true(dva_parser_discardable(&p)); /* dropped: nothing of a reply yet */
    assert_int_equal(feed(&p, LIT("\n"), &consumed, &err), DVA_PARSE_MORE);
    assert_false(dva_parser_discardable(&p)); /* the duplicate was used up */
    assert_int_equal(feed(&p, LIT("-NOUSER\n"), &consumed, &err), DVA_PARSE_DONE);

    /* other bytes after a coded failure are not */
    dva_parser_begin(&p, &r, 0);
    assert_int_equal(feed(&p, LIT("\n-N"), &consumed, &err), DVA_PARSE_MORE);
    assert_false(dva_parser_discardable(&p));
    assert_int_equal(feed(&p, LIT("OUSER\n"), &consumed, &err), DVA_PARSE_DONE);
    dva_parser_begin(&p, &r, 0);
    assert_int_equal(feed(&p, LIT("\n+"), &consumed, &err), DVA_PARSE_MORE);
    assert_false(dva_parser_discardable(&p));
    assert_int_equal(feed(&p, LIT("\n"), &consumed, &err), DVA_PARSE_DONE);
    dva_parser_begin(&p, &r, 0);
    assert_int_equal(feed(&p, LIT("x"), &consumed, &err), DVA_PARSE_MORE);
    assert_false(dva_parser_discardable(&p));

    /* a dead parser is never discardable */
    assert_int_equal(feed(&p, LIT("\ty\n"), &consumed, &err), DVA_PARSE_ERROR);
    assert_false(dva_parser_discardable(&p));
    dva_reply_free(&r);
}

static void test_reply_reuse(void **state)
{
    (void)state;
    dva_parser p;
    dva_reply r;
    dva_error err;
    size_t consumed;
    dva_reply_init(&r);
    dva_parser_init(&p, NULL);

    size_t n = 3000, len = 0;
    char *big = malloc(n * 8 + 8);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(big + len, "v%05zu\t", i);
    len += (size_t)sprintf(big + len, "\n+\n");
    dva_parser_begin(&p, &r, 3);
    assert_int_equal(feed(&p, big, len, &consumed, &err), DVA_PARSE_DONE);
    assert_int_equal(r.nvalues, n);
    assert_int_equal(dva_reply_rows(&r), 1000);
    assert_string_equal(dva_reply_cstr(&r, 999, 2), "v02999");
    assert_storage_ok(&r);
    char *data = r.data;
    size_t cap = r.data_cap;

    dva_parser_begin(&p, &r, 2);
    assert_int_equal(r.nvalues, 0);
    assert_int_equal(r.ncols, 2);
    assert_int_equal(feed(&p, LIT("x\ty\t\n-NOPERM\n"), &consumed, &err),
                     DVA_PARSE_DONE);
    assert_int_equal(r.nvalues, 2);
    assert_int_equal(r.status, DVA_STATUS_NOPERM);
    assert_string_equal(dva_reply_cstr(&r, 0, 1), "y");
    assert_null(dva_reply_value(&r, 2, NULL));
    assert_ptr_equal(r.data, data); /* memory kept */
    assert_int_equal(r.data_cap, cap);

    dva_parser_begin(&p, &r, 0);
    assert_int_equal(feed(&p, LIT("\n-\n\n+\n"), &consumed, &err), DVA_PARSE_DONE);
    assert_int_equal(r.status, DVA_STATUS_OK); /* duplicate dropped */
    assert_int_equal(r.nvalues, 0);
    assert_int_equal(r.status_text[0], '\0');
    free(big);
    dva_reply_free(&r);
}

static void test_dead_after_error_and_misuse(void **state)
{
    (void)state;
    dva_parser p;
    dva_reply r;
    dva_error err;
    size_t consumed = 99;
    dva_reply_init(&r);
    dva_parser_init(&p, NULL);

    /* feed without begin */
    assert_int_equal(feed(&p, LIT("\n+\n"), &consumed, &err), DVA_PARSE_ERROR);
    assert_int_equal(err.code, DVA_ERR_USAGE);

    dva_parser_init(&p, NULL);
    dva_parser_begin(&p, &r, 0);
    assert_int_equal(feed(&p, LIT("a\tb\n"), &consumed, &err), DVA_PARSE_ERROR);
    assert_int_equal(err.code, DVA_ERR_PROTOCOL);
    /* begin does not revive it; feeding reports misuse */
    dva_parser_begin(&p, &r, 0);
    assert_int_equal(feed(&p, LIT("\n+\n"), &consumed, &err), DVA_PARSE_ERROR);
    assert_int_equal(err.code, DVA_ERR_USAGE);
    /* init does */
    dva_parser_init(&p, NULL);
    dva_parser_begin(&p, &r, 0);
    assert_int_equal(feed(&p, LIT("\n+\n"), &consumed, &err), DVA_PARSE_DONE);
    /* feeding a completed reply again without begin */
    assert_int_equal(feed(&p, LIT("\n+\n"), &consumed, &err), DVA_PARSE_ERROR);
    assert_int_equal(err.code, DVA_ERR_USAGE);

    /* NULL consumed and err are allowed; empty feeds are no-ops */
    dva_parser_init(&p, NULL);
    dva_parser_begin(&p, &r, 0);
    assert_int_equal(dva_parser_feed(&p, NULL, 0, NULL, NULL), DVA_PARSE_MORE);
    assert_int_equal(dva_parser_feed(&p, LIT("v\t\n+\n"), NULL, NULL), DVA_PARSE_DONE);
    assert_int_equal(dva_parser_feed(&p, LIT("x"), NULL, NULL), DVA_PARSE_ERROR);
    dva_reply_free(&r);
}

/* ---- every split ------------------------------------------------------ */

static const struct {
    const char *bytes;
    size_t len;
    size_t ncols;
} LITERALS[] = {
    {LIT("User quota\tSTORAGE\t98\t10240\t0\tUser quota\tMESSAGE\t2\t1000\t0\t\n+\n"),
     5},
    {LIT("alice@example.com\t2\timap\t(7272 7274)\t(127.0.0.1)\t\n+\n"), 5},
    {LIT("{\"userList\":[\"a@x\",\"b@x\"]}\t\n+\n"), 1},
    {LIT("alice@example.com\tINBOX\t6\t6\t300156\t\n+\n"), 5},
    {LIT("alice@example.com\t\n+\nimap\t7274\t127.0.0.1\t\n+\n"), 0},
    {LIT("\n-NOUSER\n\n-\nUser quota\tSTORAGE\t98\t10240\t0\t\n+\n\n-75\n\n-\n"), 0},
    {LIT("a\001tb\001nc\t\001\t\0010\0011x\001\001\t\001q\t\n-REFERRAL u@h\n\n+ ok\n"),
     0},
    {LIT("x\t\ny\n"), 0},       /* garbage status line */
    {LIT("abc\tdef\n+\n"), 0},  /* second value without TAB */
    {LIT("a\tb\tc\t\n+\n"), 2}, /* not a multiple */
    {LIT("a\tb\t\n+\nc\t"), 0}, /* incomplete second reply */
    {LIT("{\"userList\":[\"a@x\"]}\n+\n\n-NOUSER\n\n-\n{}\n+\n"), 1}, /* no TAB */
};

static void test_every_split_literals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(LITERALS) / sizeof(LITERALS[0]); i++) {
        char *snap =
            check_every_split(LITERALS[i].bytes, LITERALS[i].len, LITERALS[i].ncols);
        assert_true(strlen(snap) > 0);
        free(snap);
    }
    /* spot checks that the snapshots say what they should */
    char *snap = check_every_split(LITERALS[6].bytes, LITERALS[6].len, 0);
    assert_non_null(strstr(snap, "reply REFERRAL exit=1002 text=[u@h] n=4\n"
                                 "5:a\\x09b\\x0ac\n0:\n4:\\x00\\x01x\\x01\n1:q\n"));
    assert_non_null(strstr(snap, "reply OK"));
    free(snap);
    snap = check_every_split(LITERALS[7].bytes, LITERALS[7].len, 0);
    assert_string_equal(snap, "error protocol\n");
    free(snap);
    snap = check_every_split(LITERALS[8].bytes, LITERALS[8].len, 0);
    assert_string_equal(snap, "error protocol\n");
    free(snap);
    snap = check_every_split(LITERALS[10].bytes, LITERALS[10].len, 0);
    assert_non_null(strstr(snap, "end discardable=0"));
    free(snap);
    snap = check_every_split(LITERALS[11].bytes, LITERALS[11].len, 1);
    assert_string_equal(snap,
                        "reply OK exit=0 text=[] n=1\n20:{\"userList\":[\"a@x\"]}\n"
                        "reply NOUSER exit=67 text=[NOUSER] n=0\n"
                        "reply OK exit=0 text=[] n=1\n2:{}\n"
                        "end discardable=1\n");
    free(snap);
}

/* Replies captured from a real Dovecot 2.3.19.1
 * (tests/data/captures/README.md), when present: each parses without error
 * when fed whole, split at every position and in small chunks, with the
 * command's column count (0 where one stream mixes commands). */
static const struct {
    const char *name;
    size_t ncols;
    size_t nreplies;  /* complete replies in the file */
    dva_status first; /* status of the first reply */
    bool trailing;    /* bytes of an incomplete reply at the end */
} CAPTURES[] = {
    {"quota_alice.bin", 6, 1, DVA_STATUS_OK, false},
    {"quota_bob.bin", 6, 1, DVA_STATUS_OK, false},
    {"quota_carol.bin", 6, 1, DVA_STATUS_OK, false},
    {"quota_dave.bin", 6, 1, DVA_STATUS_TEMPFAIL, false},
    {"quota_nouser.bin", 6, 1, DVA_STATUS_NOUSER, false},
    {"quota_alice_noA.bin", 5, 1, DVA_STATUS_OK, false},
    {"quota_empty_user_A.bin", 6, 1, DVA_STATUS_NOUSER, false},
    {"pipelined_quota.bin", 6, 3, DVA_STATUS_OK, false},
    {"stats_dump.bin", 10, 1, DVA_STATUS_OK, false},
    {"stats_dump_default.bin", 10, 1, DVA_STATUS_OK, false},
    {"stats_dump_badfield.bin", 4, 1, DVA_STATUS_OK, false},
    {"stats_dump_badopt.bin", 10, 1, DVA_STATUS_USAGE, false},
    {"who.bin", 5, 1, DVA_STATUS_OK, false},
    {"who_tcp.bin", 5, 1, DVA_STATUS_OK, false},
    {"who_1.bin", 4, 1, DVA_STATUS_OK, false},
    {"user_list.bin", 1, 1, DVA_STATUS_OK, false},
    {"user_list_nomatch.bin", 1, 1, DVA_STATUS_OK, false},
    {"unknown_command.bin", 0, 1, DVA_STATUS_FAILED, false},
    {"mailbox_status_alice.bin", 5, 1, DVA_STATUS_OK, false},
    {"mailbox_status_dave.bin", 5, 1, DVA_STATUS_OK, false},
    {"hazard_who_then_who1.bin", 0, 2, DVA_STATUS_OK, true},
    {"hazard_who_then_who1_then_who.bin", 0, 3, DVA_STATUS_OK, false},
    {"hazard_quota_then_who.bin", 6, 1, DVA_STATUS_OK, false},
    {"hazard_quota_then_stats.bin", 6, 1, DVA_STATUS_OK, false},
};

static char *read_capture(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/captures/%s", DVA_TEST_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fclose(f);
    char rel[256];
    snprintf(rel, sizeof(rel), "captures/%s", name);
    return dva_test_read_data(rel, len);
}

static void test_every_split_captures(void **state)
{
    (void)state;
    size_t used = 0;
    for (size_t i = 0; i < sizeof(CAPTURES) / sizeof(CAPTURES[0]); i++) {
        size_t len;
        char *bytes = read_capture(CAPTURES[i].name, &len);
        if (bytes == NULL)
            continue;
        char *snap = check_every_split(bytes, len, CAPTURES[i].ncols);
        if (strstr(snap, "error ") != NULL)
            fail_msg("capture %s does not parse:\n%s", CAPTURES[i].name, snap);
        if (count_substr(snap, "reply ") != CAPTURES[i].nreplies)
            fail_msg("capture %s: expected %zu replies:\n%s", CAPTURES[i].name,
                     CAPTURES[i].nreplies, snap);
        char first[64];
        snprintf(first, sizeof(first), "reply %s ", dva_status_name(CAPTURES[i].first));
        assert_true(strncmp(snap, first, strlen(first)) == 0);
        /* an incomplete reply at the end is not discardable */
        assert_non_null(strstr(snap, CAPTURES[i].trailing ? "end discardable=0\n"
                                                          : "end discardable=1\n"));
        free(snap);
        free(bytes);
        used++;
    }
    print_message("%zu captures parsed at every split\n", used);
    if (used == 0)
        skip();
}

/* The contents of a few captures, as PROTOCOL.md describes them. */
static void test_capture_contents(void **state)
{
    (void)state;
    size_t len, consumed;
    dva_reply r;
    dva_error err;
    dva_reply_init(&r);
    bool any = false;

    char *bytes = read_capture("user_list.bin", &len);
    if (bytes != NULL) {
        any = true;
        assert_int_equal(parse_one(bytes, len, 1, NULL, &r, &err, &consumed),
                         DVA_PARSE_DONE);
        assert_int_equal(consumed, len);
        const char *json = dva_reply_cstr(&r, 0, 0);
        assert_non_null(json);
        assert_true(strncmp(json, "{\"userList\":[", 13) == 0);
        assert_non_null(strstr(json, "alice@example.com"));
        assert_string_equal(json + strlen(json) - 2, "]}");
        free(bytes);
    }
    bytes = read_capture("quota_dave.bin", &len);
    if (bytes != NULL) {
        any = true;
        /* data before a failure status is kept */
        assert_int_equal(parse_one(bytes, len, 6, NULL, &r, &err, &consumed),
                         DVA_PARSE_DONE);
        assert_int_equal(r.status, DVA_STATUS_TEMPFAIL);
        assert_int_equal(r.exit_code, 75);
        assert_int_equal(dva_reply_rows(&r), 2);
        assert_string_equal(dva_reply_cstr(&r, 0, 2), "STORAGE");
        assert_string_equal(dva_reply_cstr(&r, 1, 5), "error");
        free(bytes);
    }
    bytes = read_capture("pipelined_quota.bin", &len);
    if (bytes != NULL) {
        any = true;
        static const char *const users[] = {"alice@example.com", "bob@example.com",
                                            "carol@example.com"};
        dva_parser p;
        dva_parser_init(&p, NULL);
        size_t off = 0;
        for (size_t i = 0; i < 3; i++) {
            dva_parser_begin(&p, &r, 6);
            assert_int_equal(feed(&p, bytes + off, len - off, &consumed, &err),
                             DVA_PARSE_DONE);
            off += consumed;
            assert_int_equal(r.status, DVA_STATUS_OK);
            assert_true(dva_reply_rows(&r) >= 1);
            for (size_t row = 0; row < dva_reply_rows(&r); row++)
                assert_string_equal(dva_reply_cstr(&r, row, 0), users[i]);
        }
        assert_int_equal(off, len);
        free(bytes);
    }
    dva_reply_free(&r);
    if (!any)
        skip();
}

static uint32_t rng_next(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Writes a random stream of 1-4 replies into buf (cap bytes), sometimes with
 * one byte changed into a random one; returns its length. */
static size_t random_stream(char *buf, size_t cap, uint32_t *seed)
{
    static const char value_bytes[] = "ab\001\001tn0x\000\r";
    static const char *const statuses[] = {
        "+", "-", "-NOUSER", "-75", "+ x", "-REFERRAL a@b", "-TEMPFAIL"};
    size_t len = 0;
    size_t nreplies = 1 + rng_next(seed) % 4;
    for (size_t r = 0; r < nreplies; r++) {
        size_t nvalues = rng_next(seed) % 6;
        for (size_t v = 0; v < nvalues; v++) {
            size_t vlen = rng_next(seed) % 6;
            for (size_t k = 0; k < vlen && len < cap - 32; k++)
                buf[len++] = value_bytes[rng_next(seed) % (sizeof(value_bytes) - 1)];
            buf[len++] = '\t';
        }
        const char *st =
            statuses[rng_next(seed) % (sizeof(statuses) / sizeof(statuses[0]))];
        if (len + strlen(st) + 2 > cap)
            break;
        buf[len++] = '\n';
        memcpy(buf + len, st, strlen(st));
        len += strlen(st);
        buf[len++] = '\n';
    }
    if (len > 0 && rng_next(seed) % 4 == 0) {
        static const char noise[] = "a\t\n+-\001N";
        buf[rng_next(seed) % len] = noise[rng_next(seed) % (sizeof(noise) - 1)];
    }
    if (len > 0 && rng_next(seed) % 4 == 0)
        len -= rng_next(seed) % len; /* cut short */
    return len;
}

/* Random streams of replies, fed whole and in random chunks: same
 * snapshot, storage invariants hold, no crash (ASan/UBSan builds check the
 * rest). */
static void test_random_streams_consistent(void **state)
{
    (void)state;
    uint32_t seed = 42;
    dva_limits lim = {.max_value_len = 4, .max_values = 8, .max_reply_len = 12};
    size_t replies = 0, errors = 0;
    for (int iter = 0; iter < 3000; iter++) {
        char buf[256];
        size_t len = random_stream(buf, sizeof(buf), &seed);
        const dva_limits *l = (iter % 3 == 0) ? &lim : NULL;
        size_t ncols = iter % 5 == 0 ? 2 : 0;
        char *whole = snapshot_stream(buf, len, ncols, 0, 0, l);
        size_t split = len == 0 ? 0 : rng_next(&seed) % len;
        char *s1 = snapshot_stream(buf, len, ncols, split, 0, l);
        char *s2 = snapshot_stream(buf, len, ncols, 0, 1 + rng_next(&seed) % 5, l);
        assert_string_equal(s1, whole);
        assert_string_equal(s2, whole);
        replies += count_substr(whole, "reply ");
        errors += count_substr(whole, "error ");
        free(whole);
        free(s1);
        free(s2);
    }
    /* the generator makes both outcomes common */
    print_message("%zu replies, %zu errors\n", replies, errors);
    assert_true(replies > 2000);
    assert_true(errors > 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_success),
        cmocka_unit_test(test_empty_failure),
        cmocka_unit_test(test_each_status_code_name),
        cmocka_unit_test(test_bare_minus_is_failed),
        cmocka_unit_test(test_referral),
        cmocka_unit_test(test_named_code_with_text),
        cmocka_unit_test(test_numeric_known_codes),
        cmocka_unit_test(test_numeric_unknown_codes),
        cmocka_unit_test(test_unknown_code_other),
        cmocka_unit_test(test_other_code_sanitized_and_bounded),
        cmocka_unit_test(test_text_after_plus_ignored),
        cmocka_unit_test(test_garbage_status_line),
        cmocka_unit_test(test_status_line_max),
        cmocka_unit_test(test_values_with_every_escape),
        cmocka_unit_test(test_scan_finds_special_bytes_at_every_offset),
        cmocka_unit_test(test_empty_values),
        cmocka_unit_test(test_nul_inside_value),
        cmocka_unit_test(test_escape_split_across_feeds),
        cmocka_unit_test(test_lone_escape_before_tab_dropped),
        cmocka_unit_test(test_value_without_tab_before_lf),
        cmocka_unit_test(test_single_value_without_tab),
        cmocka_unit_test(test_row_cutting),
        cmocka_unit_test(test_row_not_multiple_is_error),
        cmocka_unit_test(test_row_not_multiple_allowed_on_failure),
        cmocka_unit_test(test_limit_value_len),
        cmocka_unit_test(test_limit_values),
        cmocka_unit_test(test_limit_reply_len),
        cmocka_unit_test(test_limits_bound_allocation),
        cmocka_unit_test(test_pipelined_consumed),
        cmocka_unit_test(test_duplicate_dropped_one_buffer),
        cmocka_unit_test(test_duplicate_dropped_byte_by_byte),
        cmocka_unit_test(test_duplicate_after_other_codes),
        cmocka_unit_test(test_duplicate_not_dropped_after_success),
        cmocka_unit_test(test_duplicate_not_dropped_after_bare_minus),
        cmocka_unit_test(test_duplicate_dropped_only_once),
        cmocka_unit_test(test_discardable_states),
        cmocka_unit_test(test_reply_reuse),
        cmocka_unit_test(test_dead_after_error_and_misuse),
        cmocka_unit_test(test_every_split_literals),
        cmocka_unit_test(test_every_split_captures),
        cmocka_unit_test(test_capture_contents),
        cmocka_unit_test(test_random_streams_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
