/* SPDX-License-Identifier: MIT */
/* Old statistics: see oldstats.h.
 *
 * Column sets, as the servers print them (the generation table,
 * generation.c, holds what differs: the stats fields and the scopes with
 * num_connected_sessions):
 * - 2.3 (src/old-stats/client-export.c, client_export_iter_*()): global
 *   "reset_timestamp last_update num_logins num_cmds num_connected_sessions";
 *   domain and ip the same after their key; user has no
 *   num_connected_sessions. Then the registered stats fields.
 * - 2.2 (src/stats/client-export.c, MAIL_STATS_HEADER): every keyed scope
 *   "<key> reset_timestamp last_update num_logins num_cmds" and 17 mail
 *   fields. 2.2.0 has no global scope; a later 2.2 that has it is read
 *   with the 2.3 global prefix.
 * Times: last_update is "%ld.%06u", but the stats fields' timevals are
 * "%lu.%u" in 2.3 (lib-stats/stats-parser.c, stats_parser_value()): the
 * microseconds are NOT zero-padded ("0.8516" is 8516 us, seen on 2.3.19).
 * Reading the part after the dot as an integer count of microseconds is
 * right for both forms. */
#include "doveadm/oldstats.h"

#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

static const char *const scope_names[DVA_OLDSTATS_NSCOPES] = {"global", "domain",
                                                              "user", "ip"};

static const char *const time_columns[] = {"last_update", "user_cpu", "sys_cpu",
                                           "clock_time"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *dva_oldstats_scope_name(dva_oldstats_scope scope)
{
    return (unsigned)scope < DVA_OLDSTATS_NSCOPES ? scope_names[scope] : "?";
}

bool dva_oldstats_scope_parse(const char *name, dva_oldstats_scope *out)
{
    for (size_t i = 0; name != NULL && i < DVA_OLDSTATS_NSCOPES; i++) {
        if (strcmp(name, scope_names[i]) == 0) {
            *out = (dva_oldstats_scope)i;
            return true;
        }
    }
    return false;
}

const char *const *dva_oldstats_default_fields(dva_generation gen, size_t *n)
{
    const dva_generation_info *g = dva_generation_info_of(gen);
    *n = g->noldstats_fields;
    return g->oldstats_fields;
}

bool dva_oldstats_column_is_time(const char *name)
{
    for (size_t i = 0; i < N(time_columns); i++)
        if (strcmp(name, time_columns[i]) == 0)
            return true;
    return false;
}

bool dva_oldstats_column_is_counter(const char *name)
{
    static const char *const not_counters[] = {"global",
                                               "domain",
                                               "user",
                                               "ip",
                                               "reset_timestamp",
                                               "last_update",
                                               "num_connected_sessions"};
    for (size_t i = 0; i < N(not_counters); i++)
        if (strcmp(name, not_counters[i]) == 0)
            return false;
    return true;
}

long dva_oldstats_column(const dva_oldstats_layout *layout, const char *name)
{
    for (size_t i = 0; i < layout->ncolumns; i++)
        if (strcmp(layout->columns[i], name) == 0)
            return (long)i;
    return -1;
}

/* The fixed columns before the stats fields. */
static size_t prefix(dva_generation gen, dva_oldstats_scope scope, const char **out)
{
    size_t n = 0;
    if (scope != DVA_OLDSTATS_GLOBAL)
        out[n++] = scope_names[scope];
    out[n++] = "reset_timestamp";
    out[n++] = "last_update";
    out[n++] = "num_logins";
    out[n++] = "num_cmds";
    if (dva_generation_info_of(gen)->oldstats_sessions_scopes & (1u << scope))
        out[n++] = "num_connected_sessions";
    return n;
}

int dva_oldstats_layout_init(dva_oldstats_layout *layout, dva_generation gen,
                             dva_oldstats_scope scope, const char *const *fields,
                             size_t nfields, dva_error *err)
{
    memset(layout, 0, sizeof(*layout));
    if ((unsigned)scope >= DVA_OLDSTATS_NSCOPES)
        return dva_fail(err, DVA_ERR_USAGE, "Unknown old-stats scope %d.", (int)scope);
    if (dva_generation_info_of(gen)->oldstats_command == NULL)
        return dva_fail(err, DVA_ERR_USAGE,
                        "Dovecot %s has no old statistics (old_stats was removed); "
                        "use the 2.3+ statistics (stats dump) instead.",
                        dva_generation_name(gen));
    gen = dva_generation_info_of(gen)->oldstats_as;
    if (fields == NULL)
        fields = dva_oldstats_default_fields(gen, &nfields);
    if (nfields == 0 || nfields > DVA_OLDSTATS_MAX_FIELDS)
        return dva_fail(err, DVA_ERR_USAGE,
                        "%zu old-stats fields given; between 1 and %d are allowed.",
                        nfields, DVA_OLDSTATS_MAX_FIELDS);
    layout->gen = gen;
    layout->scope = scope;
    layout->ncolumns = prefix(gen, scope, layout->columns);
    for (size_t i = 0; i < nfields; i++) {
        const char *f = fields[i];
        size_t len = f != NULL ? strlen(f) : 0;
        if (len == 0 || len >= DVA_OLDSTATS_FIELD_MAX)
            return dva_fail(err, DVA_ERR_USAGE,
                            "Old-stats field %zu is empty or longer than %d bytes.",
                            i + 1, DVA_OLDSTATS_FIELD_MAX - 1);
        if (dva_oldstats_column(layout, f) >= 0)
            return dva_fail(err, DVA_ERR_USAGE,
                            "Old-stats field \"%s\" is given twice or repeats a fixed "
                            "column; list only the fields after num_cmds / "
                            "num_connected_sessions.",
                            f);
        layout->columns[layout->ncolumns++] = f;
    }
    return 0;
}

void dva_oldstats_command(dva_command *cmd, const dva_oldstats_layout *layout)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = dva_generation_info_of(layout->gen)->oldstats_command;
    cmd->argv[1] = dva_oldstats_scope_name(layout->scope);
    cmd->argc = 2;
    cmd->ncols = 0;
}

