/* `who -1` of Dovecot 2.4 (src/doveadm/doveadm-who.c, cmd_who() with -1):
 * headers username, service, pid, ip, dest_ip, then one per
 * alternative username field of the anvil iterator
 * (iter->alt_username_fields), a count the client cannot know. The rows
 * are therefore cut here: of the widths 5..5+DVA_WHO_MAX_ALT_FIELDS, the
 * smallest whose every row has a non-empty user and service and a numeric
 * pid in place. Rows of a wrong width put a user name or an ip where the
 * pid belongs. */
#include <stdlib.h>
#include <string.h>

#include "decode_util.h"
#include "doveadm/who.h"

#define WHAT "who -1"

void dva_who_sessions_command_gen(dva_command *cmd, dva_generation gen)
{
    dva_who_sessions_command(cmd);
    if (gen == DVA_GEN_24)
        cmd->ncols = 0;
}

static const char *cell(const dva_reply *reply, size_t index)
{
    size_t len;
    const char *v = dva_reply_value(reply, index, &len);
    return v != NULL && strlen(v) == len ? v : NULL;
}

static bool width_fits(const dva_reply *reply, size_t width)
{
    if (reply->nvalues % width != 0)
        return false;
    for (size_t r = 0; r < reply->nvalues / width; r++) {
        const char *user = cell(reply, r * width);
        const char *service = cell(reply, r * width + 1);
        const char *pid = cell(reply, r * width + 2);
        uint64_t n;
        if (user == NULL || *user == '\0' || service == NULL || *service == '\0' ||
            pid == NULL || !dva_parse_u64(pid, &n) || n == 0)
            return false;
    }
    return true;
}

int dva_who_sessions_decode_gen(const dva_reply *reply, dva_generation gen,
                                dva_who_sessions *out, dva_error *err)
{
    bool nomem;

    if (gen != DVA_GEN_24)
        return dva_who_sessions_decode(reply, out, err);
    out->rows = NULL;
    out->nrows = 0;
    if (reply->status != DVA_STATUS_OK)
        return dva_fail(err, DVA_ERR_COMMAND, WHAT " failed: %s",
                        dva_status_name(reply->status));
    if (reply->nvalues == 0)
        return 0;
    /* The smallest width that fits: k rows of width w also fit one row of
     * width k * w, but the converse needs an all-digit alternative
     * username exactly where a pid would be. */
    size_t width = 0;
    for (size_t w = DVA_WHO_SESSIONS_24_NCOLS;
         width == 0 && w <= DVA_WHO_SESSIONS_24_NCOLS + DVA_WHO_MAX_ALT_FIELDS; w++)
        if (width_fits(reply, w))
            width = w;
    if (width == 0)
        return dva_fail(err, DVA_ERR_DECODE,
                        "The " WHAT " reply (%zu values) fits no Dovecot 2.4 row "
                        "width from %d to %d columns.",
                        reply->nvalues, DVA_WHO_SESSIONS_24_NCOLS,
                        DVA_WHO_SESSIONS_24_NCOLS + DVA_WHO_MAX_ALT_FIELDS);
    size_t nrows = reply->nvalues / width;
    dva_who_session *rows = dva_calloc_rows(nrows, sizeof(*rows), &nomem);
    if (nomem)
        return dva_fail(err, DVA_ERR_NOMEM, "Out of memory for %zu " WHAT " rows.",
                        nrows);
    for (size_t r = 0; r < nrows; r++) {
        dva_who_session *row = &rows[r];
        const char *v[DVA_WHO_SESSIONS_24_NCOLS + DVA_WHO_MAX_ALT_FIELDS];
        for (size_t c = 0; c < width; c++) {
            v[c] = cell(reply, r * width + c);
            if (v[c] == NULL) {
                free(rows);
                return dva_fail(err, DVA_ERR_DECODE,
                                "Row %zu of the " WHAT " reply has a NUL byte in "
                                "column %zu.",
                                r + 1, c + 1);
            }
        }
        row->user = v[0];
        row->service = v[1];
        row->pid = v[2];
        row->ip = v[3];
        row->dest_ip = v[4];
        row->nalt = width - DVA_WHO_SESSIONS_24_NCOLS;
        for (size_t a = 0; a < row->nalt; a++)
            row->alt[a] = v[DVA_WHO_SESSIONS_24_NCOLS + a];
    }
    out->rows = rows;
    out->nrows = nrows;
    return 0;
}
