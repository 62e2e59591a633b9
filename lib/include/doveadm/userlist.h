/* SPDX-License-Identifier: MIT */
/* `user <mask>`: the server answers one value, a JSON object
 * {"userList":["a@x","b@x"]}. Parsed strictly for this one shape, so no
 * JSON library is needed. */
#ifndef DOVEADM_USERLIST_H
#define DOVEADM_USERLIST_H

#if defined(DVA_LAYER_BUILD) && !defined(DVA_SEES_DECODE)
#error "doveadm/userlist.h belongs to the decode layer (doc/ARCHITECTURE.md)"
#endif

#include <stddef.h>

/* The request: commands.h. */
#include "doveadm/commands.h"

typedef struct {
    char **users;  /* NUL-terminated UTF-8, pointing into strings */
    char *strings; /* owned: every name, back to back */
    size_t nusers;
} dva_userlist;

/* Parses the JSON text; at most max_users names (DVA_ERR_LIMIT beyond). */
int dva_userlist_parse(const char *json, size_t len, size_t max_users,
                       dva_userlist *out, dva_error *err);
/* Decodes a successful reply (exactly one value). */
int dva_userlist_decode(const dva_reply *reply, size_t max_users, dva_userlist *out,
                        dva_error *err);
void dva_userlist_free(dva_userlist *list);

#endif
