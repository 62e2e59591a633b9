/* SPDX-License-Identifier: MIT */
/* Private helpers shared by the command decoders (stats.c, who.c, quota.c,
 * mailbox.c, userlist.c): strict number parsing that never trusts strtoull
 * or the locale, ASCII case-insensitive user comparison, and the checks
 * every decoder runs on a reply before it reads a single cell. */
#ifndef DVA_DECODE_UTIL_H
#define DVA_DECODE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doveadm/error.h"
#include "doveadm/reply.h"

/* Strict unsigned decimal: one or more ASCII digits and nothing else (no
 * sign, no spaces, no "0x", no trailing bytes), value <= UINT64_MAX.
 * Leading zeros are accepted ("007" is 7). Returns true on success; *out is
 * untouched on failure. */
bool dva_parse_u64(const char *s, uint64_t *out);

/* dva_parse_u64 on the len bytes at s (a NUL byte among them fails).
 * Inline: it runs for every number of every row. */
static inline bool dva_parse_u64_n(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    /* Up to 19 digits cannot pass UINT64_MAX: no overflow check per digit. */
    bool may_overflow = len > 19;

    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9 || (may_overflow && v > (UINT64_MAX - d) / 10))
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Strict decimal number as Dovecot prints them with %u, %PRIu64 and %.02f:
 * an optional '-', one or more digits, optionally '.' and one or more
 * digits. No exponent, no spaces, no "nan"/"inf", no trailing bytes, and the
 * result must be finite. Locale independent ('.' is always the separator). */
bool dva_parse_double(const char *s, double *out);

/* ASCII case-insensitive equality (bytes >= 0x80 compare exactly, so the
 * result never depends on the locale). */
bool dva_user_equal(const char *a, const char *b);
/* dva_user_equal on strings of known lengths. */
bool dva_user_equal_n(const char *a, size_t alen, const char *b, size_t blen);

/* Checks a reply before decoding: status OK (else DVA_ERR_COMMAND), row
 * width equal to ncols and a value count that is a multiple of it (else
 * DVA_ERR_DECODE). what names the command in messages ("quota get"). */
int dva_decode_check_reply(const dva_reply *reply, size_t ncols, const char *what,
                           dva_error *err);

/* The row-width part of dva_decode_check_reply(), for a decoder that also
 * accepts some failure statuses. reply must not be NULL. */
int dva_decode_check_shape(const dva_reply *reply, size_t ncols, const char *what,
                           dva_error *err);

/* One cell of a row: s is NUL-terminated and holds no other NUL byte. */
typedef struct {
    const char *s;
    size_t len;
} dva_cell;

/* The first ncols cells of row r, unchecked, for a decoder that reads a
 * whole row: it runs dva_decode_check_cell() on each, in column order.
 * false when the reply has no complete row r. */
bool dva_decode_row_cells(const dva_reply *reply, size_t row, size_t ncols,
                          dva_cell *cells);

/* The out-of-line part of dva_decode_check_cell(), which names the fault. */
int dva_decode_check_cell_slow(const dva_reply *reply, const dva_cell *cell, size_t row,
                               bool nonempty, const char *what, const char *column,
                               dva_error *err);

/* A cell of reply at row is a C string (no NUL byte in it) and, when
 * nonempty is set, not empty; -1 with err filled (DVA_ERR_DECODE) when
 * not. Inline: the parser says when no value holds a NUL byte, so most
 * cells need no scan. */
static inline int dva_decode_check_cell(const dva_reply *reply, const dva_cell *cell,
                                        size_t row, bool nonempty, const char *what,
                                        const char *column, dva_error *err)
{
    if (reply->nul_free && (!nonempty || cell->len > 0))
        return 0;
    return dva_decode_check_cell_slow(reply, cell, row, nonempty, what, column, err);
}

/* The cell at row, col with its length; -1, with err filled like
 * dva_decode_cstr(), when dva_decode_cstr() would return NULL. */
int dva_decode_cell(const dva_reply *reply, size_t row, size_t col, bool nonempty,
                    const char *what, const char *column, dva_cell *out,
                    dva_error *err);

/* The cell at row, col as a C string. NULL, with err filled
 * (DVA_ERR_DECODE), when it holds a NUL byte or is empty while nonempty is
 * set. what names the command, column the column, both for the message. */
const char *dva_decode_cstr(const dva_reply *reply, size_t row, size_t col,
                            bool nonempty, const char *what, const char *column,
                            dva_error *err);

/* The cell at row, col parsed with dva_parse_u64; -1 with err filled
 * (DVA_ERR_DECODE) when it is not a strict unsigned decimal. */
int dva_decode_u64(const dva_reply *reply, size_t row, size_t col, const char *what,
                   const char *column, uint64_t *out, dva_error *err);

/* The failure of dva_decode_cell_u64(): fills err, returns -1. */
int dva_decode_cell_u64_fail(const dva_cell *cell, size_t row, const char *what,
                             const char *column, dva_error *err);

/* dva_decode_u64 on a cell already decoded (row names it in messages). */
static inline int dva_decode_cell_u64(const dva_cell *cell, size_t row,
                                      const char *what, const char *column,
                                      uint64_t *out, dva_error *err)
{
    if (dva_parse_u64_n(cell->s, cell->len, out))
        return 0;
    return dva_decode_cell_u64_fail(cell, row, what, column, err);
}

/* Calls calloc(n, size), returning NULL for n == 0 without failing. Sets
 * *failed when the allocation was needed and failed (calloc itself guards
 * the n * size multiplication against overflow). */
void *dva_calloc_rows(size_t n, size_t size, bool *failed);

/* Decodes row r of reply into row (row_size bytes, zeroed); 0 or -1. */
typedef int dva_decode_row_fn(const dva_reply *reply, size_t r, void *row,
                              dva_error *err);

/* The frame of a decoder with one struct per row (the health commands):
 * dva_decode_check_reply() with ncols, more than max_rows rows refused
 * (DVA_ERR_LIMIT), the rows allocated row_size bytes each and decoded in
 * order. *rows and *nrows are set only on success (NULL and 0 for no
 * rows); a failure leaves nothing allocated. */
int dva_decode_rows(const dva_reply *reply, size_t ncols, size_t max_rows,
                    const char *what, size_t row_size, dva_decode_row_fn *decode_row,
                    void **rows, size_t *nrows, dva_error *err);

/* Decodes the user in column 0 of row r and, when expected_user is not
 * NULL, refuses the row unless it names that user (ASCII case ignored), so
 * no value is ever credited to another user. Returns the user or NULL. */
const char *dva_decode_row_user(const dva_reply *reply, size_t r, const char *what,
                                const char *expected_user, dva_error *err);
/* The check of dva_decode_row_user() on a decoded user cell, expected_len
 * being strlen(expected_user) (computed once per reply). 0 or -1. */
int dva_decode_cell_user(const dva_cell *user, size_t r, const char *what,
                         const char *expected_user, size_t expected_len,
                         dva_error *err);

#endif
