/* SPDX-License-Identifier: MIT */
/* `mailbox status [-A] <fields> <mask>`
 * (doveadm/doveadm-mail-mailbox-status.c). With -A the rows start with the
 * username; without it they are the request user's (command.h,
 * dva_user_rows). The fields are always named, never `all`, whose columns
 * grow between releases (2.4.2 adds `deleted`).
 *
 * The builder (protocol/mailbox_command.c) accepts the fields only in
 * Dovecot's output order, so the decoded values are in the requested
 * order by construction. A mailbox that never had a message saved prints
 * firstsaved as "never"; firstsaved is always the last column when
 * requested, so "never" is accepted in the last column only and decoded
 * as 0. */
#include "doveadm/mailbox.h"

#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

#define WHAT "mailbox status"

/* named: column 0 is the username; else the row is expected_user's. */
static int decode_row(const dva_reply *reply, size_t r, size_t nfields, bool named,
                      const char *expected_user, dva_mailbox_row *row, dva_error *err)
{
    size_t first = named ? 1 : 0; /* the mailbox column */

    row->user =
        named ? dva_decode_row_user(reply, r, WHAT, expected_user, err) : expected_user;
    if (row->user == NULL)
        return -1;
    row->mailbox = dva_decode_cstr(reply, r, first, true, WHAT, "mailbox", err);
    if (row->mailbox == NULL)
        return -1;
    for (size_t i = 0; i < nfields; i++) {
        const char *v = dva_reply_cstr(reply, r, first + 1 + i);
        if (i == nfields - 1 && v != NULL && strcmp(v, "never") == 0) {
            row->values[i] = 0; /* firstsaved of a mailbox never saved to */
            continue;
        }
        if (dva_decode_u64(reply, r, first + 1 + i, WHAT, "status field",
                           &row->values[i], err) < 0)
            return -1;
    }
    return 0;
}

int dva_mailbox_decode(const dva_reply *reply, size_t nfields,
                       const char *expected_user, dva_mailbox_status *out,
                       dva_error *err)
{
    bool nomem;

    out->rows = NULL;
    out->nrows = 0;
    out->nfields = 0;
    if (nfields == 0 || nfields > DVA_MAILBOX_MAX_FIELDS) {
        return dva_fail(err, DVA_ERR_USAGE,
                        "A mailbox status reply has 1 to %d fields, not %zu.",
                        DVA_MAILBOX_MAX_FIELDS, nfields);
    }
    /* The width the request asked for tells the form. */
    bool named = reply == NULL || reply->ncols != 1 + nfields;
    if (!named && expected_user == NULL)
        return dva_fail(err, DVA_ERR_USAGE,
                        "A " WHAT " reply without a username column needs the user "
                        "it was asked for.");
    if (dva_decode_check_reply(reply, (named ? 2 : 1) + nfields, WHAT, err) < 0)
        return -1;
    size_t nrows = dva_reply_rows(reply);
    dva_mailbox_row *rows = dva_calloc_rows(nrows, sizeof(*rows), &nomem);
    if (nomem)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu mailbox rows.",
                        nrows);
    for (size_t r = 0; r < nrows; r++) {
        if (decode_row(reply, r, nfields, named, expected_user, &rows[r], err) < 0) {
            free(rows);
            return -1;
        }
    }
    out->rows = rows;
    out->nrows = nrows;
    out->nfields = nfields;
    return 0;
}

void dva_mailbox_free(dva_mailbox_status *status)
{
    if (status == NULL)
        return;
    free(status->rows);
    status->rows = NULL;
    status->nrows = 0;
    status->nfields = 0;
}
