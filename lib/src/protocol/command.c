/* SPDX-License-Identifier: MIT */
#include "doveadm/command.h"

dva_request dva_command_request(const dva_command *cmd, const char *username, void *tag)
{
    dva_request req = {
        .username = username,
        .argv = cmd->argv,
        .argc = cmd->argc,
        .flags = 0,
        .ncols = cmd->ncols,
        .tag = tag,
    };
    return req;
}
