/* SPDX-License-Identifier: MIT */
/* The server-side quota scan (PROTOCOL.md 6.5, scan_file.h): once every
 * user is known, the users' quota is read with one `quota get -F <file>`
 * per mail connection, each on a connection of its own, over user-list
 * files written into the plan's scan_dir. A scan's rows are credited to
 * the users of its file; a user it did not answer for, a user whose name
 * cannot go into the file, and every user of a scan that failed are read
 * one request each (collect_quota.c). */
#include <stdlib.h>
#include <unistd.h>

#include "scan_file.h"
#include "read.h"

/* The users of one scan, in the order of its file. */
typedef struct {
    size_t *users;
    size_t nusers;
    char *path;
} chunk;

bool dva_collect_scan_wanted(const dva_scrape_plan *p)
{
    return p->quota && p->scan_dir != NULL && p->socket_path != NULL;
}

static chunk *chunks(dva_read *r)
{
    return *dva_read_state(r, &dva_collect_quota_scan);
}

static bool enabled(const dva_read *r)
{
    return dva_collect_scan_wanted(dva_read_plan(r));
}

static size_t connections(const dva_read *r)
{
    return enabled(r) ? r->mail_connections : 0;
}

static void scan_failed(dva_read *r, const dva_error *err)
{
    dva_scrape_result *res = dva_read_result(r);
    if (res->scan_step.error.code == DVA_OK)
        dva_step_fail(&res->scan_step, err);
}

static void read_alone(dva_read *r, size_t user)
{
    dva_read_mail(r, &dva_collect_quota, user, 0);
}

/* Reads one by one the users of chunk c that have no quota yet. */
static void fallback_chunk(dva_read *r, size_t c)
{
    const chunk *ch = &chunks(r)[c];
    dva_error err;
    bool late = !dva_read_in_time(r);
    if (late)
        dva_fail(&err, DVA_ERR_TIMEOUT, "the read's time was over");
    for (size_t i = 0; i < ch->nusers; i++) {
        dva_user_step *step = &dva_read_result(r)->users[ch->users[i]].quota_step;
        if (step->attempted)
            continue;
        if (late)
            dva_user_step_fail(step, &err);
        else
            read_alone(r, ch->users[i]);
    }
}

/* Out of memory for the scans: the users are read alone. */
static void no_memory(dva_read *r)
{
    dva_error err;
    dva_fail(&err, DVA_ERR_NOMEM, "out of memory for the quota scan");
    scan_failed(r, &err);
}

/* Writes chunk c's file and sends its scan, or reads its users alone. */
static void start_chunk(dva_read *r, size_t c)
{
    dva_scrape_result *res = dva_read_result(r);
    chunk *ch = &chunks(r)[c];
    dva_error err;
    const char **names = malloc(ch->nusers * sizeof(char *));
    int rc = -1;
    if (names == NULL) {
        dva_fail(&err, DVA_ERR_NOMEM, "out of memory for the quota scan");
    } else {
        for (size_t i = 0; i < ch->nusers; i++)
            names[i] = res->users[ch->users[i]].name;
        rc = dva_scan_write_file(dva_read_plan(r)->scan_dir, names, ch->nusers,
                                 &ch->path, &err);
        free(names);
    }
    if (rc < 0) {
        scan_failed(r, &err);
        fallback_chunk(r, c);
        return;
    }
    dva_read_solo(r, &dva_collect_quota_scan, c);
}

/* Splits the users into one scan per mail connection; users whose name
 * cannot go into the file are read one by one. */
static void start(dva_read *r, size_t user)
{
    (void)user;
    dva_scrape_result *res = dva_read_result(r);
    size_t *eligible = malloc((res->nusers ? res->nusers : 1) * sizeof(size_t));
    if (eligible == NULL) {
        no_memory(r);
        for (size_t u = 0; u < res->nusers; u++)
            if (!res->users[u].quota_step.attempted)
                read_alone(r, u);
        return;
    }
    size_t n = 0;
    for (size_t u = 0; u < res->nusers; u++) {
        if (res->users[u].quota_step.attempted)
            continue; /* read already (2.4's all-user `quota get -A`) */
        if (dva_scan_name_ok(res->users[u].name))
            eligible[n++] = u;
        else
            read_alone(r, u);
    }
    size_t k = n < r->mail_connections ? n : r->mail_connections;
    if (k == 0) {
        free(eligible);
        return;
    }
    chunk *chs = calloc(k, sizeof(chunk));
    res->scan_replies = calloc(k, sizeof(dva_reply));
    res->scan_quota = calloc(k, sizeof(dva_quota));
    if (chs == NULL || res->scan_replies == NULL || res->scan_quota == NULL) {
        free(chs);
        free(res->scan_replies);
        free(res->scan_quota);
        res->scan_replies = NULL;
        res->scan_quota = NULL;
        no_memory(r);
        for (size_t i = 0; i < n; i++)
            read_alone(r, eligible[i]);
        free(eligible);
        return;
    }
    *dva_read_state(r, &dva_collect_quota_scan) = chs;
    res->nscans = k;
    /* Each chunk owns a slice of eligible: chunk 0 keeps the array. */
    for (size_t c = 0; c < k; c++) {
        chs[c].users = eligible + c * n / k;
        chs[c].nusers = (c + 1) * n / k - c * n / k;
    }
    for (size_t c = 0; c < k; c++)
        start_chunk(r, c);
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)username;
    if (dva_scan_command(cmd, chunks(r)[j->arg].path) < 0)
        return dva_fail(err, DVA_ERR_USAGE, "the quota scan file path is too long");
    return 0;
}