/* "<digits>" or, for a time column, "<seconds>[.<microseconds>]" -> us. */
static bool parse_cell(const char *v, bool time, uint64_t *out)
{
    if (!time)
        return dva_parse_u64(v, out);
    const char *dot = strchr(v, '.');
    char secs[24];
    size_t slen = dot != NULL ? (size_t)(dot - v) : strlen(v);
    if (slen == 0 || slen >= sizeof(secs))
        return false;
    memcpy(secs, v, slen);
    secs[slen] = '\0';
    uint64_t s, us = 0;
    if (!dva_parse_u64(secs, &s))
        return false;
    if (dot != NULL) {
        size_t ulen = strlen(dot + 1);
        if (ulen == 0 || ulen > 6 || !dva_parse_u64(dot + 1, &us))
            return false;
    }
    if (s > (UINT64_MAX - us) / 1000000)
        return false;
    *out = s * 1000000 + us;
    return true;
}

int dva_oldstats_decode(const dva_reply *reply, const dva_oldstats_layout *layout,
                        dva_oldstats *out, dva_error *err)
{
    char q[DVA_QUOTE_MAX];
    const char *scope = dva_oldstats_scope_name(layout->scope);
    const char *cmd = dva_generation_info_of(layout->gen)->oldstats_command;
    size_t ncols = layout->ncolumns;
    bool keyed = layout->scope != DVA_OLDSTATS_GLOBAL;
    bool nomem;

    memset(out, 0, sizeof(*out));
    if (reply->status != DVA_STATUS_OK)
        return dva_fail(err, DVA_ERR_COMMAND, "%s %s failed: %s%s%s.", cmd, scope,
                        dva_status_name(reply->status),
                        reply->status_text[0] != '\0' ? " " : "", reply->status_text);
    if (ncols == 0 || reply->nvalues % ncols != 0)
        return dva_fail(
            err, DVA_ERR_DECODE,
            "The %s %s reply has %zu values, not a multiple of the %zu columns "
            "expected for Dovecot %s; the server's old-stats fields differ: set "
            "OldStatsColumns to the fields after num_cmds/num_connected_sessions "
            "in the header of `doveadm %s %s` on the server.",
            cmd, scope, reply->nvalues, ncols, dva_generation_name(layout->gen), cmd,
            scope);
    size_t nrows = reply->nvalues / ncols;
    out->rows = dva_calloc_rows(nrows, sizeof(*out->rows), &nomem);
    if (!nomem)
        out->storage = dva_calloc_rows(nrows * ncols, sizeof(uint64_t), &nomem);
    if (nomem) {
        dva_oldstats_free(out);
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu old-stats rows.",
                        nrows);
    }
    for (size_t r = 0; r < nrows; r++) {
        dva_oldstats_row *row = &out->rows[r];
        row->values = out->storage + r * ncols;
        for (size_t c = 0; c < ncols; c++) {
            size_t len;
            const char *v = dva_reply_value(reply, r * ncols + c, &len);
            if (v == NULL || strlen(v) != len || (keyed && c == 0 && len == 0)) {
                dva_fail(err, DVA_ERR_DECODE,
                         "Row %zu of the %s %s reply has an invalid %s column: "
                         "empty or holding a NUL byte.",
                         r + 1, cmd, scope, layout->columns[c]);
                goto fail;
            }
            if (keyed && c == 0) {
                row->key = v;
                continue;
            }
            if (!parse_cell(v, dva_oldstats_column_is_time(layout->columns[c]),
                            &row->values[c])) {
                dva_fail(err, DVA_ERR_DECODE,
                         "Row %zu of the %s %s reply has an invalid %s column: "
                         "expected a number, got \"%s\"; if the columns are "
                         "shifted, set OldStatsColumns to the server's fields.",
                         r + 1, cmd, scope, layout->columns[c],
                         dva_quote(q, sizeof(q), v, len));
                goto fail;
            }
        }
    }
    out->nrows = nrows;
    out->server_rows = nrows;
    return 0;
