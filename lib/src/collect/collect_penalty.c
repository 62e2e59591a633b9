/* SPDX-License-Identifier: MIT */
/* `penalty`: the IPs anvil holds an auth penalty for. One server-wide request on a
 * connection of its own (PROTOCOL.md 6.1); the decoded dva_penalties goes to
 * dva_read_collected() (scrape.h). */
#include "health_answer.h"

#include <stdlib.h>

static bool enabled(const dva_read *r)
{
    return dva_read_plan(r)->penalty;
}

static void start(dva_read *r, size_t user)
{
    (void)user;
    dva_read_solo(r, &dva_collect_penalty, 0);
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)r, (void)j, (void)username, (void)err;
    dva_penalty_command(cmd);
    return 0;
}

static int decode(const dva_reply *reply, void *out, dva_error *err)
{
    return dva_penalties_decode(reply, out, err);
}

static void free_data(void *data)
{
    dva_penalties_free(data);
    free(data);
}

static const dva_health_kind kind = {
    .command = "penalty",
    .unknown = "the server does not know `penalty`",
    .size = sizeof(dva_penalties),
    .decode = decode,
    .free_data = free_data,
};

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    dva_health_answer(r, j, where, &kind);
}

const dva_collector dva_collect_penalty = {
    .name = "penalty",
    .when = DVA_COLLECT_AT_START,
    .answers = DVA_ANSWER_STATUS,
    .enabled = enabled,
    .connections = dva_collect_one_connection,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = dva_health_fail,
};
