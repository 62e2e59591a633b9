/* SPDX-License-Identifier: MIT */
/* The requests the library sends, each built into a dva_command with the
 * row width of its reply (PROTOCOL.md sections 3 and 7). Where a form
 * depends on the generation, the caller passes what the generation table
 * (generation.h) says. The decoders of the replies are in stats.h, who.h,
 * quota.h, mailbox.h, userlist.h and health.h; the old-statistics command is built
 * from its column layout in oldstats.h. */
#ifndef DOVEADM_COMMANDS_H
#define DOVEADM_COMMANDS_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_PROTOCOL)
#error "doveadm/commands.h belongs to the protocol layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "doveadm/command.h"
#include "doveadm/error.h"
#include "doveadm/generation.h"

/* `stats dump -f <DVA_STATS_FIELDS>`: metric_name, field, then these. */
#define DVA_STATS_FIELDS "count,sum,min,max,avg,median,stddev,%95"
#define DVA_STATS_NCOLS 10
#define DVA_WHO_NCOLS 5         /* user, connections, service, (pids), (ips) */
#define DVA_QUOTA_NCOLS 6       /* user, root, type, value, limit, percent */
#define DVA_QUOTA_NCOLS_PLAIN 5 /* the same without the user */
#define DVA_MAILBOX_MAX_FIELDS 8
/* The server-health commands (decoded in health.h). */
#define DVA_SERVICE_NCOLS 13 /* name ... process_total */
#define DVA_PROCESS_NCOLS 7  /* name pid available_count ... last_kill_sent */
#define DVA_INDEXER_NCOLS 6  /* username mailbox session_id max_recent type status */
#define DVA_PENALTY_NCOLS 4  /* IP penalty last_penalty last_update */

/* Server-wide: `stats dump -f ...` (never -r, which resets the counters
 * for every reader), `who`, `who -1`. */
void dva_stats_command(dva_command *cmd);
void dva_who_command(dva_command *cmd);
void dva_who_sessions_command(dva_command *cmd);
/* `who -1` for a generation: where more columns may follow (2.4) the rows
 * are cut by the decoder (ncols 0). */
void dva_who_sessions_command_gen(dva_command *cmd, dva_generation gen);

/* Server-wide: `service status`, `process status`, `indexer list` (2.4),
 * `penalty`. */
void dva_service_status_command(dva_command *cmd);
void dva_process_status_command(dva_command *cmd);
void dva_indexer_list_command(dva_command *cmd);
void dva_penalty_command(dva_command *cmd);

/* `quota get` in the given per-user form, to be sent with the user as the
 * request's username. DVA_ROWS_NAMED with no username is 2.4's all-user
 * `quota get -A`. */
void dva_quota_command(dva_command *cmd, dva_user_rows rows);
/* `quota get -F <path>` (PROTOCOL.md 6.5): server-wide, rows of
 * DVA_QUOTA_NCOLS with the username first. -1 when the path does not fit
 * or is not absolute. */
int dva_scan_command(dva_command *cmd, const char *path);

/* True for the numeric fields this library accepts: messages, recent,
 * uidnext, uidvalidity, unseen, highestmodseq, vsize, firstsaved. */
bool dva_mailbox_field_valid(const char *field);
/* `mailbox status [-A] <fields> <mask>`, sent with the user as username,
 * in the per-user form rows. Fails (DVA_ERR_USAGE) on an unknown or
 * repeated field, too many fields, or an empty mask. Dovecot prints the
 * fields in the fixed order listed above whatever order they are asked
 * in, so fields out of that order also fail (values can then never land
 * in the wrong slot); so do a mask starting with '-' (the server would
 * take it for an option) and one too long for cmd->storage. */
int dva_mailbox_command(dva_command *cmd, const char *const *fields, size_t nfields,
                        const char *mask, dva_user_rows rows, dva_error *err);

/* `user <mask>` (e.g. "*", "*@example.com"): a server-wide command. The
 * mask is copied into cmd. Returns 0, or -1 with cmd emptied (argc 0, which
 * dva_client_send() refuses) for a NULL or empty mask, one starting with
 * '-' (the server would take it for an option), or one longer than
 * DVA_COMMAND_STORAGE - 1 bytes. */
int dva_userlist_command(dva_command *cmd, const char *mask);

#endif
