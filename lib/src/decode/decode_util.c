/* SPDX-License-Identifier: MIT */
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

    /* Case is folded only where the bytes differ: names mostly match. */
    for (;; p++, q++) {
        if (*p != *q) {
            if (ascii_lower(*p) != ascii_lower(*q))
                return false;
        } else if (*p == '\0') {
            return true;
        }
    }
}

bool dva_user_equal_n(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false; /* ASCII case folding keeps the length */
    if (memcmp(a, b, alen) == 0)
        return true;
    for (size_t i = 0; i < alen; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
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

int dva_decode_rows(const dva_reply *reply, size_t ncols, size_t max_rows,
                    const char *what, size_t row_size, dva_decode_row_fn *decode_row,
                    void **rows, size_t *nrows, dva_error *err)
{
    bool nomem;

    if (dva_decode_check_reply(reply, ncols, what, err) < 0)
        return -1;
    size_t n = dva_reply_rows(reply);
    if (n > max_rows)
        return dva_fail(err, DVA_ERR_LIMIT,
                        "The %s reply has %zu rows, more than the %zu accepted.", what,
                        n, max_rows);
    char *out = dva_calloc_rows(n, row_size, &nomem);
    if (nomem)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu %s rows.", n, what);
    for (size_t r = 0; r < n; r++) {
        if (decode_row(reply, r, out + r * row_size, err) < 0) {
            free(out);
            return -1;
        }
    }
    *rows = out;
    *nrows = n;
    return 0;
}

/* First value of row of a reply cut into rows of width; false when the
 * reply has no such complete row (no division: it runs for every cell). */
static bool row_start(const dva_reply *reply, size_t row, size_t width, size_t *first)
{
    return !__builtin_mul_overflow(row, width, first) && *first < reply->nvalues &&
           reply->nvalues - *first >= width;
}

bool dva_decode_row_cells(const dva_reply *reply, size_t row, size_t ncols,
                          dva_cell *cells)
{
    size_t width = reply->ncols == 0 ? 1 : reply->ncols, first;
    if (ncols > width || !row_start(reply, row, width, &first))
        return false;
    const size_t *at = reply->offsets + first;
    for (size_t i = 0; i < ncols; i++) {
        cells[i].s = reply->data + at[i];
        cells[i].len = at[i + 1] - at[i] - 1;
    }
    return true;
}

int dva_decode_check_cell_slow(const dva_reply *reply, const dva_cell *cell, size_t row,
                               bool nonempty, const char *what, const char *column,
                               dva_error *err)
{
    char q[DVA_QUOTE_MAX];
    if (!reply->nul_free && memchr(cell->s, '\0', cell->len) != NULL)
        return dva_fail(err, DVA_ERR_DECODE,
                        "Row %zu of the %s reply has a NUL byte in its %s column: "
                        "\"%s\".",
                        row + 1, what, column,
                        dva_quote(q, sizeof(q), cell->s, cell->len));
    if (nonempty && cell->len == 0)
        return dva_fail(err, DVA_ERR_DECODE,
                        "Row %zu of the %s reply has an empty %s column.", row + 1,
                        what, column);
    return 0;
}

int dva_decode_cell(const dva_reply *reply, size_t row, size_t col, bool nonempty,
                    const char *what, const char *column, dva_cell *out, dva_error *err)
{
    dva_cell cells[1];
    size_t width = reply->ncols == 0 ? 1 : reply->ncols, first;

    if (col >= width || !row_start(reply, row, width, &first))
        return dva_fail(err, DVA_ERR_DECODE,
                        "Row %zu of the %s reply has no %s column.", row + 1, what,
                        column);
    size_t start = reply->offsets[first + col];
    cells[0].s = reply->data + start;
    cells[0].len = reply->offsets[first + col + 1] - start - 1;
    if (dva_decode_check_cell(reply, cells, row, nonempty, what, column, err) < 0)
        return -1;
    *out = cells[0];
    return 0;
}

const char *dva_decode_cstr(const dva_reply *reply, size_t row, size_t col,
                            bool nonempty, const char *what, const char *column,
                            dva_error *err)
{
    dva_cell cell;
    if (dva_decode_cell(reply, row, col, nonempty, what, column, &cell, err) < 0)
        return NULL;
    return cell.s;
}

int dva_decode_cell_u64_fail(const dva_cell *cell, size_t row, const char *what,
                             const char *column, dva_error *err)
{
    char q[DVA_QUOTE_MAX];
    return dva_fail(err, DVA_ERR_DECODE,
                    "Row %zu of the %s reply has an invalid %s column: expected an "
                    "unsigned decimal number, got \"%s\".",
                    row + 1, what, column, dva_quote(q, sizeof(q), cell->s, cell->len));
}

int dva_decode_u64(const dva_reply *reply, size_t row, size_t col, const char *what,
                   const char *column, uint64_t *out, dva_error *err)
{
    dva_cell cell;
    if (dva_decode_cell(reply, row, col, false, what, column, &cell, err) < 0)
        return -1;
    return dva_decode_cell_u64(&cell, row, what, column, out, err);
}

int dva_decode_cell_user(const dva_cell *user, size_t r, const char *what,
                         const char *expected_user, size_t expected_len, dva_error *err)
{
    char q1[DVA_QUOTE_MAX], q2[DVA_QUOTE_MAX];
    if (expected_user == NULL ||
        dva_user_equal_n(user->s, user->len, expected_user, expected_len))
        return 0;
    return dva_fail(err, DVA_ERR_DECODE,
                    "Row %zu of the %s reply is for user \"%s\", but the command was "
                    "sent for user \"%s\"; refusing to credit its values.",
                    r + 1, what, dva_quote(q1, sizeof(q1), user->s, user->len),
                    dva_quote(q2, sizeof(q2), expected_user, expected_len));
}

const char *dva_decode_row_user(const dva_reply *reply, size_t r, const char *what,
                                const char *expected_user, dva_error *err)
{
    dva_cell user;
    if (dva_decode_cell(reply, r, 0, true, what, "username", &user, err) < 0 ||
        dva_decode_cell_user(&user, r, what, expected_user,
                             expected_user != NULL ? strlen(expected_user) : 0,
                             err) < 0)
        return NULL;
    return user.s;
}
