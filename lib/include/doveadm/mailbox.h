/* SPDX-License-Identifier: MIT */
/* `mailbox status [-A] <fields> <mask>` for one user: rows of (with -A)
 * the user, then the mailbox and the numeric fields in the order
 * requested. The per-user form is chosen as for quota (command.h). */
#ifndef DOVEADM_MAILBOX_H
#define DOVEADM_MAILBOX_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_DECODE)
#error "doveadm/mailbox.h belongs to the decode layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stdint.h>

/* The request, its field list and DVA_MAILBOX_MAX_FIELDS: commands.h. */
#include "doveadm/commands.h"

typedef struct {
    const char *user;
    const char *mailbox;
    uint64_t values[DVA_MAILBOX_MAX_FIELDS]; /* in the requested order */
} dva_mailbox_row;

typedef struct {
    dva_mailbox_row *rows;
    size_t nrows;
    size_t nfields;
} dva_mailbox_status;

/* The reply's width tells the form. Named rows must name expected_user
 * (ASCII case ignored; NULL: any); plain rows are credited to it (they
 * need it).
 * firstsaved of a mailbox never saved to is sent as "never" and decoded as
 * 0 (accepted in the last column only, where firstsaved always is). */
int dva_mailbox_decode(const dva_reply *reply, size_t nfields,
                       const char *expected_user, dva_mailbox_status *out,
                       dva_error *err);
void dva_mailbox_free(dva_mailbox_status *status);

#endif
