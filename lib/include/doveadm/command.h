/* A prepared command: argv plus the reply's row width, with its own storage
 * so builders need no allocation. Turn it into a dva_request with
 * dva_command_request(); the client copies what it needs at send time. */
#ifndef DOVEADM_COMMAND_H
#define DOVEADM_COMMAND_H

#include <stddef.h>

#include "doveadm/client.h"

#define DVA_COMMAND_MAX_ARGS 16
#define DVA_COMMAND_STORAGE 512

typedef struct {
    const char *argv[DVA_COMMAND_MAX_ARGS];
    size_t argc;
    size_t ncols;
    char storage[DVA_COMMAND_STORAGE]; /* for joined arguments */
} dva_command;

/* A request for cmd run as username (NULL: server-wide), with tag. */
dva_request dva_command_request(const dva_command *cmd, const char *username,
                                void *tag);

#endif
