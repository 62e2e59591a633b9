/* Server generations: names and the detection signals.
 *
 * Signals, from the most to the least reliable:
 * - a status code sent as digits ("-75", "-64"): only 2.2's doveadm server
 *   printed exit codes as numbers; 2.3 and 2.4 print names
 *   (doveadm/client-connection-tcp.c, doveadm_cmd_server_post()).
 * - CHANGED, EXPIRED or REFERRAL: codes 2.4 added to doveadm-util.c's
 *   exit_code_strings (REFERRAL also exists in late 2.3 for proxying, but
 *   a monitored backend does not send it, so it is taken as 2.4).
 * - `oldstats dump` answered with a bare "-": the doveadm server's answer to
 *   an unknown command. 2.3 always has the command (its failure to reach
 *   the old-stats service is a fatal error: the connection closes without
 *   a status), 2.2 names it `stats dump`, so the bare "-" means 2.4, where
 *   old-stats was removed.
 * - `oldstats dump` succeeding: 2.3.
 * A successful `stats dump -f`, `who` or `quota get` looks the same on 2.3
 * and 2.4 and tells nothing: auto then stays undecided and the 2.3 commands
 * (which 2.4 also understands) are used. */
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

dva_generation dva_generation_observe(const char *cmd, const dva_reply *reply)
{
    if (reply == NULL)
        return DVA_GEN_AUTO;
    const char *text = reply->status_text;
    if (reply->status != DVA_STATUS_OK && text[0] >= '0' && text[0] <= '9')
        return DVA_GEN_22;
    switch (reply->status) {
    case DVA_STATUS_CHANGED:
    case DVA_STATUS_EXPIRED:
    case DVA_STATUS_REFERRAL:
        return DVA_GEN_24;
    default:
        break;
    }
    if (cmd != NULL && strcmp(cmd, "oldstats dump") == 0) {
        if (reply->status == DVA_STATUS_FAILED)
            return DVA_GEN_24;
        if (reply->status == DVA_STATUS_OK)
            return DVA_GEN_23;
    }
    return DVA_GEN_AUTO;
}
