/* SPDX-License-Identifier: MIT */
/* `quota get` for one user, in either per-user form (command.h,
 * dva_user_rows): with `-A` every row starts with the user it belongs to,
 * and the decoder refuses rows naming anyone else; without it the rows are
 * the request user's. Either way a value can never be credited to the
 * wrong user (PROTOCOL.md section 6.3). */
#ifndef DOVEADM_QUOTA_H
#define DOVEADM_QUOTA_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_DECODE)
#error "doveadm/quota.h belongs to the decode layer (doc/ARCHITECTURE.md)"
#endif

#include <stdbool.h>
#include <stdint.h>

/* The requests and their columns (DVA_QUOTA_NCOLS): commands.h. */
#include "doveadm/commands.h"

typedef enum { DVA_QUOTA_STORAGE, DVA_QUOTA_MESSAGE, DVA_QUOTA_OTHER } dva_quota_type;

/* Bytes per unit of a STORAGE value or limit: Dovecot sends KiB. */
#define DVA_QUOTA_STORAGE_UNIT 1024

typedef struct {
    const char *user;      /* the row's, or the request's (plain rows) */
    const char *root;      /* quota root name, e.g. "User quota" */
    const char *type_name; /* as sent: "STORAGE", "MESSAGE", ... */
    dva_quota_type type;
    bool error;     /* the server could not compute it ("error" values) */
    bool unlimited; /* limit "-": no limit (never report it as 0) */
    uint64_t value; /* STORAGE: KiB as sent (rounded up); MESSAGE: count */
    uint64_t limit; /* same unit as value; 0 when unlimited */
    uint64_t percent;
} dva_quota_row;

typedef struct {
    dva_quota_row *rows;
    size_t nrows;
} dva_quota;

/* Decodes a successful reply, or a -TEMPFAIL reply whose rows include
 * "error" ones (Dovecot 2.3.19 prints the rows, then fails the command when
 * a resource could not be computed; any other failure is DVA_ERR_COMMAND).
 * The reply's width (as the request set it) tells the form. Named rows
 * must name expected_user (compared ignoring ASCII case) or the decode
 * fails with DVA_ERR_DECODE; NULL accepts any user (server-side
 * iteration). Plain rows are credited to expected_user, which they need.
 * Strings point into reply (user: into expected_user for plain rows). */
int dva_quota_decode(const dva_reply *reply, const char *expected_user, dva_quota *out,
                     dva_error *err);
void dva_quota_free(dva_quota *quota);

/* Rows first .. first + n - 1 of a reply with a username column whose
 * status is not known yet (a streamed reply, client.h), into rows (n of
 * them); any user is accepted, the caller credits them. 0, or -1 with err
 * (row numbers count from the rows the reply still holds). Strings point
 * into reply. */
int dva_quota_decode_rows(const dva_reply *reply, size_t first, size_t n,
                          dva_quota_row *rows, dva_error *err);

#endif
