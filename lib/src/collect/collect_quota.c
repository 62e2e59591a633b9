/* SPDX-License-Identifier: MIT */
/* `quota get` per user, pipelined on the mail connections, in the
 * per-user form of the generation (PROTOCOL.md 6.7): NAMED rows must name
 * the request's user, PLAIN rows are credited to it. Users read by a
 * server-side scan or by 2.4's all-user request get no request here. */
#include <stdlib.h>

#include "read.h"

static bool enabled(const dva_read *r)
{
    return dva_read_plan(r)->quota;
}

static void start(dva_read *r, size_t user)
{
    if (dva_collect_scan_wanted(dva_read_plan(r)) ||
        dva_read_result(r)->users[user].quota_step.attempted)
        return;
    dva_read_mail(r, &dva_collect_quota, user, 0);
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)err;
    dva_quota_command(cmd, dva_generation_user_rows(dva_read_generation(r)));
    *username = dva_read_result(r)->users[j->user].name;
    return 0;
}

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    dva_scrape_user *u = &dva_read_result(r)->users[j->user];
    dva_error err;
    u->quota_step.attempted = true;
    if (u->quota_reply == NULL && (u->quota_reply = malloc(sizeof(dva_reply))) != NULL)
        dva_reply_init(u->quota_reply);
    if (u->quota_reply == NULL) {
        dva_fail(&err, DVA_ERR_NOMEM, "out of memory");
        dva_user_step_fail(&u->quota_step, &err);
        return;
    }
    dva_read_take_reply(r, u->quota_reply);
    if (dva_quota_decode(u->quota_reply, u->name, &u->quota, &err) < 0) {
        dva_user_step_decode_failed(&u->quota_step, &err, where, "quota get", u->name);
        dva_read_doubt_generation(r);
        return;
    }
    dva_read_deliver_quota(r, j->user);
}

static void fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    dva_user_step_fail(&dva_read_result(r)->users[j->user].quota_step, err);
}

const dva_collector dva_collect_quota = {
    .name = "quota get",
    .when = DVA_COLLECT_EACH_USER,
    .enabled = enabled,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = fail,
};
