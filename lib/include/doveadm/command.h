/* SPDX-License-Identifier: MIT */
/* A prepared command: argv plus the reply's row width, with its own storage
 * so builders need no allocation. Turn it into a dva_request with
 * dva_command_request(); the client copies what it needs at send time. */
#ifndef DOVEADM_COMMAND_H
#define DOVEADM_COMMAND_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_PROTOCOL)
#error "doveadm/command.h belongs to the protocol layer (doc/ARCHITECTURE.md)"
#endif

#include <stddef.h>

#include "doveadm/request.h"

#define DVA_COMMAND_MAX_ARGS 16
#define DVA_COMMAND_STORAGE 512

typedef struct {
    const char *argv[DVA_COMMAND_MAX_ARGS];
    size_t argc;
    size_t ncols;
    char storage[DVA_COMMAND_STORAGE]; /* for joined arguments */
} dva_command;

/* How the rows of a per-user mail command (`quota get`, `mailbox status`)
 * show whose they are (doc/PROTOCOL.md, "Per-user requests"):
 * - DVA_ROWS_NAMED: the request carries `-A`, and every row starts with the
 *   username, which the decoder checks. Dovecot 2.2 and 2.3 answer `-A`
 *   for the request's user only.
 * - DVA_ROWS_PLAIN: no `-A`; the rows have no username column and are the
 *   request's user's. Dovecot 2.4 lists EVERY user for `-A`, so this is its
 *   only per-user form; every generation answers it for that user alone. */
typedef enum { DVA_ROWS_NAMED, DVA_ROWS_PLAIN } dva_user_rows;

/* A request for cmd run as username (NULL: server-wide), with tag. */
dva_request dva_command_request(const dva_command *cmd, const char *username,
                                void *tag);

#endif
