/* SPDX-License-Identifier: MIT */
/* The server-side quota scan (PROTOCOL.md 6.5, scan_file.h): once every
 * user is known, the users' quota is read with one `quota get -F <file>`
 * per mail connection, each on a connection of its own, over user-list
 * files written into the plan's scan_dir. A scan's rows are credited to
 * the users of its file; a user it did not answer for, a user whose name
 * cannot go into the file, and every user of a scan that failed are read
 * one request each (collect_quota.c).
 *
 * When the plan takes users as they come (on_user_quota), a scan's reply
 * is streamed: each part of its rows is decoded and credited as it
 * arrives, and only the rows of the part's last user (which may go on in
 * the next part) are kept, so the reply is never held whole. Either way
 * the rows are credited in the file's order up to the first row that
 * breaks it; the scan is refused there and the users after it are read
 * one by one. */
#include <stdlib.h>
#include <unistd.h>

#include "decode_util.h"
#include "scan_file.h"
#include "read.h"

/* The users of one scan, in the order of its file. */
typedef struct {
    size_t *users;
    const char **names; /* theirs, in the same order */
    size_t nusers;
    char *path;
    dva_scan_cursor cursor; /* where the rows credited so far are */
    bool refused;           /* a row broke the order: nothing more credited */
    dva_quota_row *rows;    /* a streamed part, decoded (reused) */
    size_t rows_cap;
    size_t rows_done; /* rows of the reply credited and forgotten */
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
    /* Kept for crediting: the names of the users do not move. */
    ch->names = malloc((ch->nusers ? ch->nusers : 1) * sizeof(char *));
    int rc = -1;
    if (ch->names == NULL) {
        dva_fail(&err, DVA_ERR_NOMEM, "out of memory for the quota scan");
    } else {
        for (size_t i = 0; i < ch->nusers; i++)
            ch->names[i] = res->users[ch->users[i]].name;
        rc = dva_scan_write_file(dva_read_plan(r)->scan_dir, ch->names, ch->nusers,
                                 &ch->path, &err);
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

/* Gives the user at index k of scan c's file its n rows (all of them:
 * the caller saw the next user's row, or the reply's end). */
static void credit_user(dva_read *r, chunk *ch, size_t k, const dva_quota_row *rows,
                        size_t n)
{
    size_t user = ch->users[k];
    dva_scrape_user *u = &dva_read_result(r)->users[user];
    if (u->quota_step.attempted)
        return;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].error) {
            /* As its own `quota get` would have: "error" rows, TEMPFAIL. */
            dva_error why;
            dva_fail(&why, DVA_ERR_COMMAND,
                     "'quota get' for %s failed in the quota scan: TEMPFAIL", u->name);
            dva_user_step_fail(&u->quota_step, &why);
            return;
        }
    }
    u->quota = (dva_quota){.rows = (dva_quota_row *)rows, .nrows = n};
    u->quota_shared = true;
    u->quota_step.attempted = true;
    dva_read_deliver_quota(r, user);
}

/* Credits n decoded rows of scan c, which end with a user's last row, in
 * the file's order; at the first row out of it the scan is refused. */
static void credit(dva_read *r, chunk *ch, const dva_quota_row *rows, size_t n,
                   size_t row_base)
{
    size_t first = 0;
    long k = -1;
    for (size_t i = 0; i <= n && !ch->refused; i++) {
        dva_error err;
        long next = i < n ? dva_scan_next(&ch->cursor, rows[i].user, ch->names,
                                          ch->nusers, row_base + i + 1, &err)
                          : -1;
        if (i < n && next < 0) {
            ch->refused = true;
            scan_failed(r, &err);
        }
        if (i == n || next != k) {
            if (k >= 0)
                credit_user(r, ch, (size_t)k, rows + first, i - first);
            first = i;
            k = next;
        }
    }
}

/* Refuses the rest of scan c: nothing more of it is credited. */
static void refuse(dva_read *r, chunk *ch, const dva_error *err)
{
    ch->refused = true;
    scan_failed(r, err);
}

/* A part of a streamed scan: every user but the last is complete. */
static size_t rows(dva_read *r, const dva_job *j, const dva_reply *reply)
{
    chunk *ch = &chunks(r)[j->arg];
    size_t n = dva_reply_rows(reply);
    if (ch->refused)
        return n;
    dva_error err;
    if (n > ch->rows_cap) {
        size_t cap = ch->rows_cap * 2 > n ? ch->rows_cap * 2 : n;
        dva_quota_row *grown = realloc(ch->rows, cap * sizeof(*grown));
        if (grown == NULL) {
            dva_fail(&err, DVA_ERR_NOMEM, "out of memory for the quota scan");
            refuse(r, ch, &err);
            return n;
        }
        ch->rows = grown;
        ch->rows_cap = cap;
    }
    if (dva_quota_decode_rows(reply, 0, n, ch->rows, &err) < 0) {
        refuse(r, ch, &err);
        return n;
    }
    size_t complete = n; /* the last user's rows may go on */
    while (complete > 0 &&
           dva_user_equal(ch->rows[complete - 1].user, ch->rows[n - 1].user))
        complete--;
    credit(r, ch, ch->rows, complete, ch->rows_done);
    ch->rows_done += complete;
    return complete;
}

/* A scan's reply (success or a failure status), or its connection lost
 * while the read has time: whoever it did not answer for is read alone. */
static void answer(dva_read *r, const dva_job *j, const char *where)
{
    (void)where;
    dva_scrape_result *res = dva_read_result(r);
    size_t c = j->arg;
    chunk *ch = &chunks(r)[c];
    dva_errcode code = dva_read_outcome(r)->error.code;
    if (code != DVA_OK && code != DVA_ERR_COMMAND) {
        scan_failed(r, &dva_read_outcome(r)->error);
        fallback_chunk(r, c);
        return;
    }
    dva_error err;
    dva_read_take_reply(r, &res->scan_replies[c]);
    res->scan_step.attempted = true;
    if (dva_quota_decode(&res->scan_replies[c], NULL, &res->scan_quota[c], &err) < 0)
        refuse(r, ch, &err);
    else if (!ch->refused)
        credit(r, ch, res->scan_quota[c].rows, res->scan_quota[c].nrows, ch->rows_done);
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
        free(chs[c].names);
        free(chs[c].rows);
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
    .rows = rows,
    .answer = answer,
    .fail = fail,
    .finish = finish,
};
