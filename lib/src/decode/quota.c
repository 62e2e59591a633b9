/* SPDX-License-Identifier: MIT */
/* `quota get` (plugins/quota/doveadm-quota.c). Per resource the server
 * prints: root name, type, then value limit percent as numbers when there
 * is a limit, "value - 0" when there is none, and "error error error" when
 * it could not compute the resource. -A (and -F) add the username in
 * front: 6 columns; without them a row has 5 and is the request user's. */
#include "doveadm/quota.h"

#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

#define WHAT "quota get"

/* The cell equals the literal word. */
static bool cell_is(const dva_cell *cell, const char *word, size_t len)
{
    return cell->len == len && memcmp(cell->s, word, len) == 0;
}
#define CELL_IS(cell, word) cell_is((cell), (word), sizeof(word) - 1)

static dva_quota_type quota_type(const dva_cell *name)
{
    if (CELL_IS(name, "STORAGE"))
        return DVA_QUOTA_STORAGE;
    if (CELL_IS(name, "MESSAGE"))
        return DVA_QUOTA_MESSAGE;
    return DVA_QUOTA_OTHER;
}

/* expected_len: strlen(expected_user), once per reply. named: the row
 * starts with a username column (6 columns), else it is expected_user's. */
static int decode_row(const dva_reply *reply, size_t r, bool named,
                      const char *expected_user, size_t expected_len,
                      dva_quota_row *row, dva_error *err)
{
    dva_cell c[DVA_QUOTA_NCOLS];
    static const char *const names[] = {"value", "limit", "percent"};
    const dva_cell *user = &c[0];
    const dva_cell *root = &c[named ? 1 : 0], *type = root + 1, *cells = root + 2;

    if (!dva_decode_row_cells(reply, r, named ? DVA_QUOTA_NCOLS : DVA_QUOTA_NCOLS_PLAIN,
                              c))
        return dva_fail(err, DVA_ERR_DECODE,
                        "Row %zu of the " WHAT " reply has no username column.", r + 1);
    /* Checked in column order: the first fault of a row is the one named. */
    if (named &&
        (dva_decode_check_cell(reply, user, r, true, WHAT, "username", err) < 0 ||
         dva_decode_cell_user(user, r, WHAT, expected_user, expected_len, err) < 0))
        return -1;
    if (dva_decode_check_cell(reply, root, r, false, WHAT, "quota root", err) < 0 ||
        dva_decode_check_cell(reply, type, r, true, WHAT, "type", err) < 0)
        return -1;
    row->user = named ? user->s : expected_user;
    row->root = root->s;
    row->type_name = type->s;
    row->type = quota_type(type);

    size_t nerror = 0;
    for (size_t i = 0; i < 3; i++) {
        if (dva_decode_check_cell(reply, &cells[i], r, false, WHAT, names[i], err) < 0)
            return -1;
        if (CELL_IS(&cells[i], "error"))
            nerror++;
    }
    if (nerror == 3) {
        row->error = true;
        return 0;
    }
    if (nerror != 0) {
        return dva_fail(err, DVA_ERR_DECODE,
                        "Row %zu of the " WHAT
                        " reply mixes \"error\" with numbers in its "
                        "value, limit and percent columns.",
                        r + 1);
    }
    if (dva_decode_cell_u64(&cells[0], r, WHAT, "value", &row->value, err) < 0)
        return -1;
    if (CELL_IS(&cells[1], "-")) {
        row->unlimited = true;
        row->limit = 0;
    } else if (dva_decode_cell_u64(&cells[1], r, WHAT, "limit", &row->limit, err) < 0) {
        return -1;
    }
    return dva_decode_cell_u64(&cells[2], r, WHAT, "percent", &row->percent, err);
}

int dva_quota_decode(const dva_reply *reply, const char *expected_user, dva_quota *out,
                     dva_error *err)
{
    bool nomem;

    out->rows = NULL;
    out->nrows = 0;
    /* Dovecot 2.3.19 prints "error" rows and then fails the command with
     * -TEMPFAIL: such a reply is decoded so the failing resources show. */
    bool tempfail =
        reply != NULL && reply->status == DVA_STATUS_TEMPFAIL && reply->nvalues > 0;
    /* The width the request asked for tells the form (dva_quota_command());
     * plain rows name nobody, so they need the user they are for. */
    bool named = reply == NULL || reply->ncols != DVA_QUOTA_NCOLS_PLAIN;
    if (!named && expected_user == NULL)
        return dva_fail(err, DVA_ERR_USAGE,
                        "A " WHAT " reply without a username column needs the user "
                        "it was asked for.");
    size_t ncols = named ? DVA_QUOTA_NCOLS : DVA_QUOTA_NCOLS_PLAIN;
    if (tempfail) {
        if (dva_decode_check_shape(reply, ncols, WHAT, err) < 0)
            return -1;
    } else if (dva_decode_check_reply(reply, ncols, WHAT, err) < 0) {
        return -1;
    }
    size_t nrows = dva_reply_rows(reply);
    dva_quota_row *rows = dva_calloc_rows(nrows, sizeof(*rows), &nomem);
    if (nomem)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu quota rows.", nrows);
    bool any_error = false;
    size_t expected_len = expected_user != NULL ? strlen(expected_user) : 0;
    for (size_t r = 0; r < nrows; r++) {
        if (decode_row(reply, r, named, expected_user, expected_len, &rows[r], err) <
            0) {
            free(rows);
            return -1;
        }
        any_error = any_error || rows[r].error;
    }
    if (tempfail && !any_error) {
        free(rows);
        return dva_fail(err, DVA_ERR_COMMAND,
                        "The server answered " WHAT " with TEMPFAIL without naming a "
                        "failed resource; there is nothing to decode.");
    }
    out->rows = rows;
    out->nrows = nrows;
    return 0;
}

int dva_quota_decode_rows(const dva_reply *reply, size_t first, size_t n,
                          dva_quota_row *rows, dva_error *err)
{
    if (reply->ncols != DVA_QUOTA_NCOLS)
        return dva_fail(err, DVA_ERR_USAGE,
                        "Streamed " WHAT " rows must name their user (%d columns).",
                        DVA_QUOTA_NCOLS);
    if (n > dva_reply_rows(reply) || first > dva_reply_rows(reply) - n)
        return dva_fail(err, DVA_ERR_USAGE, "The " WHAT " reply has no rows %zu-%zu.",
                        first + 1, first + n);
    for (size_t i = 0; i < n; i++) {
        memset(&rows[i], 0, sizeof(rows[i]));
        if (decode_row(reply, first + i, true, NULL, 0, &rows[i], err) < 0)
            return -1;
    }
    return 0;
}

void dva_quota_free(dva_quota *quota)
{
    if (quota == NULL)
        return;
    free(quota->rows);
    quota->rows = NULL;
    quota->nrows = 0;
}
