/* SPDX-License-Identifier: MIT */
/* Server generations: the table of what each one speaks, names, and the
 * detection signals.
 *
 * Signals (all from the status line of a reply):
 * - a numeric code for a server-wide command: 2.2. 2.3 and 2.4 name every
 *   code of a server-wide command (doveadm/client-connection-tcp.c,
 *   doveadm_cmd_server_post(), doveadm_exit_code_to_str()). Mail commands
 *   printed "-%u" up to early 2.3 (doveadm_mail_cmd_server_run()), so a
 *   numeric code there tells nothing.
 * - CHANGED, EXPIRED or REFERRAL: 2.4 (doveadm-util.c's exit_code_strings;
 *   REFERRAL also exists in late 2.3 proxies, which are not monitored
 *   backends).
 * - `oldstats dump` succeeding: 2.3 (2.2 calls it `stats dump <scope>`,
 *   2.4 removed it).
 * - `oldstats dump` answered with a bare "-" (the server's answer to an
 *   unknown command; 2.3 always has the command, and without the
 *   old_stats plugin it still succeeds, with empty keyed scopes, seen on
 *   2.3.19): 2.4 or 2.2. `stats dump -f` tells them apart: it succeeds on
 *   2.4 and fails on 2.2 (whose `stats dump` wants a scope and has no -f).
 *   With no `stats dump -f` in the read, 2.4 is assumed.
 * Successful `stats dump -f`, `who` and plain `quota get` look the same on
 * 2.3 and 2.4 and decide nothing. `oldstats dump global` is therefore the
 * probe (dva_generation_probe_command()) that DovecotVersion auto sends
 * before any per-user request. */
#include "doveadm/generation.h"

#include <string.h>

/* Dovecot's stats fields of the old statistics, after the fixed columns:
 * 2.3: the mail fields of src/plugins/old-stats/mail-stats.c and the auth
 * fields of src/auth/auth-stats.c; 2.2: MAIL_STATS_HEADER of
 * src/stats/client-export.c (no clock_time, no auth fields). */
static const char *const oldstats_fields_23[] = {
    "user_cpu",         "sys_cpu",
    "clock_time",       "min_faults",
    "maj_faults",       "vol_cs",
    "invol_cs",         "disk_input",
    "disk_output",      "read_count",
    "read_bytes",       "write_count",
    "write_bytes",      "mail_lookup_path",
    "mail_lookup_attr", "mail_read_count",
    "mail_read_bytes",  "mail_cache_hits",
    "auth_successes",   "auth_master_successes",
    "auth_failures",    "auth_db_tempfails",
    "auth_cache_hits",  "auth_cache_misses"};

static const char *const oldstats_fields_22[] = {
    "user_cpu",         "sys_cpu",          "min_faults",      "maj_faults",
    "vol_cs",           "invol_cs",         "disk_input",      "disk_output",
    "read_count",       "read_bytes",       "write_count",     "write_bytes",
    "mail_lookup_path", "mail_lookup_attr", "mail_read_count", "mail_read_bytes",
    "mail_cache_hits"};

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* Bits of dva_oldstats_scope: global 0, domain 1, user 2, ip 3. */
#define SCOPE_BIT(n) (1u << (n))

/* One row per generation, in dva_generation order. */
static const dva_generation_info table[] = {
    {
        .gen = DVA_GEN_AUTO,
        .name = "auto",
        .user_rows = DVA_ROWS_PLAIN,
        .oldstats_command = "oldstats dump",
        .oldstats_as = DVA_GEN_23,
        .oldstats_fields = oldstats_fields_23,
        .noldstats_fields = N(oldstats_fields_23),
        .oldstats_sessions_scopes = SCOPE_BIT(0) | SCOPE_BIT(1) | SCOPE_BIT(3),
        .who_sessions_ncols = DVA_WHO_SESSIONS_NCOLS,
    },
    {
        .gen = DVA_GEN_22,
        .name = "2.2",
        .user_rows = DVA_ROWS_NAMED,
        .no_stats_dump = "stats dump -f (the statistics of Dovecot 2.3 and later) "
                         "does not exist on Dovecot 2.2; read its old statistics "
                         "with OldStats instead",
        .no_indexer_list = "Dovecot 2.2 has no `indexer list` (the command came "
                           "with 2.4)",
        .oldstats_command = "stats dump",
        .oldstats_as = DVA_GEN_22,
        .oldstats_fields = oldstats_fields_22,
        .noldstats_fields = N(oldstats_fields_22),
        .oldstats_sessions_scopes = SCOPE_BIT(0),
        .who_sessions_ncols = DVA_WHO_SESSIONS_NCOLS,
    },
    {
        .gen = DVA_GEN_23,
        .name = "2.3",
        .user_rows = DVA_ROWS_NAMED,
        /* 2.3.19 answers it with a bare "-" (PROTOCOL.md section 7). */
        .no_indexer_list = "Dovecot 2.3 has no `indexer list` (the command came "
                           "with 2.4)",
        .oldstats_command = "oldstats dump",
        .oldstats_as = DVA_GEN_23,
        .oldstats_fields = oldstats_fields_23,
        .noldstats_fields = N(oldstats_fields_23),
        .oldstats_sessions_scopes = SCOPE_BIT(0) | SCOPE_BIT(1) | SCOPE_BIT(3),
        .who_sessions_ncols = DVA_WHO_SESSIONS_NCOLS,
    },
    {
        .gen = DVA_GEN_24,
        .name = "2.4",
        .user_rows = DVA_ROWS_PLAIN,
        .quota_lists_all_users = true,
        .no_oldstats = "Dovecot 2.4 has no old statistics (old_stats and "
                       "`oldstats dump` were removed); use CollectStats",
        .oldstats_as = DVA_GEN_24,
        .who_sessions_ncols = DVA_WHO_SESSIONS_24_NCOLS,
        .who_sessions_alt_fields = true,
    },
};

