/* SPDX-License-Identifier: MIT */
/* 2.4's all-user `quota get -A` without a username (PROTOCOL.md 6.3, 9):
 * the server iterates its users and names each one in its rows. Sent by
 * the user lists (collect_users.c) for the mask "*". Users known already
 * (configured ones, which have their own request) are skipped; the others
 * are added with their rows. A server that does not iterate users for it
 * (2.3 answers NOUSER) is read as 2.3 is, in this same read: `user *`,
 * then one request per user; quota_all_step says why.
 *
 * When the plan takes users as they come (on_user_quota) and no MaxUsers
 * bound needs the whole list first, the reply is streamed: each part's
 * users are added and their rows handed over as the part arrives, all but
 * the part's last user (whose rows may go on in the next part). A reply
 * that fails after some rows keeps the users credited so far; the others
 * are listed with `user MASK` as above. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)r, (void)j, (void)username, (void)err;
    /* Server-wide: no username, the server iterates every user. */
    dva_quota_command(cmd, DVA_ROWS_NAMED);
    return 0;
}

/* What a streamed reply needs between its parts. */
typedef struct {
    dva_quota_row *rows; /* a part, decoded (reused) */
    size_t cap;
    size_t listed; /* users the parts so far named */
} stream_state;

static stream_state *state_of(dva_read *r)
{
    void **slot = dva_read_state(r, &dva_collect_quota_all);
    if (slot != NULL && *slot == NULL)
        *slot = calloc(1, sizeof(stream_state));
    return slot != NULL ? *slot : NULL;
}

/* Gives user u its rows (a run of the reply's rows): a copy kept in the
 * result, or, for a plan that takes them as they come, the rows
 * themselves for the time of the hand-over. */
static void credit(dva_read *r, size_t u, const dva_quota_row *rows, size_t n)
{
    dva_scrape_user *user = &dva_read_result(r)->users[u];
    user->quota_step.attempted = true;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].error) {
            /* As its own `quota get` would have: "error" rows, TEMPFAIL
             * (a streamed reply's rows are used before its status). */
            dva_error why;
            dva_fail(&why, DVA_ERR_COMMAND,
                     "'quota get' for %s failed in the all-user 'quota get -A': "
                     "TEMPFAIL",
                     user->name);
            dva_user_step_fail(&user->quota_step, &why);
            return;
        }
    }
    if (dva_read_plan(r)->on_user_quota != NULL) {
        user->quota = (dva_quota){.rows = (dva_quota_row *)rows, .nrows = n};
        user->quota_shared = true;
        dva_read_deliver_quota(r, u);
        return;
    }
    user->quota.rows = calloc(n, sizeof(dva_quota_row));
    if (user->quota.rows == NULL) {
        dva_error err;
        dva_fail(&err, DVA_ERR_NOMEM, "out of memory");
        dva_user_step_fail(&user->quota_step, &err);
        return;
    }
    memcpy(user->quota.rows, rows, n * sizeof(dva_quota_row));
    user->quota.nrows = n;
}

/* The end of the run of rows of the user of row i. */
static size_t run_end(const dva_quota_row *rows, size_t n, size_t i)
{
    size_t end = i + 1;
    while (end < n && strcmp(rows[end].user, rows[i].user) == 0)
        end++;
    return end;
}

/* The users of the reply, one name per run, against max_users. */
static void bound(dva_read *r, const dva_quota *all)
{
    size_t n = 0;
    for (size_t i = 0; i < all->nrows; i = run_end(all->rows, all->nrows, i))
        n++;
    const char **names = malloc((n > 0 ? n : 1) * sizeof(*names));
    if (names == NULL)
        return; /* the bound in dva_read_new_user() holds still */
    n = 0;
    for (size_t i = 0; i < all->nrows; i = run_end(all->rows, all->nrows, i))
        names[n++] = all->rows[i].user;
    dva_read_bound_users(r, names, n);
    free(names);
}

/* The server prints each user's rows together: one run per user. A run
 * of a user known already (configured, or a second run of one seen in
 * this reply) is skipped. The new users' other per-user requests follow
 * (their quota is read already). O(rows). Returns the runs. */
