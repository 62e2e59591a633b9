/* SPDX-License-Identifier: MIT */
/* 2.4's all-user `quota get -A` without a username (PROTOCOL.md 6.3, 9):
 * the server iterates its users and names each one in its rows. Sent by
 * the user lists (collect_users.c) for the mask "*". Users known already
 * (configured ones, which have their own request) are skipped; the others
 * are added with their rows. A server that does not iterate users for it
 * (2.3 answers NOUSER) is read as 2.3 is, in this same read: `user *`,
 * then one request per user; quota_all_step says why. */
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

/* Gives user u its rows (a run of all's rows). */
static void credit(dva_scrape_user *user, const dva_quota_row *rows, size_t n)
{
    user->quota_step.attempted = true;
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
static size_t run_end(const dva_quota *all, size_t i)
{
    size_t end = i + 1;
    while (end < all->nrows && strcmp(all->rows[end].user, all->rows[i].user) == 0)
        end++;
    return end;
}

/* The users of the reply, one name per run, against max_users. */
static void bound(dva_read *r, const dva_quota *all)
{
    size_t n = 0;
    for (size_t i = 0; i < all->nrows; i = run_end(all, i))
        n++;
    const char **names = malloc((n > 0 ? n : 1) * sizeof(*names));
    if (names == NULL)
        return; /* the bound in dva_read_new_user() holds still */
    n = 0;
    for (size_t i = 0; i < all->nrows; i = run_end(all, i))
        names[n++] = all->rows[i].user;
    dva_read_bound_users(r, names, n);
    free(names);
}

/* False, with why, when the reply lists nobody: it does not decode, or
 * has no rows. */
static bool list_users(dva_read *r, const char *where, dva_error *why)
{
    dva_scrape_result *res = dva_read_result(r);
    dva_quota all = {0};
    dva_error err;
    if (dva_quota_decode(&res->quota_all_reply, NULL, &all, &err) < 0) {
        dva_fail(why, err.code, "%s: the reply to 'quota get -A': %s", where,
                 err.message);
        return false;
    }
    if (all.nrows == 0) {
        dva_quota_free(&all);
        dva_fail(why, DVA_ERR_PROTOCOL,
                 "%s: 'quota get -A' without a user answered no rows", where);
        return false;
    }
    res->users_step.attempted = true;
    size_t first_new = res->nusers;
    bound(r, &all);
    /* The server prints each user's rows together: one run per user. A
     * run of a user known already (configured, or a second run of one
     * seen in this reply) is skipped. O(rows). */
    for (size_t i = 0, end; i < all.nrows; i = end) {
        const char *name = all.rows[i].user;
        end = run_end(&all, i);
        if (dva_read_knows_user(r, name))
            continue;
        long u = dva_read_new_user(r, name);
        if (u >= 0)
            credit(&res->users[u], &all.rows[i], end - i);
    }
    /* Their other per-user requests (their quota is read already). */
    for (size_t u = first_new; u < res->nusers; u++)
        dva_read_announce_user(r, u);
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

const dva_collector dva_collect_quota_all = {
    .name = "quota get -A",
    .when = DVA_COLLECT_PER_USER,
    .answers = DVA_ANSWER_STATUS,
    .request = request,
    .answer = answer,
    .fail = fail,
};
