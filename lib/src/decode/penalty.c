/* SPDX-License-Identifier: MIT */
/* `penalty` (doveadm/doveadm-penalty.c in Dovecot's source, PROTOCOL.md
 * section 7): 4 columns per IP anvil holds a penalty for: IP, penalty,
 * last_penalty ("YYYY-MM-DD HH:MM:SS"), last_update ("HH:MM:SS"); seen
 * alike on 2.3.19 and 2.4.1 after failed IMAP logins. Empty: `\n+\n`. The
 * two times are kept as text; only the count is a value. */
#include "doveadm/health.h"

#include <stdlib.h>

#include "decode_util.h"

#define WHAT "penalty"

static int decode_row(const dva_reply *reply, size_t r, dva_penalty_row *row,
                      dva_error *err)
{
    row->ip = dva_decode_cstr(reply, r, 0, true, WHAT, "IP", err);
    if (row->ip == NULL ||
        dva_decode_u64(reply, r, 1, WHAT, "penalty", &row->penalty, err) < 0)
        return -1;
    row->last_penalty = dva_decode_cstr(reply, r, 2, false, WHAT, "last_penalty", err);
    if (row->last_penalty == NULL)
        return -1;
    row->last_update = dva_decode_cstr(reply, r, 3, false, WHAT, "last_update", err);
    return row->last_update == NULL ? -1 : 0;
}

int dva_penalties_decode(const dva_reply *reply, dva_penalties *out, dva_error *err)
{
    bool nomem;

    out->rows = NULL;
    out->nrows = 0;
    out->max_penalty = 0;
    if (dva_decode_check_reply(reply, DVA_PENALTY_NCOLS, WHAT, err) < 0)
        return -1;
    size_t nrows = dva_reply_rows(reply);
    if (nrows > DVA_HEALTH_MAX_ROWS)
        return dva_fail(err, DVA_ERR_LIMIT,
                        "The " WHAT " reply has %zu rows, more than the %d accepted.",
                        nrows, DVA_HEALTH_MAX_ROWS);
    dva_penalty_row *rows = dva_calloc_rows(nrows, sizeof(*rows), &nomem);
    if (nomem)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu " WHAT " rows.",
                        nrows);
    uint64_t max = 0;
    for (size_t r = 0; r < nrows; r++) {
        if (decode_row(reply, r, &rows[r], err) < 0) {
            free(rows);
            return -1;
        }
        if (rows[r].penalty > max)
            max = rows[r].penalty;
    }
    out->rows = rows;
    out->nrows = nrows;
    out->max_penalty = max;
    return 0;
}

void dva_penalties_free(dva_penalties *p)
{
    if (p == NULL)
        return;
    free(p->rows);
    p->rows = NULL;
    p->nrows = 0;
    p->max_penalty = 0;
}
