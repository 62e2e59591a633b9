#include "decode_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool dva_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (!is_digit(*s))
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* 10^0 .. 10^22 are exact in a double. */
static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

bool dva_parse_double(const char *s, double *out)
{
    bool negative = false;
    uint64_t mant = 0;     /* all digits as one integer, while exact */
    bool exact = true;     /* mant holds every digit and is < 2^53 */
    double approx_int = 0; /* fallback accumulation */
    double approx_frac = 0, frac_scale = 1;
    size_t int_digits = 0, frac_digits = 0;

    if (s == NULL)
        return false;
    if (*s == '-') {
        negative = true;
        s++;
    }
    for (; is_digit(*s); s++, int_digits++) {
        unsigned d = (unsigned)(*s - '0');
        if (exact && mant <= ((UINT64_C(1) << 53) - d) / 10)
            mant = mant * 10 + d;
        else
            exact = false;
        approx_int = approx_int * 10 + d;
    }
    if (int_digits == 0)
        return false;
    if (*s == '.') {
        s++;
        for (; is_digit(*s); s++, frac_digits++) {
            unsigned d = (unsigned)(*s - '0');
            if (exact && mant <= ((UINT64_C(1) << 53) - d) / 10)
                mant = mant * 10 + d;
            else
                exact = false;
            frac_scale /= 10;
            approx_frac += d * frac_scale;
        }
        if (frac_digits == 0)
            return false;
    }
    if (*s != '\0')
        return false;

    double v;
    if (exact && frac_digits < sizeof(pow10_exact) / sizeof(pow10_exact[0]))
        v = (double)mant / pow10_exact[frac_digits]; /* correctly rounded */
    else
        v = approx_int + approx_frac;
    if (!isfinite(v))
        return false;
    *out = negative ? -v : v;
    return true;
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

bool dva_user_equal(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    for (;; p++, q++) {
        if (ascii_lower(*p) != ascii_lower(*q))
            return false;
        if (*p == '\0')
            return true;
    }
}

int dva_decode_check_reply(const dva_reply *reply, size_t ncols, const char *what,
                           dva_error *err)
{
    if (reply == NULL)
        return dva_fail(err, DVA_ERR_USAGE, "No reply was given to decode %s.", what);
    if (reply->status != DVA_STATUS_OK) {
        return dva_fail(err, DVA_ERR_COMMAND,
                        "The server answered %s with %s; there is nothing to decode.",
                        what, dva_status_name(reply->status));
    }
    return dva_decode_check_shape(reply, ncols, what, err);
}

int dva_decode_check_shape(const dva_reply *reply, size_t ncols, const char *what,
                           dva_error *err)
{
    if (reply->ncols != ncols) {
        return dva_fail(err, DVA_ERR_DECODE,
                        "The %s reply was cut into rows of %zu values, but the command "
                        "has %zu columns.",
                        what, reply->ncols, ncols);
    }
    if (ncols != 0 && reply->nvalues % ncols != 0) {
        return dva_fail(err, DVA_ERR_DECODE,
                        "The %s reply has %zu values, which is not a whole number of "
                        "rows of %zu.",
                        what, reply->nvalues, ncols);
    }
    return 0;
}

void *dva_calloc_rows(size_t n, size_t size, bool *failed)
{
    *failed = false;
    if (n == 0)
        return NULL;
    void *p = calloc(n, size);
    if (p == NULL)
        *failed = true;
    return p;
}

const char *dva_decode_cstr(const dva_reply *reply, size_t row, size_t col,
                            bool nonempty, const char *what, const char *column,
                            dva_error *err)
{
    char q[DVA_QUOTE_MAX];
    size_t len = 0;
    const char *v = dva_reply_cell(reply, row, col, &len);

    if (v == NULL) {
        dva_fail(err, DVA_ERR_DECODE, "Row %zu of the %s reply has no %s column.",
                 row + 1, what, column);
        return NULL;
    }
    if (memchr(v, '\0', len) != NULL) {
        dva_fail(err, DVA_ERR_DECODE,
                 "Row %zu of the %s reply has a NUL byte in its %s column: \"%s\".",
                 row + 1, what, column, dva_quote(q, sizeof(q), v, len));
        return NULL;
    }
    if (nonempty && len == 0) {
        dva_fail(err, DVA_ERR_DECODE, "Row %zu of the %s reply has an empty %s column.",
                 row + 1, what, column);
        return NULL;
    }
    return v;
}

int dva_decode_u64(const dva_reply *reply, size_t row, size_t col, const char *what,
                   const char *column, uint64_t *out, dva_error *err)
{
    char q[DVA_QUOTE_MAX];
    const char *v = dva_decode_cstr(reply, row, col, false, what, column, err);

    if (v == NULL)
        return -1;
    if (!dva_parse_u64(v, out)) {
        return dva_fail(err, DVA_ERR_DECODE,
                        "Row %zu of the %s reply has an invalid %s column: expected an "
                        "unsigned decimal number, got \"%s\".",
                        row + 1, what, column, dva_quote(q, sizeof(q), v, strlen(v)));
    }
    return 0;
}

const char *dva_decode_row_user(const dva_reply *reply, size_t r, const char *what,
                                const char *expected_user, dva_error *err)
{
    char q1[DVA_QUOTE_MAX], q2[DVA_QUOTE_MAX];
    const char *user = dva_decode_cstr(reply, r, 0, true, what, "username", err);
    if (user == NULL || expected_user == NULL || dva_user_equal(user, expected_user))
        return user;
    dva_fail(err, DVA_ERR_DECODE,
             "Row %zu of the %s reply is for user \"%s\", but the command was sent "
             "for user \"%s\"; refusing to credit its values.",
             r + 1, what, dva_quote(q1, sizeof(q1), user, strlen(user)),
             dva_quote(q2, sizeof(q2), expected_user, strlen(expected_user)));
    return NULL;
}
