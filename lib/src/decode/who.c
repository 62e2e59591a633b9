/* SPDX-License-Identifier: MIT */
/* `who` and `who -1` (doveadm/doveadm-who.c) and the per-service summary.
 *
 * `who` rows: user, connection count, service, "(pid pid ...)", "(ip ...)".
 * `who -1` rows (2.3): user, service, pid, ip; 2.4 adds columns (below).
 * The checks on the pid and parenthesis columns catch a reply whose rows
 * were cut at the wrong width. The requests: protocol/commands.c. */
#include "doveadm/who.h"

#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

/* "(...)": what who prints around its pid and ip lists. */
static const char *decode_list(const dva_reply *reply, size_t r, size_t col,
                               const char *column, dva_error *err)
{
    char q[DVA_QUOTE_MAX];
    const char *v = dva_decode_cstr(reply, r, col, true, "who", column, err);

    if (v == NULL)
        return NULL;
    size_t len = strlen(v);
    if (len < 2 || v[0] != '(' || v[len - 1] != ')') {
        dva_fail(
            err, DVA_ERR_DECODE,
            "Row %zu of the who reply has an invalid %s column: expected a list in "
            "parentheses, got \"%s\".",
            r + 1, column, dva_quote(q, sizeof(q), v, len));
        return NULL;
    }
    return v;
}

int dva_who_decode(const dva_reply *reply, dva_who *out, dva_error *err)
{
    bool nomem;

    out->rows = NULL;
    out->nrows = 0;
    if (dva_decode_check_reply(reply, DVA_WHO_NCOLS, "who", err) < 0)
        return -1;
    size_t nrows = dva_reply_rows(reply);
    dva_who_row *rows = dva_calloc_rows(nrows, sizeof(*rows), &nomem);
    if (nomem)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu who rows.", nrows);
    for (size_t r = 0; r < nrows; r++) {
        dva_who_row *row = &rows[r];
        row->user = dva_decode_cstr(reply, r, 0, true, "who", "username", err);
        if (row->user == NULL || dva_decode_u64(reply, r, 1, "who", "connections",
                                                &row->connections, err) < 0)
            goto fail;
        row->service = dva_decode_cstr(reply, r, 2, true, "who", "service", err);
        if (row->service == NULL)
            goto fail;
        row->pids = decode_list(reply, r, 3, "pids", err);
        if (row->pids == NULL)
            goto fail;
        row->ips = decode_list(reply, r, 4, "ips", err);
        if (row->ips == NULL)
            goto fail;
    }
    out->rows = rows;
    out->nrows = nrows;
    return 0;
fail:
    free(rows);
    return -1;
}

int dva_who_sessions_decode(const dva_reply *reply, dva_who_sessions *out,
                            dva_error *err)
{
    const char *what = "who -1";
    char q[DVA_QUOTE_MAX];
    uint64_t pid;
    bool nomem;

    out->rows = NULL;
    out->nrows = 0;
    if (dva_decode_check_reply(reply, DVA_WHO_SESSIONS_NCOLS, what, err) < 0)
        return -1;
    size_t nrows = dva_reply_rows(reply);
    dva_who_session *rows = dva_calloc_rows(nrows, sizeof(*rows), &nomem);
    if (nomem)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu who -1 rows.",
                        nrows);
    for (size_t r = 0; r < nrows; r++) {
        dva_who_session *row = &rows[r];
        row->user = dva_decode_cstr(reply, r, 0, true, what, "username", err);
        if (row->user == NULL)
            goto fail;
        row->service = dva_decode_cstr(reply, r, 1, true, what, "service", err);
        if (row->service == NULL)
            goto fail;
        row->pid = dva_decode_cstr(reply, r, 2, true, what, "pid", err);
        if (row->pid == NULL)
            goto fail;
        if (!dva_parse_u64(row->pid, &pid) || pid == 0) {
            dva_fail(
                err, DVA_ERR_DECODE,
                "Row %zu of the who -1 reply has an invalid pid column: expected a "
                "process id, got \"%s\".",
                r + 1, dva_quote(q, sizeof(q), row->pid, strlen(row->pid)));
            goto fail;
        }
        /* net_ip2addr() prints "" for a connection without an address. */
        row->ip = dva_decode_cstr(reply, r, 3, false, what, "ip", err);
        if (row->ip == NULL)
            goto fail;
    }
    out->rows = rows;
    out->nrows = nrows;
    return 0;
