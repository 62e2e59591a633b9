/* SPDX-License-Identifier: MIT */
/* The generation probe (PROTOCOL.md 6.7): with DovecotVersion auto and
 * per-user steps, `oldstats dump global` on a connection of its own tells
 * the generation before any per-user request, since the per-user form
 * depends on it. Its answer, whatever it is, starts the per-user steps;
 * the generation is what its reply and those before it showed. */
#include "read.h"

static bool enabled(const dva_read *r)
{
    return dva_read_plan(r)->quota || dva_read_plan(r)->mailbox;
}

static void start(dva_read *r, size_t user)
{
    (void)user;
    if (dva_read_generation(r) != DVA_GEN_AUTO ||
        !dva_read_solo(r, &dva_collect_probe, 0))
        dva_read_start_per_user(r);
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)r, (void)j, (void)username, (void)err;
    dva_generation_probe_command(cmd);
    return 0;
}

/* A failed probe tells nothing; the per-user requests will say whether
 * the server is down, unless the probe took the read's whole time. */
static void answer(dva_read *r, const dva_job *j, const char *where)
{
    (void)j, (void)where;
    const dva_error *err = &dva_read_outcome(r)->error;
    dva_read_decide_generation(r);
    if (!dva_read_in_time(r) && err->code != DVA_OK && err->code != DVA_ERR_COMMAND)
        dva_read_skip_per_user(r, err);
    else
        dva_read_start_per_user(r);
}

/* Not sent: start() goes on without it. */
static void fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    (void)r, (void)j, (void)err;
}

const dva_collector dva_collect_probe = {
    .name = "oldstats dump global",
    .when = DVA_COLLECT_AT_START,
    .answers = DVA_ANSWER_ALL,
    .enabled = enabled,
    .connections = dva_collect_one_connection,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = fail,
};
