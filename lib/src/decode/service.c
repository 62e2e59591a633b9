/* SPDX-License-Identifier: MIT */
/* `service status` (doveadm/doveadm-service-status.c in Dovecot's source;
 * PROTOCOL.md section 7): 13 columns per service, numbers as %u/%ld and
 * the three booleans as "y" or "n". Seen alike on 2.3.19 and 2.4.1
 * (tests/data/captures/health/). */
#include "doveadm/health.h"

#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

#define WHAT "service status"

static int decode_bool(const dva_reply *reply, size_t r, size_t col, const char *column,
                       bool *out, dva_error *err)
{
    char q[DVA_QUOTE_MAX];
    const char *v = dva_decode_cstr(reply, r, col, true, WHAT, column, err);

    if (v == NULL)
        return -1;
    if (strcmp(v, "y") == 0 || strcmp(v, "n") == 0) {
        *out = v[0] == 'y';
        return 0;
    }
    return dva_fail(err, DVA_ERR_DECODE,
                    "Row %zu of the " WHAT " reply has an invalid %s column: expected "
                    "y or n, got \"%s\".",
                    r + 1, column, dva_quote(q, sizeof(q), v, strlen(v)));
}

static int decode_row(const dva_reply *reply, size_t r, void *out, dva_error *err)
{
    dva_service_row *row = out;
    static const char *const names[] = {"process_count",        "process_avail",
                                        "process_limit",        "client_limit",
                                        "throttle_secs",        "exit_failure_last",
                                        "exit_failures_in_sec", "last_drop_warning"};
    uint64_t *nums[] = {&row->process_count,        &row->process_avail,
                        &row->process_limit,        &row->client_limit,
                        &row->throttle_secs,        &row->exit_failure_last,
                        &row->exit_failures_in_sec, &row->last_drop_warning};

    row->name = dva_decode_cstr(reply, r, 0, true, WHAT, "name", err);
    if (row->name == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (dva_decode_u64(reply, r, 1 + i, WHAT, names[i], nums[i], err) < 0)
            return -1;
    if (decode_bool(reply, r, 9, "listen_pending", &row->listen_pending, err) < 0 ||
        decode_bool(reply, r, 10, "listening", &row->listening, err) < 0 ||
        decode_bool(reply, r, 11, "doveadm_stop", &row->doveadm_stop, err) < 0)
        return -1;
    return dva_decode_u64(reply, r, 12, WHAT, "process_total", &row->process_total,
                          err);
}

int dva_services_decode(const dva_reply *reply, dva_services *out, dva_error *err)
{
    out->rows = NULL;
    out->nrows = 0;
    void *rows;
    if (dva_decode_rows(reply, DVA_SERVICE_NCOLS, DVA_HEALTH_MAX_ROWS, WHAT,
                        sizeof(dva_service_row), decode_row, &rows, &out->nrows,
                        err) < 0)
        return -1;
    out->rows = rows;
    return 0;
}

void dva_services_free(dva_services *s)
{
    if (s == NULL)
        return;
    free(s->rows);
    s->rows = NULL;
    s->nrows = 0;
}
