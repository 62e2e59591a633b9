/* Server generations: names and the detection signals.
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
#include "doveadm/version.h"

#include <string.h>

const char *dva_generation_name(dva_generation gen)
{
    switch (gen) {
    case DVA_GEN_AUTO:
        return "auto";
    case DVA_GEN_22:
        return "2.2";
    case DVA_GEN_23:
        return "2.3";
    case DVA_GEN_24:
        return "2.4";
    }
    return "?";
}

bool dva_generation_parse(const char *text, dva_generation *out)
{
    static const struct {
        const char *name;
        dva_generation gen;
    } names[] = {{"2.2", DVA_GEN_22}, {"2.3", DVA_GEN_23}, {"2.4", DVA_GEN_24}};

    if (text == NULL)
        return false;
    if (strcmp(text, "auto") == 0) {
        *out = DVA_GEN_AUTO;
        return true;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i].name);
        if (strncmp(text, names[i].name, n) != 0)
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
        *out = names[i].gen;
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
    return gen == DVA_GEN_22 || gen == DVA_GEN_23 ? DVA_ROWS_NAMED : DVA_ROWS_PLAIN;
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
