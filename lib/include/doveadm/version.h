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

#include "doveadm/command.h"
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

/* What one read's replies showed; fill with dva_generation_note(), then
 * ask dva_generation_decide(). Zero-initialise. */
typedef struct {
    bool numeric;          /* a numeric code on a server-wide command */
    bool code24;           /* CHANGED, EXPIRED or REFERRAL */
    bool oldstats_ok;      /* `oldstats dump` succeeded */
    bool oldstats_unknown; /* `oldstats dump` answered a bare "-" */
    bool stats_ok;         /* `stats dump -f` succeeded */
    bool stats_failed;     /* `stats dump -f` answered a failure status */
} dva_generation_evidence;

/* Notes the reply to cmd ("oldstats dump", "stats dump -f", "who", ...);
 * server_wide: the request had no username. */
void dva_generation_note(dva_generation_evidence *ev, const char *cmd, bool server_wide,
                         const dva_reply *reply);
/* The generation the evidence shows, or AUTO; *by (if not NULL) names the
 * command whose reply decided. */
dva_generation dva_generation_decide(const dva_generation_evidence *ev,
                                     const char **by);

/* The per-user row form to use with gen: DVA_ROWS_NAMED for 2.2 and 2.3,
 * DVA_ROWS_PLAIN for 2.4 and for a generation not known yet (that form
 * is answered for the request's user alone by every generation). */
dva_user_rows dva_generation_user_rows(dva_generation gen);

/* The request that tells the generation before any per-user request is
 * sent: `oldstats dump global`, server-wide, on a connection of its own.
 * 2.3 answers it, 2.4 (and 2.2) answer a bare "-" (unknown command); note
 * its reply as "oldstats dump". */
void dva_generation_probe_command(dva_command *cmd);

/* A short explanation of a failure status for logs ("the server does not
 * know this command ..."), or NULL when its name says it all. */
const char *dva_status_hint(dva_status status);

#endif
