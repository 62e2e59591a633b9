/* `mailbox status [-A] <fields> <mask>` for one user: rows of (with -A)
 * the user, then the mailbox and the numeric fields in the order
 * requested. The per-user form is chosen as for quota (command.h). */
#ifndef DOVEADM_MAILBOX_H
#define DOVEADM_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "doveadm/command.h"

#define DVA_MAILBOX_MAX_FIELDS 8

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

/* True for the numeric fields this library accepts: messages, recent,
 * uidnext, uidvalidity, unseen, highestmodseq, vsize, firstsaved. */
bool dva_mailbox_field_valid(const char *field);

/* Sent with the user as username, in the per-user form rows. Fails
 * (DVA_ERR_USAGE) on an unknown or repeated field, too many fields, or an
 * empty mask. Dovecot prints the fields in the fixed order listed above
 * whatever order they are asked in, so fields out of that order also
 * fail (values can then never land in the wrong slot); so do a mask
 * starting with '-' (the server would take it for an option) and one too
 * long for cmd->storage. */
int dva_mailbox_command(dva_command *cmd, const char *const *fields, size_t nfields,
                        const char *mask, dva_user_rows rows, dva_error *err);

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
