/* SPDX-License-Identifier: MIT */
/* The request of `mailbox status [-A] <fields> <mask>`
 * (doveadm/doveadm-mail-mailbox-status.c); its rows are decoded by
 * decode/mailbox.c.
 *
 * Dovecot prints the status fields in its own fixed order, whatever order
 * they were asked in, and merges repeats (checked on 2.3.19.1: asking for
 * "firstsaved vsize messages" gives the columns messages, vsize,
 * firstsaved). The builder therefore accepts the fields only in that order,
 * so the decoded values are in the requested order by construction. The
 * fields are always named, never `all`, whose columns grow between
 * releases (2.4.2 adds `deleted`). */
#include "doveadm/commands.h"

#include <string.h>

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
