/* SPDX-License-Identifier: MIT */
/* Dovecot server generations and what each one speaks over doveadm: the
 * one table of generation rules (protocol/generation.c), read by the
 * command builders, the decoders and the collectors.
 *
 * 2.2: old statistics are `stats dump <scope>`; failure statuses may be
 *      numeric ("-75"); no `stats dump -f` (the 2.3 statistics).
 * 2.3: `stats dump -f` (new statistics) and, with the old_stats plugin,
 *      `oldstats dump <scope>`.
 * 2.4: no old statistics at all; `indexer list`; `-A` iterates all users on the server;
 *      `who -1` has more columns; statuses CHANGED, EXPIRED, REFERRAL.
 *
 * DVA_GEN_AUTO means "not known yet": dva_generation_decide() narrows it
 * from what a server has answered (generation.c lists the signals). */
#ifndef DOVEADM_GENERATION_H
#define DOVEADM_GENERATION_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_PROTOCOL)
#error "doveadm/generation.h belongs to the protocol layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "doveadm/command.h"
#include "doveadm/reply.h"

typedef enum {
    DVA_GEN_AUTO = 0, /* unknown: detect */
    DVA_GEN_22,
    DVA_GEN_23,
    DVA_GEN_24,
} dva_generation;

/* Columns of `who -1` (PROTOCOL.md section 7): user, service, pid, ip on
 * 2.3; 2.4 adds dest_ip, then one column per alternative username field
 * of the server (their count is not sent). */
#define DVA_WHO_SESSIONS_NCOLS 4
#define DVA_WHO_SESSIONS_24_NCOLS 5
#define DVA_WHO_MAX_ALT_FIELDS 8

/* What one generation speaks; AUTO's row is what a read sends before the
 * generation is known. */
typedef struct {
    dva_generation gen;
    const char *name; /* "auto", "2.2", "2.3", "2.4" */
    /* The per-user row form (PROTOCOL.md 6.7): NAMED (`-A`) where the
     * server answers it for the request's user alone, else PLAIN. */
    dva_user_rows user_rows;
    /* `quota get -A` without a username lists every user (6.3, 9). */
    bool quota_lists_all_users;
    /* NULL: `stats dump -f` exists; else why it is not sent. */
    const char *no_stats_dump;
    /* NULL: `indexer list` exists; else why it is not sent. */
    const char *no_indexer_list;
    /* Old statistics: the command, or NULL and why not. */
    const char *oldstats_command;
    const char *no_oldstats;
    /* The generation whose old-stats columns a read of this one expects
     * (AUTO reads them as 2.3), its default stats fields, and the scopes
     * (bits of dva_oldstats_scope) with num_connected_sessions. */
    dva_generation oldstats_as;
    const char *const *oldstats_fields;
    size_t noldstats_fields;
    unsigned oldstats_sessions_scopes;
    /* `who -1`: its fixed columns; alt_fields: more may follow, which the
     * decoder must count (the request then leaves ncols 0). */
    size_t who_sessions_ncols;
    bool who_sessions_alt_fields;
} dva_generation_info;

/* The row of gen (any value: an unknown one gets AUTO's). */
const dva_generation_info *dva_generation_info_of(dva_generation gen);

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
/* The name dva_generation_note() takes for a command sent: its name, and
 * "stats dump -f" for the 2.3 statistics. */
const char *dva_generation_signal(const dva_command *cmd);
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