fail:
    free(rows);
    return -1;
}

/* `who -1` where more columns may follow (2.4, src/doveadm/doveadm-who.c,
 * cmd_who() with -1): headers username, service, pid, ip, dest_ip, then
 * one per alternative username field of the anvil iterator
 * (iter->alt_username_fields), a count the client cannot know. The rows
 * are therefore cut here: of the widths from the generation table's
 * fixed columns to DVA_WHO_MAX_ALT_FIELDS more, the smallest whose every
 * row has a non-empty user and service and a numeric pid in place. Rows
 * of a wrong width put a user name or an ip where the pid belongs. */
#define SESSIONS "who -1"

static const char *cell(const dva_reply *reply, size_t index)
{
    size_t len;
    const char *v = dva_reply_value(reply, index, &len);
    return v != NULL && strlen(v) == len ? v : NULL;
}

static bool width_fits(const dva_reply *reply, size_t width)
{
    if (reply->nvalues % width != 0)
        return false;
    for (size_t r = 0; r < reply->nvalues / width; r++) {
        const char *user = cell(reply, r * width);
        const char *service = cell(reply, r * width + 1);
        const char *pid = cell(reply, r * width + 2);
        uint64_t n;
        if (user == NULL || *user == '\0' || service == NULL || *service == '\0' ||
            pid == NULL || !dva_parse_u64(pid, &n) || n == 0)
            return false;
    }
    return true;
}

int dva_who_sessions_decode_gen(const dva_reply *reply, dva_generation gen,
                                dva_who_sessions *out, dva_error *err)
{
    const dva_generation_info *g = dva_generation_info_of(gen);
    bool nomem;

    if (!g->who_sessions_alt_fields)
        return dva_who_sessions_decode(reply, out, err);
    out->rows = NULL;
    out->nrows = 0;
    if (reply->status != DVA_STATUS_OK)
        return dva_fail(err, DVA_ERR_COMMAND, SESSIONS " failed: %s",
                        dva_status_name(reply->status));
    if (reply->nvalues == 0)
        return 0;
    /* The smallest width that fits: k rows of width w also fit one row of
     * width k * w, but the converse needs an all-digit alternative
     * username exactly where a pid would be. */
    size_t fixed = g->who_sessions_ncols, width = 0;
    for (size_t w = fixed; width == 0 && w <= fixed + DVA_WHO_MAX_ALT_FIELDS; w++)
        if (width_fits(reply, w))
            width = w;
    if (width == 0)
        return dva_fail(err, DVA_ERR_DECODE,
                        "The " SESSIONS " reply (%zu values) fits no Dovecot %s row "
                        "width from %zu to %zu columns.",
                        reply->nvalues, g->name, fixed, fixed + DVA_WHO_MAX_ALT_FIELDS);
    size_t nrows = reply->nvalues / width;
    dva_who_session *rows = dva_calloc_rows(nrows, sizeof(*rows), &nomem);
    if (nomem)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu " SESSIONS " rows.",
                        nrows);
    for (size_t r = 0; r < nrows; r++) {
        dva_who_session *row = &rows[r];
        const char *v[DVA_WHO_SESSIONS_24_NCOLS + DVA_WHO_MAX_ALT_FIELDS];
        for (size_t c = 0; c < width; c++) {
            v[c] = cell(reply, r * width + c);
            if (v[c] == NULL) {
                free(rows);
                return dva_fail(err, DVA_ERR_DECODE,
                                "Row %zu of the " SESSIONS " reply has a NUL byte in "
                                "column %zu.",
                                r + 1, c + 1);
            }
        }
        row->user = v[0];
        row->service = v[1];
        row->pid = v[2];
        row->ip = v[3];
        row->dest_ip = v[4];
        row->nalt = width - fixed;
        for (size_t a = 0; a < row->nalt; a++)
            row->alt[a] = v[fixed + a];
    }
    out->rows = rows;
    out->nrows = nrows;
    return 0;
}

