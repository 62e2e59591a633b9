/* SPDX-License-Identifier: MIT */
/* `process status` (doveadm/doveadm-service-status.c in Dovecot's source;
 * PROTOCOL.md section 7): 7 columns per process, all but the service name
 * numbers. A pid of 0 is refused: it names no process, and the plugin
 * tells restarts by the pids (2.3.19 and 2.4.1 alike, captures in
 * tests/data/captures/health/). */
#include "doveadm/health.h"

#include <stdlib.h>

#include "decode_util.h"

#define WHAT "process status"

static int decode_row(const dva_reply *reply, size_t r, void *out, dva_error *err)
{
    dva_process_row *row = out;
    static const char *const names[] = {
        "pid",        "available_count",    "total_count",
        "idle_start", "last_status_update", "last_kill_sent"};
    uint64_t *nums[] = {
        &row->pid,        &row->available_count,    &row->total_count,
        &row->idle_start, &row->last_status_update, &row->last_kill_sent};

    row->name = dva_decode_cstr(reply, r, 0, true, WHAT, "name", err);
    if (row->name == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (dva_decode_u64(reply, r, 1 + i, WHAT, names[i], nums[i], err) < 0)
            return -1;
    if (row->pid == 0)
        return dva_fail(err, DVA_ERR_DECODE,
                        "Row %zu of the " WHAT " reply has pid 0, which names no "
                        "process.",
                        r + 1);
    return 0;
}

int dva_processes_decode(const dva_reply *reply, dva_processes *out, dva_error *err)
{
    out->rows = NULL;
    out->nrows = 0;
    void *rows;
    if (dva_decode_rows(reply, DVA_PROCESS_NCOLS, DVA_HEALTH_MAX_ROWS, WHAT,
                        sizeof(dva_process_row), decode_row, &rows, &out->nrows,
                        err) < 0)
        return -1;
    out->rows = rows;
    return 0;
}

void dva_processes_free(dva_processes *p)
{
    if (p == NULL)
        return;
    free(p->rows);
    p->rows = NULL;
    p->nrows = 0;
}