fail:
    dva_oldstats_free(out);
    return -1;
}

/* qsort has no context argument: sort (value, key, index) triples. */
typedef struct {
    uint64_t value;
    const char *key;
    size_t index;
} rank;

static int cmp_rank(const void *a, const void *b)
{
    const rank *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    const char *kx = x->key != NULL ? x->key : "", *ky = y->key != NULL ? y->key : "";
    int c = strcmp(kx, ky);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

void dva_oldstats_keep_top(dva_oldstats *stats, size_t column, size_t n)
{
    if (n == 0 || stats->nrows <= n)
        return;
    rank *ranks = calloc(stats->nrows, sizeof(*ranks));
    dva_oldstats_row *kept = calloc(n, sizeof(*kept));
    if (ranks == NULL || kept == NULL) {
        /* Out of memory: keep the first n rather than everything. */
        free(ranks);
        free(kept);
        stats->nrows = n;
        return;
    }
    for (size_t i = 0; i < stats->nrows; i++)
        ranks[i] = (rank){stats->rows[i].values[column], stats->rows[i].key, i};
    qsort(ranks, stats->nrows, sizeof(*ranks), cmp_rank);
    for (size_t i = 0; i < n; i++)
        kept[i] = stats->rows[ranks[i].index];
    memcpy(stats->rows, kept, n * sizeof(*kept));
    stats->nrows = n;
    free(ranks);
    free(kept);
}

void dva_oldstats_free(dva_oldstats *stats)
{
    if (stats == NULL)
        return;
    free(stats->rows);
    free(stats->storage);
    memset(stats, 0, sizeof(*stats));
}
