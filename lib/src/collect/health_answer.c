/* SPDX-License-Identifier: MIT */
/* What the server-health collectors (collect_service.c, collect_process.c,
 * collect_indexer.c, collect_penalty.c) share: each decodes its one reply
 * into a block of its own in dva_read_collected(). */
#include "health_answer.h"

#include <stdlib.h>

void dva_health_answer(dva_read *r, const dva_job *j, const char *where,
                       const dva_health_kind *kind)
{
    dva_collected *out = dva_read_collected(r, j->collector);
    dva_error err;

    if (out == NULL)
        return;
    dva_read_take_reply(r, &out->reply);
    /* A bare "-" with no rows: the server does not know the command
     * (PROTOCOL.md section 7; 2.3.19 for `indexer list`). */
    if (out->reply.status == DVA_STATUS_FAILED && out->reply.nvalues == 0) {
        dva_step_unsupported(&out->step, kind->unknown);
        return;
    }
    out->step.attempted = true;
    void *data = calloc(1, kind->size);
    if (data == NULL) {
        dva_fail(&err, DVA_ERR_NOMEM, "Out of memory decoding '%s'.", kind->command);
        dva_step_fail(&out->step, &err);
        return;
    }
    if (kind->decode(&out->reply, data, &err) < 0) {
        free(data);
        dva_step_decode_failed(&out->step, &err, where, kind->command, NULL);
        return;
    }
    out->data = data;
    out->free_data = kind->free_data;
}

void dva_health_fail(dva_read *r, const dva_job *j, const dva_error *err)
{
    dva_collected *out = dva_read_collected(r, j->collector);
    if (out != NULL)
        dva_step_fail(&out->step, err);
}