/* Credits the decoded rows of scan c to its users; -1 with err when the
 * rows do not fit the file. */
static int credit(dva_read *r, size_t c, dva_error *err)
{
    dva_scrape_result *res = dva_read_result(r);
    const chunk *ch = &chunks(r)[c];
    dva_scan_range *ranges = malloc((ch->nusers ? ch->nusers : 1) * sizeof(*ranges));
    const char **names = malloc((ch->nusers ? ch->nusers : 1) * sizeof(*names));
    int rc = -1;
    if (ranges == NULL || names == NULL) {
        dva_fail(err, DVA_ERR_NOMEM, "out of memory for the quota scan");
        goto out;
    }
    for (size_t i = 0; i < ch->nusers; i++)
        names[i] = res->users[ch->users[i]].name;
    if (dva_scan_assign(&res->scan_quota[c], names, ch->nusers, ranges, err) < 0)
        goto out;
    for (size_t i = 0; i < ch->nusers; i++) {
        dva_scrape_user *u = &res->users[ch->users[i]];
        if (ranges[i].count == 0 || u->quota_step.attempted)
            continue;
        dva_quota q = {.rows = res->scan_quota[c].rows + ranges[i].first,
                       .nrows = ranges[i].count};
        bool failed = false;
        for (size_t k = 0; k < q.nrows; k++)
            failed = failed || q.rows[k].error;
        if (failed) {
            /* As its own `quota get` would have: "error" rows, TEMPFAIL. */
            dva_error why;
            dva_fail(&why, DVA_ERR_COMMAND,
                     "'quota get' for %s failed in the quota scan: TEMPFAIL", u->name);
            dva_user_step_fail(&u->quota_step, &why);
            continue;
        }
        u->quota = q;
        u->quota_shared = true;
        u->quota_step.attempted = true;
    }
    rc = 0;
out:
    free(ranges);
    free(names);
    return rc;
}

/* A scan's reply (success or a failure status), or its connection lost
 * while the read has time: whoever it did not answer for is read alone. */
static void answer(dva_read *r, const dva_job *j, const char *where)
{
    (void)where;
    dva_scrape_result *res = dva_read_result(r);
    size_t c = j->arg;
    dva_errcode code = dva_read_outcome(r)->error.code;
    if (code != DVA_OK && code != DVA_ERR_COMMAND) {
        scan_failed(r, &dva_read_outcome(r)->error);
        fallback_chunk(r, c);
        return;
    }
    dva_error err;
    dva_read_take_reply(r, &res->scan_replies[c]);
    res->scan_step.attempted = true;
    if (dva_quota_decode(&res->scan_replies[c], NULL, &res->scan_quota[c], &err) < 0 ||
        credit(r, c, &err) < 0) {
        dva_quota_free(&res->scan_quota[c]);
        scan_failed(r, &err);
    }
    fallback_chunk(r, c);
}

static void fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    const chunk *ch = &chunks(r)[j->arg];
    for (size_t i = 0; i < ch->nusers; i++)
        dva_user_step_fail(&dva_read_result(r)->users[ch->users[i]].quota_step, err);
}

/* The files are removed before the read returns. */
static void finish(dva_read *r)
{
    chunk *chs = chunks(r);
    if (chs == NULL)
        return;
    for (size_t c = 0; c < dva_read_result(r)->nscans; c++) {
        if (chs[c].path != NULL)
            unlink(chs[c].path);
        free(chs[c].path);
    }
    free(chs[0].users); /* the one array all chunks slice */
    free(chs);
}

const dva_collector dva_collect_quota_scan = {
    .name = "quota get -F",
    .when = DVA_COLLECT_ALL_USERS,
    .answers = DVA_ANSWER_IN_TIME,
    .enabled = enabled,
    .connections = connections,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = fail,
    .finish = finish,
};