/* Sorting for the summary: by service then user, and by user alone. */
static int cmp_service_user(const void *a, const void *b)
{
    const dva_who_row *x = *(const dva_who_row *const *)a;
    const dva_who_row *y = *(const dva_who_row *const *)b;
    int c = strcmp(x->service, y->service);
    return c != 0 ? c : strcmp(x->user, y->user);
}

static int cmp_user(const void *a, const void *b)
{
    const dva_who_row *x = *(const dva_who_row *const *)a;
    const dva_who_row *y = *(const dva_who_row *const *)b;
    return strcmp(x->user, y->user);
}

int dva_who_summarize(const dva_who *who, dva_who_summary *out, dva_error *err)
{
    const dva_who_row **order = NULL;
    dva_who_service *services = NULL;
    size_t nservices = 0;

    memset(out, 0, sizeof(*out));
    if (who == NULL || (who->nrows > 0 && who->rows == NULL))
        return dva_fail(err, DVA_ERR_USAGE, "No who rows were given to summarize.");
    size_t n = who->nrows;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (who->rows[i].user == NULL || who->rows[i].service == NULL)
            return dva_fail(err, DVA_ERR_USAGE, "Who row %zu has no user or service.",
                            i + 1);
    }
    /* n > 0 here, and calloc guards n * size against overflow. */
    order = calloc(n, sizeof(*order));
    services = calloc(n, sizeof(*services));
    if (order == NULL || services == NULL) {
        free(order);
        free(services);
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory summarizing %zu who rows.",
                        n);
    }
    for (size_t i = 0; i < n; i++)
        order[i] = &who->rows[i];

    /* Per service: distinct users (exact string) and summed connections. */
    qsort(order, n, sizeof(*order), cmp_service_user);
    uint64_t total_sessions = 0;
    for (size_t i = 0; i < n; i++) {
        const dva_who_row *row = order[i];
        dva_who_service *svc = nservices > 0 ? &services[nservices - 1] : NULL;
        if (svc == NULL || strcmp(svc->service, row->service) != 0) {
            svc = &services[nservices++];
            svc->service = row->service;
        }
        if (i == 0 || strcmp(order[i - 1]->service, row->service) != 0 ||
            strcmp(order[i - 1]->user, row->user) != 0)
            svc->users++;
        if (svc->sessions > UINT64_MAX - row->connections ||
            total_sessions > UINT64_MAX - row->connections) {
            free(order);
            free(services);
            return dva_fail(err, DVA_ERR_DECODE,
                            "The who reply's connection counts overflow a 64-bit sum.");
        }
        svc->sessions += row->connections;
        total_sessions += row->connections;
    }

    /* Distinct users over all services. */
    qsort(order, n, sizeof(*order), cmp_user);
    uint64_t total_users = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(order[i - 1]->user, order[i]->user) != 0)
            total_users++;
    }
    free(order);

    out->services = services;
    out->nservices = nservices;
    out->users = total_users;
    out->sessions = total_sessions;
    return 0;
}

void dva_who_free(dva_who *who)
{
    if (who == NULL)
        return;
    free(who->rows);
    who->rows = NULL;
    who->nrows = 0;
}

void dva_who_sessions_free(dva_who_sessions *sessions)
{
    if (sessions == NULL)
        return;
    free(sessions->rows);
    sessions->rows = NULL;
    sessions->nrows = 0;
}

void dva_who_summary_free(dva_who_summary *summary)
{
    if (summary == NULL)
        return;
    free(summary->services);
    memset(summary, 0, sizeof(*summary));
}
