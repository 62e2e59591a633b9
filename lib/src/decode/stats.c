/* SPDX-License-Identifier: MIT */
/* `stats dump -f count,sum,min,max,avg,median,stddev,%95` (Dovecot 2.3+).
 *
 * What the server prints (stats/client-reader.c, doveadm/doveadm-stats.c):
 * count %u, sum/min/max/median/%95 %PRIu64, avg and stddev "%.02f"; a
 * metric that counted nothing yet has count 0 and 0 / 0.00 everywhere else,
 * and an unknown field is an empty value. */
#include "doveadm/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

#define WHAT "stats dump"

/* An optional number: empty gives NaN. */
static int decode_double(const dva_reply *reply, size_t row, size_t col,
                         const char *column, double *out, dva_error *err)
{
    char q[DVA_QUOTE_MAX];
    const char *v = dva_decode_cstr(reply, row, col, false, WHAT, column, err);

    if (v == NULL)
        return -1;
    if (*v == '\0') {
        *out = NAN;
        return 0;
    }
    if (!dva_parse_double(v, out)) {
        return dva_fail(err, DVA_ERR_DECODE,
                        "Row %zu of the " WHAT
                        " reply has an invalid %s column: expected "
                        "a decimal number, got \"%s\".",
                        row + 1, column, dva_quote(q, sizeof(q), v, strlen(v)));
    }
    return 0;
}

static int decode_row(const dva_reply *reply, size_t r, dva_stats_row *row,
                      dva_error *err)
{
    static const char *const names[] = {"min", "max", "avg", "median", "stddev", "%95"};
    double *dists[] = {&row->min,    &row->max,    &row->avg,
                       &row->median, &row->stddev, &row->p95};

    row->metric = dva_decode_cstr(reply, r, 0, true, WHAT, "metric_name", err);
    if (row->metric == NULL)
        return -1;
    row->field = dva_decode_cstr(reply, r, 1, true, WHAT, "field", err);
    if (row->field == NULL)
        return -1;
    if (dva_decode_u64(reply, r, 2, WHAT, "count", &row->count, err) < 0 ||
        dva_decode_u64(reply, r, 3, WHAT, "sum", &row->sum, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (decode_double(reply, r, 4 + i, names[i], dists[i], err) < 0)
            return -1;
        /* Dovecot prints 0 for every statistic of an empty distribution;
         * a 0 us minimum that never happened is not a value. */
        if (row->count == 0)
            *dists[i] = NAN;
    }
    return 0;
}

int dva_stats_decode(const dva_reply *reply, dva_stats *out, dva_error *err)
{
    bool nomem;

    out->rows = NULL;
    out->nrows = 0;
    if (dva_decode_check_reply(reply, DVA_STATS_NCOLS, WHAT, err) < 0)
        return -1;
    size_t nrows = dva_reply_rows(reply);
    dva_stats_row *rows = dva_calloc_rows(nrows, sizeof(*rows), &nomem);
    if (nomem)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu stats rows.", nrows);
    for (size_t r = 0; r < nrows; r++) {
        if (decode_row(reply, r, &rows[r], err) < 0) {
            free(rows);
            return -1;
        }
    }
    out->rows = rows;
    out->nrows = nrows;
    return 0;
}

void dva_stats_free(dva_stats *stats)
{
    if (stats == NULL)
        return;
    free(stats->rows);
    stats->rows = NULL;
    stats->nrows = 0;
}
