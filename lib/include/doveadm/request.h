/* SPDX-License-Identifier: MIT */
/* One request line (PROTOCOL.md section 3) as the client takes it: who it
 * runs as, the command and its arguments, and how to cut the reply into
 * rows. A type of its own so that the command builders and decoders need
 * nothing of the client. */
#ifndef DOVEADM_REQUEST_H
#define DOVEADM_REQUEST_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_PROTOCOL)
#error "doveadm/request.h belongs to the protocol layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *username;    /* NULL or "": a server-wide command */
    const char *const *argv; /* command name first ("quota get"), then args */
    size_t argc;
    char flags;   /* 0, 'v' (verbose) or 'D' (debug) */
    size_t ncols; /* row width of the reply; 0: values are not cut */
    void *tag;    /* returned untouched in the result */
    /* Streamed: the rows of the reply come as they arrive (DVA_RECV_ROWS
     * in client.h), so a long reply is never held whole. Needs ncols. */
    bool stream;
} dva_request;

#endif
