/* Dovecot server generations and what each one speaks over doveadm.
 *
 * 2.2: old statistics are `stats dump <scope>`; failure statuses may be
 *      numeric ("-75"); no `stats dump -f` (the 2.3 statistics).
 * 2.3: `stats dump -f` (new statistics) and, with the old_stats plugin,
 *      `oldstats dump <scope>`.
 * 2.4: no old statistics at all; `-A` iterates all users on the server;
 *      `who -1` has more columns; statuses CHANGED, EXPIRED, REFERRAL.
 *
 * DVA_GEN_AUTO means "not known yet": dva_generation_observe() narrows it
 * from what a server has answered (see version.c for the signals). */
#ifndef DOVEADM_VERSION_H
#define DOVEADM_VERSION_H

#include <stdbool.h>

#include "doveadm/reply.h"

typedef enum {
    DVA_GEN_AUTO = 0, /* unknown: detect */
    DVA_GEN_22,
    DVA_GEN_23,
    DVA_GEN_24,
} dva_generation;

/* "auto", "2.2", "2.3", "2.4". */
const char *dva_generation_name(dva_generation gen);
/* Parses "auto", "2.2", "2.3", "2.4" (a patch level is accepted and ignored:
 * "2.3.19"). Returns false for anything else. */
bool dva_generation_parse(const char *text, dva_generation *out);

/* What a reply tells about the generation of the server that sent it:
 * DVA_GEN_AUTO when it tells nothing. cmd is the command name sent
 * ("oldstats dump", "who", ...). */
dva_generation dva_generation_observe(const char *cmd, const dva_reply *reply);

#endif