static size_t add_users(dva_read *r, const dva_quota_row *rows, size_t n)
{
    dva_scrape_result *res = dva_read_result(r);
    size_t runs = 0;
    for (size_t i = 0, end; i < n; i = end) {
        end = run_end(rows, n, i);
        runs++;
        if (dva_read_knows_user(r, rows[i].user))
            continue;
        long u = dva_read_new_user(r, rows[i].user);
        if (u < 0)
            continue;
        credit(r, (size_t)u, rows + i, end - i);
        dva_read_announce_user(r, (size_t)u);
    }
    res->users_step.attempted = res->users_step.attempted || runs > 0;
    return runs;
}

/* A part of a streamed reply: every user but the last is complete. With
 * a MaxUsers bound the whole list is needed first (nothing is used). */
static size_t rows(dva_read *r, const dva_job *j, const dva_reply *reply)
{
    (void)j;
    stream_state *st = r->max_users == SIZE_MAX ? state_of(r) : NULL;
    if (st == NULL)
        return 0;
    size_t n = dva_reply_rows(reply);
    if (n > st->cap) {
        size_t cap = st->cap * 2 > n ? st->cap * 2 : n;
        dva_quota_row *grown = realloc(st->rows, cap * sizeof(*grown));
        if (grown == NULL)
            return 0; /* kept: the reply's end decodes them */
        st->rows = grown;
        st->cap = cap;
    }
    dva_error err;
    if (dva_quota_decode_rows(reply, 0, n, st->rows, &err) < 0)
        return 0;        /* the reply's end fails with this row's message */
    size_t complete = n; /* the last user's rows may go on */
    while (complete > 0 &&
           strcmp(st->rows[complete - 1].user, st->rows[n - 1].user) == 0)
        complete--;
    st->listed += add_users(r, st->rows, complete);
    return complete;
}

/* False, with why, when the reply lists nobody: it does not decode, or
 * has no rows (and no part before it had). */
static bool list_users(dva_read *r, const char *where, dva_error *why)
{
    dva_scrape_result *res = dva_read_result(r);
    stream_state *st = *dva_read_state(r, &dva_collect_quota_all);
    size_t listed = st != NULL ? st->listed : 0;
    dva_quota all = {0};
    dva_error err;
    if (dva_quota_decode(&res->quota_all_reply, NULL, &all, &err) < 0) {
        dva_fail(why, err.code, "%s: the reply to 'quota get -A': %s", where,
                 err.message);
        return false;
    }
    if (all.nrows == 0 && listed == 0) {
        dva_quota_free(&all);
        dva_fail(why, DVA_ERR_PROTOCOL,
                 "%s: 'quota get -A' without a user answered no rows", where);
        return false;
    }
    if (listed == 0)
        bound(r, &all);
    add_users(r, all.rows, all.nrows);
    dva_quota_free(&all);
    return true;
}

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    dva_scrape_result *res = dva_read_result(r);
    dva_error why;
    if (dva_read_outcome(r)->error.code == DVA_OK) {
        dva_read_take_reply(r, &res->quota_all_reply);
        if (list_users(r, where, &why))
            return;
    } else {
        why = dva_read_outcome(r)->error; /* names the server and the status */
    }
    dva_step_fail(&res->quota_all_step, &why);
    if (dva_read_in_time(r))
        dva_read_source(r, &dva_collect_users, j->arg);
    else
        dva_step_fail(&res->users_step, &why);
}

static void fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    (void)j;
    dva_step_fail(&dva_read_result(r)->users_step, err);
}

static void finish(dva_read *r)
{
    stream_state *st = *dva_read_state(r, &dva_collect_quota_all);
    if (st != NULL)
        free(st->rows);
    free(st);
}

const dva_collector dva_collect_quota_all = {
    .name = "quota get -A",
    .when = DVA_COLLECT_PER_USER,
    .answers = DVA_ANSWER_STATUS,
    .request = request,
    .rows = rows,
    .answer = answer,
    .fail = fail,
    .finish = finish,
};
