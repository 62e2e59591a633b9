/* `mailbox status [-A] <fields> <mask>`
 * (doveadm/doveadm-mail-mailbox-status.c). With -A the rows start with the
 * username; without it they are the request user's (command.h,
 * dva_user_rows). The fields are always named, never `all`, whose columns
 * grow between releases (2.4.2 adds `deleted`).
 *
 * Dovecot prints the status fields in its own fixed order, whatever order
 * they were asked in, and merges repeats (checked on 2.3.19.1: asking for
 * "firstsaved vsize messages" gives the columns messages, vsize,
 * firstsaved). The builder therefore accepts the fields only in that order,
 * so the decoded values are in the requested order by construction. A
 * mailbox that never had a message saved prints firstsaved as "never";
 * firstsaved is always the last column when requested, so "never" is
 * accepted in the last column only and decoded as 0. */
#include "doveadm/mailbox.h"

#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

#define WHAT "mailbox status"

/* Dovecot's output order. */
static const char *const field_order[] = {
    "messages", "recent",        "uidnext", "uidvalidity",
    "unseen",   "highestmodseq", "vsize",   "firstsaved",
};
#define NFIELD_ORDER (sizeof(field_order) / sizeof(field_order[0]))

static int field_index(const char *field)
{
    if (field == NULL)
        return -1;
    for (size_t i = 0; i < NFIELD_ORDER; i++) {
        if (strcmp(field, field_order[i]) == 0)
            return (int)i;
    }
    return -1;
}

bool dva_mailbox_field_valid(const char *field)
{
    return field_index(field) >= 0;
}

int dva_mailbox_command(dva_command *cmd, const char *const *fields, size_t nfields,
                        const char *mask, dva_user_rows rows, dva_error *err)
{
    char q[DVA_QUOTE_MAX];
    int prev = -1;
    size_t pos = 0;

    memset(cmd, 0, sizeof(*cmd));
    if (nfields == 0 || fields == NULL)
        return dva_fail(err, DVA_ERR_USAGE, "mailbox status needs at least one field.");
    if (nfields > DVA_MAILBOX_MAX_FIELDS) {
        return dva_fail(err, DVA_ERR_USAGE,
                        "mailbox status accepts at most %d fields, %zu were given.",
                        DVA_MAILBOX_MAX_FIELDS, nfields);
    }
    for (size_t i = 0; i < nfields; i++) {
        int idx = field_index(fields[i]);
        if (idx < 0) {
            const char *f = fields[i] == NULL ? "(null)" : fields[i];
            return dva_fail(
                err, DVA_ERR_USAGE,
                "Unknown mailbox status field \"%s\"; the numeric fields are "
                "messages recent uidnext uidvalidity unseen highestmodseq "
                "vsize firstsaved.",
                dva_quote(q, sizeof(q), f, strlen(f)));
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(fields[j], fields[i]) == 0) {
                return dva_fail(err, DVA_ERR_USAGE,
                                "The mailbox status field \"%s\" is given twice.",
                                fields[i]);
            }
        }
        if (idx < prev) {
            return dva_fail(
                err, DVA_ERR_USAGE,
                "The mailbox status field \"%s\" must come before \"%s\": "
                "Dovecot prints the fields in the order messages recent "
                "uidnext uidvalidity unseen highestmodseq vsize firstsaved, "
                "whatever order they are asked in.",
                fields[i], field_order[prev]);
        }
        prev = idx;
        size_t len = strlen(fields[i]);
        if (i > 0)
            cmd->storage[pos++] = ' ';
        memcpy(cmd->storage + pos, fields[i], len); /* at most 8 * 14 bytes */
        pos += len;
    }
    cmd->storage[pos++] = '\0';

    if (mask == NULL || mask[0] == '\0')
        return dva_fail(err, DVA_ERR_USAGE,
                        "mailbox status needs a non-empty mailbox mask.");
    if (mask[0] == '-') {
        return dva_fail(
            err, DVA_ERR_USAGE,
            "The mailbox mask \"%s\" starts with '-', which the server would "
            "take for an option.",
            dva_quote(q, sizeof(q), mask, strlen(mask)));
    }
    size_t mask_len = strlen(mask);
    if (mask_len >= sizeof(cmd->storage) - pos) {
        memset(cmd, 0, sizeof(*cmd));
        return dva_fail(err, DVA_ERR_USAGE,
                        "The mailbox mask is %zu bytes long; at most %zu fit.",
                        mask_len, sizeof(cmd->storage) - pos - 1);
    }
    char *mask_copy = cmd->storage + pos;
    memcpy(mask_copy, mask, mask_len + 1);

    bool named = rows == DVA_ROWS_NAMED;
    cmd->argv[cmd->argc++] = "mailbox status";
    if (named)
        cmd->argv[cmd->argc++] = "-A";
    cmd->argv[cmd->argc++] = cmd->storage;
    cmd->argv[cmd->argc++] = mask_copy;
    cmd->ncols = (named ? 2 : 1) + nfields;
    return 0;
}

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
