/* SPDX-License-Identifier: MIT */
/* `indexer list` (2.4; doveadm/doveadm-indexer.c in Dovecot's source,
 * PROTOCOL.md section 7): 6 columns per request the indexer holds,
 * username, mailbox, session_id, max_recent, type, status. Empty when
 * nothing is queued (`\n+\n`, seen on 2.4.1); 2.3.19 does not know the
 * command (a bare `-`). Only max_recent is a number; session_id may be
 * empty (a request queued without one). */
#include "doveadm/health.h"

#include <stdlib.h>

#include "decode_util.h"

#define WHAT "indexer list"

static int decode_row(const dva_reply *reply, size_t r, void *out, dva_error *err)
{
    dva_indexer_row *row = out;
    row->username = dva_decode_cstr(reply, r, 0, true, WHAT, "username", err);
    if (row->username == NULL)
        return -1;
    row->mailbox = dva_decode_cstr(reply, r, 1, false, WHAT, "mailbox", err);
    if (row->mailbox == NULL)
        return -1;
    row->session_id = dva_decode_cstr(reply, r, 2, false, WHAT, "session_id", err);
    if (row->session_id == NULL)
        return -1;
    if (dva_decode_u64(reply, r, 3, WHAT, "max_recent", &row->max_recent, err) < 0)
        return -1;
    row->type = dva_decode_cstr(reply, r, 4, false, WHAT, "type", err);
    if (row->type == NULL)
        return -1;
    row->status = dva_decode_cstr(reply, r, 5, false, WHAT, "status", err);
    return row->status == NULL ? -1 : 0;
}

int dva_indexer_decode(const dva_reply *reply, dva_indexer *out, dva_error *err)
{
    out->rows = NULL;
    out->nrows = 0;
    void *rows;
    if (dva_decode_rows(reply, DVA_INDEXER_NCOLS, DVA_HEALTH_MAX_ROWS, WHAT,
                        sizeof(dva_indexer_row), decode_row, &rows, &out->nrows,
                        err) < 0)
        return -1;
    out->rows = rows;
    return 0;
}

void dva_indexer_free(dva_indexer *x)
{
    if (x == NULL)
        return;
    free(x->rows);
    x->rows = NULL;
    x->nrows = 0;
}
