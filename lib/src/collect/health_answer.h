/* SPDX-License-Identifier: MIT */
/* Shared by the server-health collectors: see health_answer.c. */
#ifndef DVA_COLLECT_HEALTH_ANSWER_H
#define DVA_COLLECT_HEALTH_ANSWER_H

#include <stddef.h>

#include "read.h"

typedef struct {
    const char *command; /* for messages */
    const char *unknown; /* why not read, when the server lacks the command */
    size_t size;         /* of the decoded struct */
    int (*decode)(const dva_reply *reply, void *out, dva_error *err);
    void (*free_data)(void *data); /* frees the rows and the struct */
} dva_health_kind;

/* answer(): the reply into dva_read_collected(r, j->collector), decoded
 * with kind (the step fails with the decoder's error; a bare "-" marks it
 * unsupported). */
void dva_health_answer(dva_read *r, const dva_job *j, const char *where,
                       const dva_health_kind *kind);
/* fail(): marks the collector's step. */
void dva_health_fail(dva_read *r, const dva_job *j, const dva_error *err);

#endif
