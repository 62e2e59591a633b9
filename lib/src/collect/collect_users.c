/* SPDX-License-Identifier: MIT */
/* The user lists (PROTOCOL.md 6.4): `user <mask>` for each mask the plan
 * names, each on a connection of its own; every user it lists is added
 * to the read (and its per-user requests queued). Where the generation
 * table says `quota get -A` lists every user (2.4), the mask "*" is read
 * with that one request instead (collect_quota_all.c). */
#include <stdint.h>
#include <string.h>

#include "doveadm/userlist.h"
#include "read.h"

static bool enabled(const dva_read *r)
{
    const dva_scrape_plan *p = dva_read_plan(r);
    return (p->quota || p->mailbox) && p->nuser_masks > 0;
}

static size_t connections(const dva_read *r)
{
    const dva_scrape_plan *p = dva_read_plan(r);
    return p->quota || p->mailbox ? p->nuser_masks : 0;
}

static void start(dva_read *r, size_t user)
{
    (void)user;
    const dva_scrape_plan *p = dva_read_plan(r);
    bool quota_all =
        p->quota &&
        dva_generation_info_of(dva_read_generation(r))->quota_lists_all_users;
    for (size_t m = 0; m < p->nuser_masks; m++) {
        /* One request instead of `user *` and one request per user. */
        if (quota_all && strcmp(p->user_masks[m], "*") == 0) {
            dva_read_source(r, &dva_collect_quota_all, m);
            quota_all = false;
            continue;
        }
        dva_read_source(r, &dva_collect_users, m);
    }
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)username;
    if (dva_userlist_command(cmd, dva_read_plan(r)->user_masks[j->arg]) < 0)
        return dva_fail(err, DVA_ERR_USAGE, "user mask is too long");
    return 0;
}

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    (void)j;
    dva_scrape_result *res = dva_read_result(r);
    dva_userlist list = {0};
    dva_error err;
    res->users_step.attempted = true;
    /* No bound here but the reply's size (dva_limits): past max_users the
     * read keeps a part of the users (dva_read_bound_users()). */
    if (dva_userlist_decode(&dva_read_outcome(r)->reply, SIZE_MAX, &list, &err) < 0) {
        dva_step_decode_failed(&res->users_step, &err, where, "user", NULL);
        return;
    }
    dva_read_bound_users(r, (const char *const *)list.users, list.nusers);
    for (size_t i = 0; i < list.nusers; i++)
        dva_read_add_user(r, list.users[i]);
    dva_userlist_free(&list);
}

static void fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    (void)j;
    dva_step_fail(&dva_read_result(r)->users_step, err);
}

const dva_collector dva_collect_users = {
    .name = "user",
    .when = DVA_COLLECT_PER_USER,
    .enabled = enabled,
    .connections = connections,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = fail,
};
