/* `who` and `who -1` (doveadm/doveadm-who.c) and the per-service summary.
 *
 * `who` rows: user, connection count, service, "(pid pid ...)", "(ip ...)".
 * `who -1` rows (2.3): user, service, pid, ip. The checks on the pid and
 * parenthesis columns catch a reply whose rows were cut at the wrong width
 * (for instance the extra columns of 2.4's `who -1`). */
#include "doveadm/who.h"

#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

void dva_who_command(dva_command *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = "who";
    cmd->argc = 1;
    cmd->ncols = DVA_WHO_NCOLS;
}

void dva_who_sessions_command(dva_command *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = "who";
    cmd->argv[1] = "-1";
    cmd->argc = 2;
    cmd->ncols = DVA_WHO_SESSIONS_NCOLS;
}

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
