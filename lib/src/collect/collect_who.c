/* SPDX-License-Identifier: MIT */
/* `who` into result->who and its per-service summary: one server-wide
 * request on a connection of its own. */
#include "read.h"

static bool enabled(const dva_read *r)
{
    return dva_read_plan(r)->who;
}

static void start(dva_read *r, size_t user)
{
    (void)user;
    dva_read_solo(r, &dva_collect_who, 0);
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)r, (void)j, (void)username, (void)err;
    dva_who_command(cmd);
    return 0;
}

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    (void)j;
    dva_scrape_result *res = dva_read_result(r);
    dva_error err;
    dva_read_take_reply(r, &res->who_reply);
    res->who_step.attempted = true;
    if (dva_who_decode(&res->who_reply, &res->who, &err) < 0 ||
        dva_who_summarize(&res->who, &res->who_summary, &err) < 0)
        dva_step_decode_failed(&res->who_step, &err, where, "who", NULL);
}

static void fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    (void)j;
    dva_step_fail(&dva_read_result(r)->who_step, err);
}

const dva_collector dva_collect_who = {
    .name = "who",
    .when = DVA_COLLECT_AT_START,
    .enabled = enabled,
    .connections = dva_collect_one_connection,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = fail,
};
