/* SPDX-License-Identifier: MIT */
/* `stats dump -f` (the statistics of Dovecot 2.3 and later) into
 * result->stats: one server-wide request on a connection of its own. */
#include "read.h"

static bool enabled(const dva_read *r)
{
    return dva_read_plan(r)->stats;
}

static void start(dva_read *r, size_t user)
{
    (void)user;
    const char *why =
        dva_generation_info_of(dva_read_plan(r)->generation)->no_stats_dump;
    if (why != NULL)
        dva_step_unsupported(&dva_read_result(r)->stats_step, why);
    else
        dva_read_solo(r, &dva_collect_stats, 0);
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)r, (void)j, (void)username, (void)err;
    dva_stats_command(cmd);
    return 0;
}

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    (void)j;
    dva_scrape_result *res = dva_read_result(r);
    dva_error err;
    dva_read_take_reply(r, &res->stats_reply);
    res->stats_step.attempted = true;
    if (dva_stats_decode(&res->stats_reply, &res->stats, &err) < 0)
        dva_step_decode_failed(&res->stats_step, &err, where, "stats dump", NULL);
}

static void fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    (void)j;
    dva_step_fail(&dva_read_result(r)->stats_step, err);
}

const dva_collector dva_collect_stats = {
    .name = "stats dump",
    .when = DVA_COLLECT_AT_START,
    .enabled = enabled,
    .connections = dva_collect_one_connection,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = fail,
};
