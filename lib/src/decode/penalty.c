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

static int decode_row(const dva_reply *reply, size_t r, void *out, dva_error *err)
{
    dva_penalty_row *row = out;
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
    out->rows = NULL;
    out->nrows = 0;
    out->max_penalty = 0;
    void *rows;
    if (dva_decode_rows(reply, DVA_PENALTY_NCOLS, DVA_HEALTH_MAX_ROWS, WHAT,
                        sizeof(dva_penalty_row), decode_row, &rows, &out->nrows,
                        err) < 0)
        return -1;
    out->rows = rows;
    for (size_t r = 0; r < out->nrows; r++)
        if (out->rows[r].penalty > out->max_penalty)
            out->max_penalty = out->rows[r].penalty;
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
