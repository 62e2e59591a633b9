/* SPDX-License-Identifier: MIT */
/* `service status`: the master's service pools, one row per service. One server-wide
 * request on a connection of its own (PROTOCOL.md 6.1); the decoded dva_services goes
 * to dva_read_collected() (scrape.h). */
#include "health_answer.h"

#include <stdlib.h>

static bool enabled(const dva_read *r)
{
    return dva_read_plan(r)->services;
}

static void start(dva_read *r, size_t user)
{
    (void)user;
    dva_read_solo(r, &dva_collect_services, 0);
}

static int request(dva_read *r, const dva_job *j, dva_command *cmd,
                   const char **username, dva_error *err)
{
    (void)r, (void)j, (void)username, (void)err;
    dva_service_status_command(cmd);
    return 0;
}

static int decode(const dva_reply *reply, void *out, dva_error *err)
{
    return dva_services_decode(reply, out, err);
}

static void free_data(void *data)
{
    dva_services_free(data);
    free(data);
}

static const dva_health_kind kind = {
    .command = "service status",
    .unknown = "the server does not know `service status`",
    .size = sizeof(dva_services),
    .decode = decode,
    .free_data = free_data,
};

static void answer(dva_read *r, const dva_job *j, const char *where)
{
    dva_health_answer(r, j, where, &kind);
}

const dva_collector dva_collect_services = {
    .name = "service status",
    .when = DVA_COLLECT_AT_START,
    .answers = DVA_ANSWER_STATUS,
    .enabled = enabled,
    .connections = dva_collect_one_connection,
    .start = start,
    .request = request,
    .answer = answer,
    .fail = dva_health_fail,
};
