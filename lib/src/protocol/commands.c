/* SPDX-License-Identifier: MIT */
/* The requests of the commands the library reads (PROTOCOL.md sections 3
 * and 7); `mailbox status`, which checks its field list, has a file of
 * its own (mailbox_command.c). Each fills a dva_command with its reply's
 * row width, the one fact its decoder relies on. */
#include "doveadm/commands.h"

#include <string.h>

void dva_stats_command(dva_command *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = "stats dump";
    cmd->argv[1] = "-f";
    cmd->argv[2] = DVA_STATS_FIELDS;
    cmd->argc = 3;
    cmd->ncols = DVA_STATS_NCOLS;
}

void dva_who_command(dva_command *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = "who";
    cmd->argc = 1;
    cmd->ncols = DVA_WHO_NCOLS;
}

void dva_who_sessions_command(dva_command *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = "who";
    cmd->argv[1] = "-1";
    cmd->argc = 2;
    cmd->ncols = DVA_WHO_SESSIONS_NCOLS;
}

void dva_who_sessions_command_gen(dva_command *cmd, dva_generation gen)
{
    const dva_generation_info *g = dva_generation_info_of(gen);
    dva_who_sessions_command(cmd);
    cmd->ncols = g->who_sessions_alt_fields ? 0 : g->who_sessions_ncols;
}

void dva_quota_command(dva_command *cmd, dva_user_rows rows)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = "quota get";
    cmd->argc = 1;
    cmd->ncols = DVA_QUOTA_NCOLS_PLAIN;
    if (rows == DVA_ROWS_NAMED) {
        cmd->argv[cmd->argc++] = "-A";
        cmd->ncols = DVA_QUOTA_NCOLS;
    }
}

int dva_scan_command(dva_command *cmd, const char *path)
{
    memset(cmd, 0, sizeof(*cmd));
    size_t len = path == NULL ? 0 : strlen(path);
    if (len == 0 || path[0] != '/' || len >= sizeof(cmd->storage))
        return -1;
    memcpy(cmd->storage, path, len + 1);
    cmd->argv[0] = "quota get";
    cmd->argv[1] = "-F";
    cmd->argv[2] = cmd->storage;
    cmd->argc = 3;
    cmd->ncols = DVA_QUOTA_NCOLS;
    return 0;
}

int dva_userlist_command(dva_command *cmd, const char *mask)
{
    memset(cmd, 0, sizeof(*cmd));
    if (mask == NULL || mask[0] == '\0' || mask[0] == '-')
        return -1;
    size_t len = strlen(mask);
    if (len >= sizeof(cmd->storage))
        return -1;
    memcpy(cmd->storage, mask, len + 1);
    cmd->argv[0] = "user";
    cmd->argv[1] = cmd->storage;
    cmd->argc = 2;
    cmd->ncols = 1;
    return 0;
}

/* A command without arguments; its name is one field over the protocol,
 * words and all ("service status", like "stats dump"). */
static void plain_command(dva_command *cmd, const char *name, size_t ncols)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = name;
    cmd->argc = 1;
    cmd->ncols = ncols;
}

void dva_service_status_command(dva_command *cmd)
{
    plain_command(cmd, "service status", DVA_SERVICE_NCOLS);
}

void dva_process_status_command(dva_command *cmd)
{
    plain_command(cmd, "process status", DVA_PROCESS_NCOLS);
}

void dva_indexer_list_command(dva_command *cmd)
{
    plain_command(cmd, "indexer list", DVA_INDEXER_NCOLS);
}

void dva_penalty_command(dva_command *cmd)
{
    plain_command(cmd, "penalty", DVA_PENALTY_NCOLS);
}