const dva_generation_info *dva_generation_info_of(dva_generation gen)
{
    return (unsigned)gen < N(table) ? &table[gen] : &table[DVA_GEN_AUTO];
}

const char *dva_generation_name(dva_generation gen)
{
    return (unsigned)gen < N(table) ? table[gen].name : "?";
}

bool dva_generation_parse(const char *text, dva_generation *out)
{
    if (text == NULL)
        return false;
    if (strcmp(text, "auto") == 0) {
        *out = DVA_GEN_AUTO;
        return true;
    }
    for (size_t i = DVA_GEN_22; i < N(table); i++) {
        size_t n = strlen(table[i].name);
        if (strncmp(text, table[i].name, n) != 0)
            continue;
        /* "2.3" or "2.3.<digits>" */
        const char *rest = text + n;
        if (*rest == '.') {
            rest++;
            if (*rest == '\0')
                return false;
            while (*rest >= '0' && *rest <= '9')
                rest++;
        }
        if (*rest != '\0')
            return false;
        *out = table[i].gen;
        return true;
    }
    return false;
}

static bool numeric_code(const dva_reply *reply)
{
    const char *t = reply->status_text;
    return reply->status != DVA_STATUS_OK && t[0] >= '0' && t[0] <= '9';
}

void dva_generation_note(dva_generation_evidence *ev, const char *cmd, bool server_wide,
                         const dva_reply *reply)
{
    if (reply == NULL || cmd == NULL)
        return;
    if (server_wide && numeric_code(reply))
        ev->numeric = true;
    if (reply->status == DVA_STATUS_CHANGED || reply->status == DVA_STATUS_EXPIRED ||
        reply->status == DVA_STATUS_REFERRAL)
        ev->code24 = true;
    if (strcmp(cmd, "oldstats dump") == 0) {
        ev->oldstats_ok = ev->oldstats_ok || reply->status == DVA_STATUS_OK;
        ev->oldstats_unknown =
            ev->oldstats_unknown || reply->status == DVA_STATUS_FAILED;
    } else if (strcmp(cmd, "stats dump -f") == 0) {
        ev->stats_ok = ev->stats_ok || reply->status == DVA_STATUS_OK;
        ev->stats_failed = ev->stats_failed || reply->status != DVA_STATUS_OK;
    }
}

dva_generation dva_generation_decide(const dva_generation_evidence *ev, const char **by)
{
    const char *why = NULL;
    dva_generation g = DVA_GEN_AUTO;
    if (ev->numeric) {
        g = DVA_GEN_22;
        why = "a server-wide command (numeric status)";
    } else if (ev->code24) {
        g = DVA_GEN_24;
        why = "a mail command (2.4 status code)";
    } else if (ev->oldstats_ok) {
        g = DVA_GEN_23;
        why = "oldstats dump";
    } else if (ev->oldstats_unknown && ev->stats_failed && !ev->stats_ok) {
        g = DVA_GEN_22;
        why = "oldstats dump and stats dump -f (both unknown)";
    } else if (ev->oldstats_unknown) {
        g = DVA_GEN_24;
        why = "oldstats dump (unknown command)";
    }
    if (by != NULL)
        *by = why;
    return g;
}

dva_user_rows dva_generation_user_rows(dva_generation gen)
{
    return dva_generation_info_of(gen)->user_rows;
}

const char *dva_generation_signal(const dva_command *cmd)
{
    if (cmd->argc >= 2 && strcmp(cmd->argv[0], "stats dump") == 0 &&
        strcmp(cmd->argv[1], "-f") == 0)
        return "stats dump -f";
    return cmd->argc > 0 ? cmd->argv[0] : "";
}

void dva_generation_probe_command(dva_command *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->argv[0] = "oldstats dump";
    cmd->argv[1] = "global";
    cmd->argc = 2;
    cmd->ncols = 0; /* only the status line matters */
}

const char *dva_status_hint(dva_status status)
{
    switch (status) {
    case DVA_STATUS_FAILED:
        return "a bare \"-\": the server does not know this command (for example "
               "oldstats dump on Dovecot 2.4) or failed without a code";
    case DVA_STATUS_NUMERIC:
        return "a numeric code: an exit code of Dovecot 2.2";
    case DVA_STATUS_CHANGED:
        return "Dovecot 2.4: the data changed while the command ran";
    case DVA_STATUS_EXPIRED:
        return "Dovecot 2.4: the request expired before it completed";
    case DVA_STATUS_REFERRAL:
        return "Dovecot 2.4: another server holds this user; read it there";
    default:
        return NULL;
    }
}
