/* SPDX-License-Identifier: MIT */
/* `indexer list` (2.4): the indexer's queued requests. One server-wide request on a
 * connection of its own (PROTOCOL.md 6.1); the decoded dva_indexer goes to
 * dva_read_collected() (scrape.h). */
#include "health_answer.h"

#include <stdlib.h>

static bool enabled(const dva_read *r)
{
    return dva_read_plan(r)->indexer;
}

static void start(dva_read *r, size_t user)
{
    (void)user;
    const char *why =
        dva_generation_info_of(dva_read_plan(r)->generation)->no_indexer_list;
    if (why != NULL) {
        dva_collected *out = dva_read_collected(r, &dva_collect_indexer);
        if (out != NULL)
            dva_step_unsupported(&out->step, why);
        return;
    }
    dva_read_solo(r, &dva_collect_indexer, 0);
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)r, (void)j, (void)username, (void)err;
    dva_indexer_list_command(cmd);
    return 0;
}

static int decode(const dva_reply *reply, void *out, dva_error *err)
{
    return dva_indexer_decode(reply, out, err);
}

static void free_data(void *data)
{
    dva_indexer_free(data);
    free(data);
}

static const dva_health_kind kind = {
    .command = "indexer list",
    .unknown =
        "the server does not know `indexer list` (Dovecot 2.3 and older lack it)",
    .size = sizeof(dva_indexer),
    .decode = decode,
    .free_data = free_data,
};

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    dva_health_answer(r, j, where, &kind);
}

const dva_collector dva_collect_indexer = {
    .name = "indexer list",
    .when = DVA_COLLECT_AT_START,
    .answers = DVA_ANSWER_STATUS,
    .enabled = enabled,
    .connections = dva_collect_one_connection,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = dva_health_fail,
};
